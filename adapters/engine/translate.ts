/**
 * Runs a compiled mapping, partner → canonical (`readCanonical`) or canonical → partner (`writePartner`).
 * The same rules serve both directions; the body model hides whether the partner speaks XML or JSON.
 * Errors name the place on both sides (`RECORDS/RECORD/ATTRS/ATTR[2]/AMOUNT`, `materials[1].size`),
 * never a value.
 */
import type { CanonicalDocument } from '../canonical.ts';
import { isJsonObject, type BodyModel, type JsonObject } from './body-model.ts';
import { untranslatable } from './errors.ts';
import { isPrototypeName } from './hardening.ts';
import type { CanonicalPath, PartnerPath } from './paths.ts';
import type { EntriesRule, MappingRule } from './rules.ts';
import { evaluate, partnerScalar } from './scalar.ts';

/** Where the rules of one scope sit, for error messages. */
interface Place {
  readonly context: string;
  readonly partner: string;
  readonly canonical: string;
}

function partnerAt(place: Place, path: PartnerPath): string {
  const inner = path.text;
  return `${place.context}: ${place.partner === '' ? inner : inner === '.' ? place.partner : `${place.partner}/${inner}`}`;
}

function canonicalAt(place: Place, path: CanonicalPath): string {
  return place.canonical === '' ? path.text : `${place.canonical}.${path.text}`;
}

function both(place: Place, rule: { partner: PartnerPath; canonical: CanonicalPath }): string {
  return `${partnerAt(place, rule.partner)} (canonical ${canonicalAt(place, rule.canonical)})`;
}

function itemPlace(place: Place, rule: { partner: PartnerPath; canonical: CanonicalPath }, index: number): Place {
  const partner = place.partner === '' ? rule.partner.text : `${place.partner}/${rule.partner.text}`;
  return { context: place.context, partner: `${partner}[${index + 1}]`, canonical: `${canonicalAt(place, rule.canonical)}[${index}]` };
}

function getCanonical(scope: JsonObject, path: CanonicalPath, where: string): unknown {
  let current: unknown = scope;
  for (const [index, key] of path.keys.entries()) {
    if (!isJsonObject(current)) throw untranslatable(`${where}: ${path.keys.slice(0, index).join('.')} is not an object`);
    current = Object.hasOwn(current, key) ? current[key] : undefined;
    if (current === undefined || current === null) return undefined;
  }
  return current;
}

function setCanonical(scope: JsonObject, path: CanonicalPath, value: unknown): void {
  let parent = scope;
  for (const key of path.keys.slice(0, -1)) {
    const next = parent[key];
    parent = isJsonObject(next) ? next : (parent[key] = {}) as JsonObject;
  }
  parent[path.keys[path.keys.length - 1]!] = value;
}

/** Map keys become property names on the other side: the same refusal as for JSON keys. */
function checkMapKey(key: string, where: string): void {
  if (isPrototypeName(key)) throw untranslatable(`${where}: the key ${key} is not accepted`);
}

async function read<S>(rules: readonly MappingRule[], model: BodyModel<S>, scope: S, target: JsonObject, place: Place): Promise<void> {
  for (const rule of rules) {
    switch (rule.kind) {
      case 'value': {
        const where = both(place, rule);
        const raw = model.read(scope, rule.partner, where);
        if (raw === undefined) {
          if (!rule.optional) throw untranslatable(`${where}: is missing`);
        } else {
          setCanonical(target, rule.canonical, await rule.codec.toCanonical(raw, where));
        }
        break;
      }
      case 'const': {
        const where = partnerAt(place, rule.partner);
        const raw = model.read(scope, rule.partner, where);
        if (raw === undefined ? !rule.optional : raw !== rule.value) {
          throw untranslatable(`${where}: must be ${JSON.stringify(rule.value)}`);
        }
        break;
      }
      case 'computed':
        break;
      case 'each': {
        const where = both(place, rule);
        const items = model.items(scope, rule.partner, where);
        if (items === undefined && (rule.optional || !model.missingListIsEmpty)) {
          if (!rule.optional) throw untranslatable(`${where}: is missing`);
          break;
        }
        const list: JsonObject[] = [];
        for (const [index, item] of (items ?? []).entries()) {
          const object: JsonObject = {};
          await read(rule.rules, model, item, object, itemPlace(place, rule, index));
          list.push(object);
        }
        setCanonical(target, rule.canonical, list);
        break;
      }
      case 'entries': {
        const where = both(place, rule);
        const entryAt = (index: number): string => `${partnerAt(place, rule.partner)}[${index + 1}] (canonical ${canonicalAt(place, rule.canonical)})`;
        const entries = readEntries(model, scope, rule, where, entryAt);
        if (entries === undefined && (rule.optional || !model.missingListIsEmpty)) {
          if (!rule.optional) throw untranslatable(`${where}: is missing`);
          break;
        }
        const map = new Map<string, string>();
        for (const [key, value] of entries ?? []) {
          if (typeof key !== 'string' || typeof value !== 'string') throw untranslatable(`${where}: keys and values must be strings`);
          checkMapKey(key, where);
          if (map.has(key)) throw untranslatable(`${where}: a key occurs more than once`);
          map.set(key, value);
        }
        setCanonical(target, rule.canonical, Object.fromEntries(map));
        break;
      }
    }
  }
}

function readEntries<S>(
  model: BodyModel<S>, scope: S, rule: EntriesRule, where: string, entryAt: (index: number) => string,
): Array<[unknown, unknown]> | undefined {
  const { entry } = rule;
  if (entry === undefined) return model.objectEntries(scope, rule.partner, where);
  return model.items(scope, rule.partner, where)?.map((item, index) => {
    const at = entryAt(index);
    const key = model.read(item, entry.key, at);
    const value = model.read(item, entry.value, at);
    if (key === undefined || value === undefined) throw untranslatable(`${at}: an entry needs ${entry.key.text} and ${entry.value.text}`);
    return [key, value];
  });
}

async function write<S>(rules: readonly MappingRule[], model: BodyModel<S>, scope: S, source: JsonObject, place: Place): Promise<void> {
  for (const rule of rules) {
    switch (rule.kind) {
      case 'value': {
        const where = both(place, rule);
        const value = getCanonical(source, rule.canonical, where);
        if (value === undefined) {
          if (!rule.optional) throw untranslatable(`${where}: is missing`);
        } else {
          model.write(scope, rule.partner, await rule.codec.toPartner(value, where), where);
        }
        break;
      }
      case 'const':
        model.write(scope, rule.partner, rule.value, partnerAt(place, rule.partner));
        break;
      case 'computed': {
        const where = partnerAt(place, rule.partner);
        const result = await evaluate(rule.toPartner, source, where);
        if (result !== undefined) model.write(scope, rule.partner, partnerScalar(result, where), where);
        break;
      }
      case 'each': {
        const where = both(place, rule);
        const list = getCanonical(source, rule.canonical, where);
        if (list === undefined) {
          if (!rule.optional) throw untranslatable(`${where}: is missing`);
          break;
        }
        if (!Array.isArray(list)) throw untranslatable(`${where}: must be an array`);
        if (list.length === 0) model.writeEmptyList(scope, rule.partner);
        for (const [index, item] of list.entries()) {
          if (!isJsonObject(item)) throw untranslatable(`${where}[${index}]: must be an object`);
          await write(rule.rules, model, model.addItem(scope, rule.partner), item, itemPlace(place, rule, index));
        }
        break;
      }
      case 'entries': {
        const where = both(place, rule);
        const map = getCanonical(source, rule.canonical, where);
        if (map === undefined) {
          if (!rule.optional) throw untranslatable(`${where}: is missing`);
          break;
        }
        if (!isJsonObject(map)) throw untranslatable(`${where}: must be an object`);
        const entries = Object.entries(map).map(([key, value]): [string, string] => {
          if (typeof value !== 'string') throw untranslatable(`${where}: values must be strings`);
          checkMapKey(key, where);
          return [key, value];
        });
        if (rule.entry === undefined) {
          model.writeObject(scope, rule.partner, Object.fromEntries(entries));
        } else {
          if (entries.length === 0) model.writeEmptyList(scope, rule.partner);
          for (const [key, value] of entries) {
            const item = model.addItem(scope, rule.partner);
            model.write(item, rule.entry.key, key, where);
            model.write(item, rule.entry.value, value, where);
          }
        }
        break;
      }
    }
  }
}

export async function readCanonical<S>(rules: readonly MappingRule[], model: BodyModel<S>, root: S, context: string, rootLabel: string): Promise<CanonicalDocument> {
  const document: JsonObject = {};
  await read(rules, model, root, document, { context, partner: rootLabel, canonical: '' });
  return document;
}

export async function writePartner<S>(rules: readonly MappingRule[], model: BodyModel<S>, root: S, document: CanonicalDocument, context: string, rootLabel: string): Promise<void> {
  await write(rules, model, root, document, { context, partner: rootLabel, canonical: '' });
}

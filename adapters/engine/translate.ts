/**
 * Runs a compiled mapping, partner → canonical (`readCanonical`) or canonical → partner (`writePartner`).
 * The same rules serve both directions; the body model hides whether the partner speaks XML or JSON.
 * Errors name the place on both sides (`RECORDS/RECORD/ATTRS/ATTR[2]/AMOUNT`, `materials[1].size`),
 * never a value.
 */
import type { CanonicalDocument } from '../canonical.ts';
import { isJsonObject, type BodyModel, type JsonObject } from './body-model.ts';
import { untranslatable, type Where } from './errors.ts';
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

/**
 * A rule's place, on the partner side and, when the rule has one, the canonical side
 * (`RECORDS/RECORD/MEMO (canonical message)`); spelt out only for an error detail.
 */
class RuleAt implements Where {
  constructor(private readonly place: Place, private readonly rule: { partner: PartnerPath; canonical?: CanonicalPath }) {}

  toString(): string {
    const { place, rule } = this;
    return rule.canonical === undefined ? partnerAt(place, rule.partner) : `${partnerAt(place, rule.partner)} (canonical ${canonicalAt(place, rule.canonical)})`;
  }
}

/** One entry of an `entries` rule: `FORM/FIELD[2] (canonical form)`. */
class EntryAt implements Where {
  constructor(private readonly place: Place, private readonly rule: EntriesRule, private readonly index: number) {}

  toString(): string {
    const { place, rule, index } = this;
    return `${partnerAt(place, rule.partner)}[${index + 1}] (canonical ${canonicalAt(place, rule.canonical)})`;
  }
}

function itemPlace(place: Place, rule: { partner: PartnerPath; canonical: CanonicalPath }, index: number): Place {
  const partner = place.partner === '' ? rule.partner.text : `${place.partner}/${rule.partner.text}`;
  return { context: place.context, partner: `${partner}[${index + 1}]`, canonical: `${canonicalAt(place, rule.canonical)}[${index}]` };
}

function getCanonical(scope: JsonObject, path: CanonicalPath, where: Where): unknown {
  let current: unknown = scope;
  for (const [index, key] of path.keys.entries()) {
    if (!isJsonObject(current)) throw untranslatable(`${where}: ${path.keys.slice(0, index).join('.')} is not an object`);
    current = Object.hasOwn(current, key) ? current[key] : undefined;
    if (current === undefined || current === null) return undefined;
  }
  return current;
}

function setCanonical(scope: JsonObject, path: CanonicalPath, value: unknown): void {
  const { keys } = path;
  let parent = scope;
  for (let index = 0; index < keys.length - 1; index += 1) {
    const key = keys[index]!;
    const next = parent[key];
    parent = isJsonObject(next) ? next : (parent[key] = {}) as JsonObject;
  }
  parent[keys[keys.length - 1]!] = value;
}

/** Map keys become property names on the other side: the same refusal as for JSON keys. */
function checkMapKey(key: string, where: Where): void {
  if (isPrototypeName(key)) throw untranslatable(`${where}: the key ${key} is not accepted`);
}

async function read<S>(rules: readonly MappingRule[], model: BodyModel<S>, scope: S, target: JsonObject, place: Place): Promise<void> {
  for (const rule of rules) {
    switch (rule.kind) {
      case 'value': {
        const where = new RuleAt(place, rule);
        const raw = model.read(scope, rule.partner, where);
        // An optional field sent empty (<LICENSE_NO/>, "zzbh": "") has no value: canonical leaves it out
        // (docs/canonical.md), as layouts that write every column, filled or not, mean it.
        if (raw === undefined || (rule.optional && raw === '')) {
          if (!rule.optional) throw untranslatable(`${where}: is missing`);
        } else {
          // Only JSONata codecs answer with a promise: the others are not awaited, which spares each field a
          // turn of the microtask queue.
          const value = rule.codec.toCanonical(raw, where);
          setCanonical(target, rule.canonical, value instanceof Promise ? await value : value);
        }
        break;
      }
      case 'const': {
        const where = new RuleAt(place, rule);
        const raw = model.read(scope, rule.partner, where);
        if (raw === undefined ? !rule.optional : raw !== rule.value) {
          throw untranslatable(`${where}: must be ${JSON.stringify(rule.value)}`);
        }
        break;
      }
      case 'computed':
      case 'ignore':
        break;
      case 'each': {
        const where = new RuleAt(place, rule);
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
        const where = new RuleAt(place, rule);
        const entries = readEntries(model, scope, rule, where, place);
        if (entries === undefined && (rule.optional || !model.missingListIsEmpty)) {
          if (!rule.optional) throw untranslatable(`${where}: is missing`);
          break;
        }
        // A plain object can take the keys directly: checkMapKey refuses every key that would reach its prototype.
        const map: Record<string, string> = {};
        for (const [key, value] of entries ?? []) {
          if (typeof key !== 'string' || typeof value !== 'string') throw untranslatable(`${where}: keys and values must be strings`);
          checkMapKey(key, where);
          if (Object.hasOwn(map, key)) throw untranslatable(`${where}: a key occurs more than once`);
          map[key] = value;
        }
        setCanonical(target, rule.canonical, map);
        break;
      }
    }
  }
}

function readEntries<S>(model: BodyModel<S>, scope: S, rule: EntriesRule, where: Where, place: Place): Array<[unknown, unknown]> | undefined {
  const { entry } = rule;
  if (entry === undefined) return model.objectEntries(scope, rule.partner, where);
  return model.items(scope, rule.partner, where)?.map((item, index) => {
    const at = new EntryAt(place, rule, index);
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
        const where = new RuleAt(place, rule);
        const value = getCanonical(source, rule.canonical, where);
        if (value === undefined) {
          if (!rule.optional) throw untranslatable(`${where}: is missing`);
        } else {
          const partner = rule.codec.toPartner(value, where);
          model.write(scope, rule.partner, partner instanceof Promise ? await partner : partner, where);
        }
        break;
      }
      case 'const':
        model.write(scope, rule.partner, rule.value, new RuleAt(place, rule));
        break;
      case 'ignore':
        break;
      case 'computed': {
        const where = new RuleAt(place, rule);
        const result = await evaluate(rule.toPartner, source, where);
        if (result !== undefined) model.write(scope, rule.partner, partnerScalar(result, where), where);
        break;
      }
      case 'each': {
        const where = new RuleAt(place, rule);
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
        const where = new RuleAt(place, rule);
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

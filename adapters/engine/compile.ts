/**
 * Mapping document → CompiledDocument, or a FormatDocumentError that says where (a path into the
 * document, e.g. `messages["application.submit"].request.fields["RECORD/APPLY_TYPE"].code`) and what is
 * wrong. Every check a request would otherwise trip over happens here: keys known, paths well formed,
 * code tables exist and map both ways, patterns and JSONata expressions compile, no two fields write the
 * same place. docs/mapping.md describes the language.
 */
import jsonata, { type Expression } from 'jsonata';
import { isMessageType, MESSAGE_TYPES } from '../../gateway/protocol/messages.ts';
import { CHARSETS, charsetNamed } from './charset.ts';
import { FormatDocumentError } from './errors.ts';
import { DEFAULT_LIMITS, type BodyLimits } from './hardening.ts';
import {
  joinCanonicalPaths, joinPartnerPaths, parseCanonicalPath, parsePartnerPath,
  type BodyKind, type CanonicalPath, type PartnerPath, type PartnerTarget,
} from './paths.ts';
import type { CompiledDocument, CompiledMapping, MappingKey, MappingRule } from './rules.ts';
import {
  CANONICAL_TYPES, JSON_TYPES, codeTableMapping, computedField, convertedField, timeMapping,
  type CanonicalType, type CodeTable, type JsonType, type Scalar, type ScalarCodec, type TextMapping,
} from './scalar.ts';
import { compileTimePattern } from './time.ts';
import { carriedBy } from './carried.ts';
import { shapeOf } from './shape.ts';

const FORMAT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MEDIA_TYPES = ['application/json', 'application/xml'] as const;

interface Context {
  readonly body: BodyKind;
  readonly codeTables: ReadonlyMap<string, CodeTable>;
}

// ---- reading the document ------------------------------------------------------------------------

function fail(where: string, problem: string): never {
  throw new FormatDocumentError(where, problem);
}

/** `messages` + `application.submit` → `messages["application.submit"]`. */
function at(where: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return where === '' ? key : `${where}.${key}`;
  return `${where}[${JSON.stringify(key)}]`;
}

function mappingAt(value: unknown, where: string, expected = 'a mapping'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, `must be ${expected}`);
  return value as Record<string, unknown>;
}

function onlyKeys(mapping: Record<string, unknown>, where: string, allowed: readonly string[]): void {
  for (const key of Object.keys(mapping)) {
    if (!allowed.includes(key)) fail(at(where, key), `unknown key (expected one of: ${allowed.join(', ')})`);
  }
}

function stringAt(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') fail(where, value === undefined ? 'is required' : 'must be a non-empty string');
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], where: string): T {
  if (!allowed.includes(value as T)) fail(where, `must be one of: ${allowed.join(', ')}`);
  return value as T;
}

function flag(value: unknown, where: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail(where, 'must be true or false');
  return value;
}

function partnerPath(text: string, target: PartnerTarget, where: string, context: Context): PartnerPath {
  const path = parsePartnerPath(text, context.body, target);
  if (typeof path === 'string') fail(where, `bad partner path: ${path}`);
  return path;
}

function canonicalPath(value: unknown, where: string): CanonicalPath {
  const path = parseCanonicalPath(value);
  if (typeof path === 'string') fail(where, `bad canonical path: ${path}`);
  return path;
}

function expression(value: unknown, where: string): Expression {
  const source = stringAt(value, where);
  try {
    return jsonata(source);
  } catch (error) {
    const { message, position } = error as { message?: string; position?: number };
    fail(where, `JSONata does not compile${position === undefined ? '' : ` at character ${position}`}: ${message ?? String(error)}`);
  }
}

// ---- document level ------------------------------------------------------------------------------

function compileLimits(value: unknown): BodyLimits {
  if (value === undefined) return DEFAULT_LIMITS;
  const limits = mappingAt(value, 'limits');
  onlyKeys(limits, 'limits', ['maxDepth', 'maxElements']);
  const bounded = (key: 'maxDepth' | 'maxElements', max: number): number => {
    const number = limits[key] ?? DEFAULT_LIMITS[key];
    if (!Number.isInteger(number) || (number as number) < 1 || (number as number) > max) fail(at('limits', key), `must be an integer from 1 to ${max}`);
    return number as number;
  };
  return { maxDepth: bounded('maxDepth', 1000), maxElements: bounded('maxElements', 1_000_000) };
}

function compileCodeTables(value: unknown): Map<string, CodeTable> {
  const tables = new Map<string, CodeTable>();
  if (value === undefined) return tables;
  for (const [name, entries] of Object.entries(mappingAt(value, 'codeTables'))) {
    const where = at('codeTables', name);
    const toPartner = new Map<string, string>();
    const toCanonical = new Map<string, string>();
    for (const [canonical, partner] of Object.entries(mappingAt(entries, where, 'a mapping of canonical value: partner value'))) {
      const entryAt = at(where, canonical);
      if (typeof partner !== 'string') fail(entryAt, `must be a string (quote it: "${String(partner)}")`);
      const taken = toCanonical.get(partner);
      if (taken !== undefined) fail(entryAt, `the partner value "${partner}" is already the value of "${taken}": a code table maps both ways, so each partner value may appear once`);
      toPartner.set(canonical, partner);
      toCanonical.set(partner, canonical);
    }
    if (toPartner.size === 0) fail(where, 'is empty');
    tables.set(name, { toPartner, toCanonical });
  }
  return tables;
}

export function compileDocument(name: string, document: unknown): CompiledDocument {
  if (typeof name !== 'string' || !FORMAT_NAME.test(name)) fail('', `"${String(name)}" is not a format name (letters, digits, ".", "_", "-"; at most 64)`);
  const top = mappingAt(document, '');
  onlyKeys(top, '', ['name', 'description', 'mediaType', 'charset', 'identity', 'limits', 'codeTables', 'messages']);
  if (top.name !== undefined && top.name !== name) fail('name', `is ${JSON.stringify(top.name)}, but the document is being stored as format "${name}"`);
  if (top.description !== undefined) stringAt(top.description, 'description');
  const mediaType = oneOf(top.mediaType, MEDIA_TYPES, 'mediaType');
  const charset = charsetNamed(stringAt(top.charset, 'charset')) ?? fail('charset', `must be one of: ${CHARSETS.join(', ')}`);
  const limits = compileLimits(top.limits);
  const body: BodyKind = mediaType === 'application/xml' ? 'xml' : 'json';

  if (flag(top.identity, 'identity')) {
    if (body !== 'json') fail('identity', 'only a JSON format can be the canonical form itself');
    for (const key of ['codeTables', 'messages']) if (top[key] !== undefined) fail(key, 'an identity format maps nothing');
    return { name, mediaType, charset, limits, identity: true, mappings: new Map() };
  }

  const context: Context = { body, codeTables: compileCodeTables(top.codeTables) };
  const mappings = new Map<MappingKey, CompiledMapping>();
  for (const [messageType, directions] of Object.entries(mappingAt(top.messages, 'messages'))) {
    const where = at('messages', messageType);
    if (!isMessageType(messageType)) fail(where, `is not an XR/1 message type (${MESSAGE_TYPES.join(', ')})`);
    const byDirection = mappingAt(directions, where, 'a mapping with request and/or response');
    onlyKeys(byDirection, where, ['request', 'response']);
    for (const direction of ['request', 'response'] as const) {
      if (byDirection[direction] !== undefined) {
        mappings.set(`${messageType} ${direction}`, compileMapping(byDirection[direction], at(where, direction), context));
      }
    }
  }
  if (mappings.size === 0) fail('messages', 'maps no message');
  return { name, mediaType, charset, limits, identity: false, mappings };
}

function compileMapping(value: unknown, where: string, context: Context): CompiledMapping {
  const mapping = mappingAt(value, where);
  onlyKeys(mapping, where, context.body === 'json' ? ['fields', 'drop'] : ['root', 'fields', 'drop']);
  const root = context.body === 'xml' ? rootElement(mapping.root, at(where, 'root'), context) : undefined;
  const rules = compileScope(mapping.fields, at(where, 'fields'), context);
  const dropped = droppedPaths(mapping.drop, at(where, 'drop'));
  return { ...(root === undefined ? {} : { root }), rules, shape: shapeOf(rules), carried: carriedBy(rules, dropped), dropped };
}

/** XML only: the name of the root element, one step. */
function rootElement(value: unknown, where: string, context: Context): string {
  const root = partnerPath(stringAt(value, where), 'node', where, context);
  if (root.steps.length !== 1) fail(where, 'is the name of one element');
  return root.text;
}

/** `materials[].sha256`: canonical names, `[]` stepping into a list's items; not ending in `[]`. */
const DROPPED_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\])?)*$/;

/**
 * `drop`: canonical fields the partner's format has no place for, left out of what is written to it on
 * purpose (carried.ts); without it such a field refuses the message rather than being lost unseen.
 */
function droppedPaths(value: unknown, where: string): string[][] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length === 0) fail(where, 'is a list of canonical paths, e.g. [applicant.mobile, materials[].sha256]');
  return value.map((item, index) => {
    const text = stringAt(item, `${where}[${index}]`);
    if (!DROPPED_PATH.test(text) || text.endsWith('[]')) fail(`${where}[${index}]`, `${JSON.stringify(text)} is not a canonical path (names joined by ".", "[]" after a list to step into its items)`);
    return text.split('.');
  });
}

// ---- fields --------------------------------------------------------------------------------------

/** The fields of one scope (a message, or one item of an `each`), checked for collisions. */
function compileScope(value: unknown, where: string, context: Context): MappingRule[] {
  const rules = compileFields(value, where, context, undefined, []);
  checkCollisions(rules, where);
  return rules;
}

function compileFields(
  value: unknown, where: string, context: Context, outerPartner: PartnerPath | undefined, outerCanonical: readonly string[],
): MappingRule[] {
  const fields = mappingAt(value, where, 'a mapping of partner path: field');
  if (Object.keys(fields).length === 0) fail(where, 'maps no field');
  return Object.entries(fields).flatMap(([path, field]) => compileField(path, field, at(where, path), context, outerPartner, outerCanonical));
}

type FieldKind = 'value' | 'const' | 'computed' | 'each' | 'entries' | 'group' | 'ignore';

function kindOf(field: Record<string, unknown>, where: string): FieldKind {
  const declared = (['each', 'entries', 'const', 'ignore'] as const).filter((key) => key in field);
  if (declared.length > 1) fail(where, `use only one of ${declared.join(', ')}`);
  if (declared[0] !== undefined) return declared[0];
  if ('fields' in field) return 'group';
  if ('canonical' in field) return 'value';
  if ('toPartner' in field) return 'computed';
  return fail(where, 'say what the field is: canonical, const, each, entries, fields, toPartner or ignore');
}

function compileField(
  pathText: string, value: unknown, where: string, context: Context, outerPartner: PartnerPath | undefined, outerCanonical: readonly string[],
): MappingRule[] {
  const field = typeof value === 'string' ? { canonical: value } : mappingAt(value, where, 'a canonical path or a mapping');
  const kind = kindOf(field, where);
  const partnerFor = (target: PartnerTarget): PartnerPath => joinPartnerPaths(outerPartner, partnerPath(pathText, target, where, context));
  const canonicalFor = (key: string): CanonicalPath => joinCanonicalPaths(outerCanonical, canonicalPath(field[key], at(where, key)));
  const optional = (): boolean => flag(field.optional, at(where, 'optional'));

  switch (kind) {
    case 'group': {
      onlyKeys(field, where, ['fields', 'canonical']);
      const canonical = field.canonical === undefined ? outerCanonical : canonicalFor('canonical').keys;
      return compileFields(field.fields, at(where, 'fields'), context, partnerFor('node'), canonical);
    }
    case 'value':
      onlyKeys(field, where, ['canonical', 'type', 'code', 'time', 'date', 'jsonType', 'toCanonical', 'toPartner', 'optional']);
      return [{ kind, partner: partnerFor('scalar'), canonical: canonicalFor('canonical'), optional: optional(), codec: compileCodec(field, where, context) }];
    case 'const': {
      onlyKeys(field, where, ['const', 'optional']);
      const constant = field.const;
      const allowed = context.body === 'xml'
        ? typeof constant === 'string'
        : typeof constant === 'string' || typeof constant === 'boolean' || Number.isFinite(constant);
      if (!allowed) fail(at(where, 'const'), context.body === 'xml' ? 'must be a string in an XML format (quote it: "1.0")' : 'must be a string, number or boolean');
      return [{ kind, partner: partnerFor('scalar'), value: constant as Scalar, optional: optional() }];
    }
    case 'ignore':
      onlyKeys(field, where, ['ignore']);
      if (field.ignore !== true) fail(at(where, 'ignore'), 'must be true');
      return [{ kind, partner: partnerFor('scalar') }];
    case 'computed':
      onlyKeys(field, where, ['toPartner']);
      return [{ kind, partner: partnerFor('scalar'), toPartner: expression(field.toPartner, at(where, 'toPartner')) }];
    case 'each':
      onlyKeys(field, where, ['each', 'fields', 'optional']);
      return [{ kind, partner: partnerFor('node'), canonical: canonicalFor('each'), optional: optional(), rules: compileScope(field.fields, at(where, 'fields'), context) }];
    case 'entries': {
      onlyKeys(field, where, ['entries', 'key', 'value', 'optional']);
      const rule = { kind, partner: partnerFor('node'), canonical: canonicalFor('entries'), optional: optional() };
      if (field.key === undefined && field.value === undefined) {
        if (context.body === 'xml') fail(where, 'XML entries need key and value paths (e.g. key: "@name", value: ".")');
        return [rule];
      }
      const entryPath = (key: 'key' | 'value'): PartnerPath => partnerPath(stringAt(field[key], at(where, key)), 'scalar', at(where, key), context);
      const entry = { key: entryPath('key'), value: entryPath('value') };
      if (holdsPlaceOf(entry.key, entry.value) || holdsPlaceOf(entry.value, entry.key)) {
        fail(at(where, 'value'), 'must be another place than key, and neither may hold the other (an element read as text holds no elements)');
      }
      return [{ ...rule, entry }];
    }
  }
}

function compileCodec(field: Record<string, unknown>, where: string, context: Context): ScalarCodec {
  const type: CanonicalType = field.type === undefined ? 'string' : oneOf(field.type, CANONICAL_TYPES, at(where, 'type'));
  const computed = field.toCanonical !== undefined || field.toPartner !== undefined;
  const conversions = [...(['code', 'time', 'date'] as const).filter((key) => field[key] !== undefined), ...(computed ? ['toCanonical/toPartner'] : [])];
  if (conversions.length > 1) fail(where, `use only one of ${conversions.join(', ')}`);
  if (field.jsonType !== undefined && (context.body === 'xml' || computed)) {
    fail(at(where, 'jsonType'), context.body === 'xml' ? 'applies to JSON formats only' : 'an expression decides the partner value itself');
  }
  if (computed) {
    return computedField({ type, toCanonical: expression(field.toCanonical, at(where, 'toCanonical')), toPartner: expression(field.toPartner, at(where, 'toPartner')) });
  }

  let text: TextMapping | undefined;
  if (field.code !== undefined) {
    const name = stringAt(field.code, at(where, 'code'));
    const table = context.codeTables.get(name);
    if (table === undefined) {
      const known = [...context.codeTables.keys()];
      fail(at(where, 'code'), `unknown code table "${name}" (${known.length === 0 ? 'the document defines none' : `defined: ${known.join(', ')}`})`);
    }
    text = codeTableMapping(name, table);
  }
  for (const kind of ['time', 'date'] as const) {
    if (field[kind] === undefined) continue;
    if (type !== 'string') fail(at(where, 'type'), `a ${kind} is a string in canonical form`);
    const pattern = compileTimePattern(field[kind], kind);
    if (typeof pattern === 'string') fail(at(where, kind), `bad ${kind} pattern: ${pattern}`);
    text = timeMapping(pattern, field[kind] as string);
  }
  const partner: JsonType = context.body === 'xml' ? 'string'
    : field.jsonType !== undefined ? oneOf(field.jsonType, JSON_TYPES, at(where, 'jsonType'))
    : text !== undefined || type === 'string' ? 'string'
    : type === 'boolean' ? 'boolean' : 'number';
  return convertedField({ type, text, partner });
}

// ---- collisions ----------------------------------------------------------------------------------

function startsWith(steps: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= steps.length && prefix.every((step, index) => steps[index] === step);
}

/**
 * Whether the value at `a` is the place `b` or would hold it: no mixed content, since the reader refuses
 * an element read as text that holds elements (body-model.ts).
 */
function holdsPlaceOf(a: PartnerPath, b: PartnerPath): boolean {
  if (!startsWith(b.steps, a.steps)) return false;
  if (a.attribute !== undefined) return b.attribute === a.attribute && b.steps.length === a.steps.length;
  return b.steps.length > a.steps.length || b.attribute === undefined;
}

/**
 * Within one scope no two rules may write the same partner place or canonical field, a value cannot
 * also hold other fields (no mixed content, no `a` and `a.b`), and nothing but the `each` itself may
 * reach into a repeated element.
 */
function checkCollisions(rules: readonly MappingRule[], where: string): void {
  const isList = (rule: MappingRule): boolean => rule.kind === 'each' || rule.kind === 'entries';
  const blocks = (a: MappingRule, b: MappingRule): boolean =>
    isList(a) ? startsWith(b.partner.steps, a.partner.steps) : holdsPlaceOf(a.partner, b.partner);
  for (const [index, a] of rules.entries()) {
    for (const b of rules.slice(index + 1)) {
      if (blocks(a, b) || blocks(b, a)) fail(where, `${a.partner.text} and ${b.partner.text} collide: they write the same partner place, or one holds a value the other would nest into`);
      if ('canonical' in a && 'canonical' in b) {
        const [shorter, longer] = a.canonical.keys.length <= b.canonical.keys.length ? [a.canonical, b.canonical] : [b.canonical, a.canonical];
        if (startsWith(longer.keys, shorter.keys)) {
          fail(where, shorter.text === longer.text ? `canonical ${shorter.text} is mapped twice (${a.partner.text}, ${b.partner.text})` : `canonical ${shorter.text} holds a value, so ${longer.text} cannot be mapped`);
        }
      }
    }
  }
}

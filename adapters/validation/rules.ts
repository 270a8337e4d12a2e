/**
 * Small composable field checks for canonical documents. A check looks at one value of unknown shape and
 * either returns or throws XR_VALIDATION whose detail starts with the value's path (`applicant.idNumber`,
 * `materials[1].sha256`). Checks never copy or rebuild the document: validation only reads it.
 *
 * Details never repeat a submitted value (it may be personal data and can be arbitrarily long): they name the
 * field, what was expected and at most the kind of value received. The exceptions are short and not personal:
 * a six-digit region code, and a form key (cut to 40 characters) as part of a path.
 */
import { XrError } from '../../gateway/protocol/errors.ts';
import { REGION_CODE } from '../../gateway/protocol/messages.ts';
import type { RegionTable } from '../regions/index.ts';
import { calendarDateProblem, timestampProblem } from './timestamp.ts';

export interface ValidationContext {
  readonly regions: RegionTable;
  /** Requests refuse fields the canonical form does not define; responses tolerate them (canonical.ts). */
  readonly refuseUnknownFields: boolean;
}

export type Check = (value: unknown, path: string, context: ValidationContext) => void;
export type RequiredField = Check & { readonly optional?: false };
export type OptionalField = Check & { readonly optional: true };

/** One check per property of T, optional exactly where T's property is optional. */
export type Shape<T> = { readonly [K in keyof T]-?: {} extends Pick<T, K> ? OptionalField : RequiredField };

/** Single-line fields (numbers, codes, names) are capped; free text is bounded only by the body limit. */
const MAX_LINE_LENGTH = 256;
/** C0 controls, DEL, U+FFFE/U+FFFF and lone surrogates: XML cannot carry them and GB18030 cannot encode them. */
const LINE_FORBIDDEN = /[\u0000-\u001F\u007F\uFFFE\uFFFF\uD800-\uDFFF]/u;
/** As above but tab, line feed and carriage return are allowed. */
const TEXT_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF\uD800-\uDFFF]/u;
const SAFE_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_KEY_IN_PATH = 40;

export function refuse(path: string, reason: string): never {
  throw new XrError('XR_VALIDATION', `${path === '' ? 'message' : path}: ${reason}`);
}

export function fieldPath(path: string, key: string): string {
  return SAFE_KEY.test(key) ? dottedPath(path, key) : quotedPath(path, key);
}

function dottedPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function quotedPath(path: string, key: string): string {
  const shown = key.length > MAX_KEY_IN_PATH ? `${key.slice(0, MAX_KEY_IN_PATH)}…` : key;
  return `${path}[${JSON.stringify(shown)}]`;
}

/** What kind of JSON value this is, for "must be a string, got an array". */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

export function optional(check: Check): OptionalField {
  return Object.assign((value: unknown, path: string, context: ValidationContext) => check(value, path, context), {
    optional: true as const,
    inner: check,
  });
}

/** A record's check keeps its members, and a list's its item's check: the form's structure can be read back (requiredFieldsOf). */
export type RecordCheck = Check & { readonly members: ReadonlyMap<string, RequiredField | OptionalField> };
export type ListCheck = Check & { readonly item: Check };

/** An object with exactly the fields of `shape`; `crossCheck` then sees it typed, for rules spanning fields. */
export function record<T>(shape: Shape<T>, crossCheck?: (value: T, path: string, context: ValidationContext) => void): RecordCheck {
  // The shape's keys are known now: how each is written in a path is decided once, not per message.
  const fields = Object.entries(shape as Record<string, RequiredField | OptionalField>)
    .map(([key, check]) => ({ key, check, pathOf: SAFE_KEY.test(key) ? dottedPath : quotedPath }));
  const checkRecord: Check = (value, path, context) => {
    if (!isPlainObject(value)) refuse(path, `must be an object, got ${kindOf(value)}`);
    for (const { key, check, pathOf } of fields) {
      if (Object.hasOwn(value, key)) check(value[key], pathOf(path, key), context);
      else if (check.optional !== true) refuse(pathOf(path, key), 'is required');
    }
    if (context.refuseUnknownFields) {
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape, key)) refuse(fieldPath(path, key), 'is not a field of the canonical form');
      }
    }
    crossCheck?.(value as T, path, context);
  };
  return Object.assign(checkRecord, { members: new Map(fields.map(({ key, check }) => [key, check])) });
}

export function list(item: Check): ListCheck {
  const check: Check = (value, path, context) => {
    if (!Array.isArray(value)) refuse(path, `must be an array, got ${kindOf(value)}`);
    for (let i = 0; i < value.length; i++) item(value[i], `${path}[${i}]`, context);
  };
  return Object.assign(check, { item });
}

/**
 * The fields every value a check accepts must hold, as a tree: a required member, and within it (an object,
 * or the items of a list of objects) the members those require in turn. Optional members are left out, and
 * so is all below them. A check that is not a record has no fields (an empty tree).
 */
export interface RequiredFields {
  readonly members: ReadonlyMap<string, RequiredFields>;
}

/** One key of a canonical path as a format's `drop` writes it: `name`, or `name[]` stepping into a list's items. */
export function pathStep(key: string): { name: string; intoItems: boolean } {
  const intoItems = key.endsWith('[]');
  return { name: intoItems ? key.slice(0, -2) : key, intoItems };
}

/**
 * Whether `keys` name a field of what `check` accepts: each key a member of a record, `name[]` stepping into
 * the items of a list (and a list not stepped into except as the last key).
 */
export function isFieldPath(check: Check, keys: readonly string[]): boolean {
  let current: Check | undefined = check;
  for (const [index, key] of keys.entries()) {
    const { name, intoItems } = pathStep(key);
    const member: Check | undefined = (current as Partial<RecordCheck> | undefined)?.members?.get(name);
    if (member === undefined) return false;
    const field: Check = (member as { inner?: Check }).inner ?? member;
    const item = (field as Partial<ListCheck>).item;
    const last = index === keys.length - 1;
    if (intoItems ? item === undefined || last : item !== undefined && !last) return false;
    current = intoItems ? item : field;
  }
  return true;
}

export function requiredFieldsOf(check: Check): RequiredFields {
  const members = new Map<string, RequiredFields>();
  const recordMembers = (check as Partial<RecordCheck>).members;
  if (recordMembers !== undefined) {
    for (const [key, member] of recordMembers) {
      if (member.optional === true) continue;
      const item = (member as Partial<ListCheck>).item;
      members.set(key, requiredFieldsOf(item ?? member));
    }
  }
  return { members };
}

/** An object of free-form keys (non-empty single lines) to text values, such as the application form. */
export const stringMap: Check = (value, path, context) => {
  if (!isPlainObject(value)) refuse(path, `must be an object of strings, got ${kindOf(value)}`);
  for (const key of Object.keys(value)) {
    if (key === '' || key.length > MAX_LINE_LENGTH || LINE_FORBIDDEN.test(key)) {
      refuse(fieldPath(path, key), `keys must be non-empty single lines of at most ${MAX_LINE_LENGTH} characters`);
    }
    text(value[key], fieldPath(path, key), context);
  }
};

function string(value: unknown, path: string): asserts value is string {
  if (typeof value !== 'string') refuse(path, `must be a string, got ${kindOf(value)}`);
}

/** A non-empty single line: numbers, codes and names. */
export const line: Check = (value, path) => {
  string(value, path);
  if (value === '') refuse(path, 'must not be empty');
  if (value.length > MAX_LINE_LENGTH) refuse(path, `must be at most ${MAX_LINE_LENGTH} characters`);
  if (LINE_FORBIDDEN.test(value)) refuse(path, 'must be a single line without control characters');
};

/** Free text (remarks, messages, form values): may be empty or span lines. */
export const text: Check = (value, path) => {
  string(value, path);
  if (TEXT_FORBIDDEN.test(value)) refuse(path, 'must not contain control characters other than tab and line breaks');
};

export function oneOf(allowed: readonly string[]): Check {
  return (value, path) => {
    if (typeof value !== 'string' || !allowed.includes(value)) refuse(path, `must be one of ${allowed.join(', ')}`);
  };
}

export const boolean: Check = (value, path) => {
  if (typeof value !== 'boolean') refuse(path, `must be true or false, got ${kindOf(value)}`);
};

export function integer(min: number, max: number): Check {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      refuse(path, max === Number.MAX_SAFE_INTEGER ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${max}`);
    }
  };
}

/** RFC 3339 date-time with an explicit offset (timestamp.ts). */
export const timestamp: Check = (value, path) => {
  string(value, path);
  const problem = timestampProblem(value);
  if (problem !== null) refuse(path, problem);
};

/** RFC 3339 full-date, for validity limits (a licence is valid until a day). */
export const calendarDate: Check = (value, path) => {
  string(value, path);
  const problem = calendarDateProblem(value);
  if (problem !== null) refuse(path, problem);
};

/** A GB/T 2260 code that the gateway's region table contains. */
export const knownRegion: Check = (value, path, context) => {
  if (typeof value !== 'string' || !REGION_CODE.test(value)) refuse(path, 'must be a six-digit GB/T 2260 region code');
  if (!context.regions.has(value)) refuse(path, `${value} is not a region the gateway knows`);
};

/** Loose on purpose: landlines, mobiles and international numbers all occur; one leading + is allowed. */
const PHONE_NUMBER = /^\+?[0-9() -]{3,32}$/;
const MIN_PHONE_DIGITS = 3;

export const phoneNumber: Check = (value, path) => {
  string(value, path);
  if (!PHONE_NUMBER.test(value) || value.replace(/[^0-9]/g, '').length < MIN_PHONE_DIGITS) {
    refuse(path, 'must be a phone number: digits, spaces, hyphens and parentheses, with an optional leading +');
  }
};

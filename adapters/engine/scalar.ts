/**
 * One field's value, both ways. A canonical value goes through three steps to become a partner value:
 *
 *   canonical value  ⇄  canonical text   (`type`: string, integer, number or boolean — strict and lossless)
 *   canonical text   ⇄  partner text     (a code table, a time/date pattern, or unchanged)
 *   partner text     ⇄  partner value    (JSON formats only, `jsonType`: string, number or boolean)
 *
 * A field computed by JSONata (`toCanonical`/`toPartner`) replaces all three steps with its expressions.
 * Every refusal is XR_TRANSLATION naming the field, never its value (PROTOCOL §5: no body in `detail`).
 */
import type { Expression } from 'jsonata';
import { untranslatable, type Where } from './errors.ts';
import type { TimePattern } from './time.ts';

export type Scalar = string | number | boolean;
export const CANONICAL_TYPES = ['string', 'integer', 'number', 'boolean'] as const;
export type CanonicalType = (typeof CANONICAL_TYPES)[number];
export const JSON_TYPES = ['string', 'number', 'boolean'] as const;
export type JsonType = (typeof JSON_TYPES)[number];

export interface ScalarCodec {
  toCanonical(partner: Scalar, where: Where): unknown;
  toPartner(canonical: unknown, where: Where): Scalar | Promise<Scalar>;
}

/** canonical text ⇄ partner text. */
export interface TextMapping {
  toPartner(canonical: string): string | undefined;
  toCanonical(partner: string): string | undefined;
  /** For error messages: what the partner text must be, and what the canonical text must be. */
  readonly partnerForm: string;
  readonly canonicalForm: string;
}

export interface CodeTable {
  readonly toPartner: ReadonlyMap<string, string>;
  readonly toCanonical: ReadonlyMap<string, string>;
}

export function codeTableMapping(name: string, table: CodeTable): TextMapping {
  return {
    toPartner: (canonical) => table.toPartner.get(canonical),
    toCanonical: (partner) => table.toCanonical.get(partner),
    partnerForm: `a value of code table ${name}`,
    canonicalForm: `a value of code table ${name}`,
  };
}

export function timeMapping(pattern: TimePattern, source: string): TextMapping {
  return {
    toPartner: (canonical) => pattern.toPartner(canonical),
    toCanonical: (partner) => pattern.toCanonical(partner),
    partnerForm: `a ${pattern.kind} in the form "${source}"`,
    canonicalForm: pattern.kind === 'time' ? 'an RFC 3339 time in whole seconds' : 'a date in the form YYYY-MM-DD',
  };
}

const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;

function typedToText(value: unknown, type: CanonicalType): string | undefined {
  switch (type) {
    case 'string': return typeof value === 'string' ? value : undefined;
    case 'integer': return Number.isSafeInteger(value) ? String(value) : undefined;
    case 'number': return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
    case 'boolean': return typeof value === 'boolean' ? String(value) : undefined;
  }
}

/** Only the one text each value prints as is accepted ("31", not "031", "31.0" or "+31"): lossless both ways. */
function textToTyped(text: string, type: CanonicalType): Scalar | undefined {
  switch (type) {
    case 'string': return text;
    case 'integer': return INTEGER_TEXT.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
    case 'number': return text !== '' && String(Number(text)) === text ? Number(text) : undefined;
    case 'boolean': return text === 'true' ? true : text === 'false' ? false : undefined;
  }
}

const A_TYPE: Record<CanonicalType, string> = { string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false' };

export interface ConvertedField {
  type: CanonicalType;
  text: TextMapping | undefined;
  /** The partner value's JSON type; XML formats carry text ('string'). */
  partner: JsonType;
}

export function convertedField({ type, text, partner }: ConvertedField): ScalarCodec {
  return {
    toCanonical(value, where) {
      const partnerText = typedToText(value, partner);
      if (partnerText === undefined) throw untranslatable(`${where}: must be ${A_TYPE[partner]}`);
      const canonicalText = text === undefined ? partnerText : text.toCanonical(partnerText);
      if (canonicalText === undefined) throw untranslatable(`${where}: is not ${text!.partnerForm}`);
      const typed = textToTyped(canonicalText, type);
      if (typed === undefined) throw untranslatable(`${where}: is not ${A_TYPE[type]}`);
      return typed;
    },
    toPartner(value, where) {
      const canonicalText = typedToText(value, type);
      if (canonicalText === undefined) throw untranslatable(`${where}: must be ${A_TYPE[type]}`);
      const partnerText = text === undefined ? canonicalText : text.toPartner(canonicalText);
      if (partnerText === undefined) throw untranslatable(`${where}: is not ${text!.canonicalForm}`);
      const typed = textToTyped(partnerText, partner);
      if (typed === undefined) throw untranslatable(`${where}: the partner text is not ${A_TYPE[partner]}`);
      return typed;
    },
  };
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** Runs an expression; a JSONata failure is reported by its code only (its message may quote values). */
export async function evaluate(expression: Expression, input: unknown, where: Where): Promise<unknown> {
  try {
    return await expression.evaluate(input);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw untranslatable(`${where}: the expression failed${typeof code === 'string' ? ` (JSONata ${code})` : ''}`);
  }
}

export interface ComputedField {
  type: CanonicalType;
  toCanonical: Expression;
  toPartner: Expression;
}

export function computedField({ type, toCanonical, toPartner }: ComputedField): ScalarCodec {
  return {
    async toCanonical(value, where) {
      const result = await evaluate(toCanonical, value, where);
      if (typedToText(result, type) === undefined) throw untranslatable(`${where}: toCanonical did not give ${A_TYPE[type]}`);
      return result;
    },
    async toPartner(value, where) {
      if (typedToText(value, type) === undefined) throw untranslatable(`${where}: must be ${A_TYPE[type]}`);
      return partnerScalar(await evaluate(toPartner, value, where), where);
    },
  };
}

/** An expression's result as a partner value (an XML body writes it as text). */
export function partnerScalar(result: unknown, where: Where): Scalar {
  if (!isScalar(result)) throw untranslatable(`${where}: toPartner did not give a string, number or boolean`);
  return result;
}

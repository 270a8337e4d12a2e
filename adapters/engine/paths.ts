/**
 * The two kinds of path in a mapping document.
 *
 * Partner paths walk the partner body: `RECORD/ATTRS/ATTR` (elements or JSON keys, `/`-separated),
 * `Item/@code` (an XML attribute), `.` (the current XML element's own text).
 * Canonical paths walk the canonical document: `applicant.idType`.
 * Parsing returns a problem message instead of throwing, so the compiler can say where it is.
 */
import { isPrototypeName, isRefusedXmlName } from './hardening.ts';

export type BodyKind = 'xml' | 'json';

export interface PartnerPath {
  /** As written in the document, or joined from a group's path and its field's. */
  readonly text: string;
  /** Elements (XML) or keys (JSON) to walk from the current scope; empty for `.` and `@name`. */
  readonly steps: readonly string[];
  /** XML only: the attribute of the element reached by `steps`. */
  readonly attribute?: string;
}

export interface CanonicalPath {
  readonly text: string;
  readonly keys: readonly string[];
}

/** What a partner path may point at: a scalar (text or attribute) or an element/object to descend into. */
export type PartnerTarget = 'scalar' | 'node';

// XML 1.0 §2.3 Name.
const XML_NAME = /^[:A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}][-.0-9:A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]*$/u;
const CANONICAL_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function xmlNameProblem(name: string): string | undefined {
  if (!XML_NAME.test(name)) return `"${name}" is not an XML name`;
  if (isRefusedXmlName(name)) return `the name "${name}" is reserved (it collides with Object.prototype)`;
  return undefined;
}

function jsonKeyProblem(key: string): string | undefined {
  if (key === '') return 'a step is empty';
  if (isPrototypeName(key)) return `the key "${key}" is reserved (it collides with Object.prototype)`;
  return undefined;
}

export function parsePartnerPath(text: string, body: BodyKind, target: PartnerTarget): PartnerPath | string {
  if (typeof text !== 'string' || text === '') return 'a partner path must be a non-empty string';
  if (text === '.') {
    if (body === 'json') return '"." (an element\'s own text) exists only in XML formats';
    return target === 'scalar' ? { text, steps: [] } : '"." names a text, not an element to descend into';
  }
  const parts = text.split('/');
  let attribute: string | undefined;
  if (parts[parts.length - 1]!.startsWith('@')) {
    if (body === 'json') return 'attributes ("@…") exist only in XML formats';
    if (target === 'node') return 'an attribute holds a value, not elements to descend into';
    attribute = parts.pop()!.slice(1);
    const problem = xmlNameProblem(attribute);
    if (problem !== undefined) return problem;
  }
  for (const step of parts) {
    if (step === '') return 'a step is empty (leading, trailing or doubled "/")';
    const problem = body === 'xml'
      ? (step === '.' || step.startsWith('@') ? `"${step}" may only stand alone or at the end` : xmlNameProblem(step))
      : jsonKeyProblem(step);
    if (problem !== undefined) return problem;
  }
  return attribute === undefined ? { text, steps: parts } : { text, steps: parts, attribute };
}

export function parseCanonicalPath(text: unknown): CanonicalPath | string {
  if (typeof text !== 'string' || text === '') return 'a canonical path must be a non-empty string';
  const keys = text.split('.');
  for (const key of keys) {
    if (!CANONICAL_KEY.test(key)) return `"${text}" is not a canonical path (keys of letters, digits and _, joined by ".")`;
    if (isPrototypeName(key)) return `the key "${key}" is reserved (it collides with Object.prototype)`;
  }
  return { text, keys };
}

/** A group's path followed by one of its fields' paths. */
export function joinPartnerPaths(outer: PartnerPath | undefined, inner: PartnerPath): PartnerPath {
  if (outer === undefined) return inner;
  const steps = [...outer.steps, ...inner.steps];
  const text = inner.text === '.' ? outer.text : `${outer.text}/${inner.text}`;
  return inner.attribute === undefined ? { text, steps } : { text, steps, attribute: inner.attribute };
}

export function joinCanonicalPaths(outer: readonly string[], inner: CanonicalPath): CanonicalPath {
  return outer.length === 0 ? inner : { text: [...outer, ...inner.keys].join('.'), keys: [...outer, ...inner.keys] };
}

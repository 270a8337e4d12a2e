/**
 * Partner JSON → a plain value, refusing keys that collide with Object.prototype, a key given twice in one
 * object, and bodies nested too deep or holding too many values. Every failure is XR_MALFORMED.
 */
import { malformed } from './errors.ts';
import { isPrototypeName, type BodyLimits } from './hardening.ts';

export function parseJson(text: string, limits: BodyLimits): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the body around the error; keep only the position.
    const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    throw malformed(`the JSON is not well formed${position === undefined ? '' : ` (at position ${position})`}`);
  }
  const members = assertJsonShape(value, limits);
  // JSON.parse keeps the last of two equal keys ({"zt":"11","zt":"04"} reads as "04"), so that a partner and
  // the gateway could read one message two ways; RFC 8259 §4 leaves repeated names to the reader, and ours
  // refuses them. Each member the text writes has one colon outside strings, and the parsed value holds
  // fewer members exactly when some key repeats, at any depth ("a" and "\u0061" are the same key). Counting
  // every colon is a few µs; strings are told apart, ten times slower, only when some of them hold colons.
  if (occurrences(text, ':') !== members && colonsOutsideStrings(text) !== members) {
    throw malformed('a JSON object gives the same key twice');
  }
  return value;
}

function occurrences(text: string, character: string): number {
  let found = 0;
  for (let index = text.indexOf(character); index >= 0; index = text.indexOf(character, index + 1)) found += 1;
  return found;
}

const COLON = 0x3a;
const BACKSLASH = 0x5c;

/**
 * Counts the colons of text that JSON.parse has accepted, strings aside. A string (a base64 material can be
 * a megabyte) is skipped by indexOf to its closing quote: the first one not escaped by an odd run of backslashes.
 */
function colonsOutsideStrings(text: string): number {
  let colons = 0;
  let index = 0;
  for (;;) {
    const opening = text.indexOf('"', index);
    const markupEnd = opening < 0 ? text.length : opening;
    for (let position = index; position < markupEnd; position += 1) {
      if (text.charCodeAt(position) === COLON) colons += 1;
    }
    if (opening < 0) return colons;
    let closing = text.indexOf('"', opening + 1);
    while (escapedQuote(text, closing)) closing = text.indexOf('"', closing + 1);
    index = closing + 1;
  }
}

function escapedQuote(text: string, quote: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes += 1;
  return backslashes % 2 === 1;
}

/**
 * Walks the value without recursion, so that a deep body cannot exhaust the stack before it is refused.
 * Values wait on one stack and their depths on another: no object per value. Also checks a value about to
 * be written as JSON (an identity format's output): a member JSON.stringify leaves out (undefined) is not
 * counted. Returns how many object members it walked.
 */
export function assertJsonShape(root: unknown, limits: BodyLimits): number {
  const pending: unknown[] = [root];
  const depths: number[] = [1];
  let count = 0;
  let members = 0;
  while (pending.length > 0) {
    const value = pending.pop();
    const depth = depths.pop()!;
    if (value === undefined) continue;
    count += 1;
    if (count > limits.maxElements) throw malformed(`more than ${limits.maxElements} JSON values`);
    if (typeof value !== 'object' || value === null) continue;
    if (depth > limits.maxDepth) throw malformed(`JSON nested deeper than ${limits.maxDepth}`);
    if (Array.isArray(value)) {
      for (const child of value) {
        pending.push(child);
        depths.push(depth + 1);
      }
      continue;
    }
    for (const key of Object.keys(value)) {
      if (isPrototypeName(key)) throw malformed(`the JSON key ${key} is not accepted`);
      members += 1;
      pending.push((value as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
  return members;
}

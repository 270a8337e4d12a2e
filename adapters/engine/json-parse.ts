/**
 * Partner JSON → a plain value, refusing keys that collide with Object.prototype and bodies nested too
 * deep or holding too many values. Every failure is XR_MALFORMED.
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
  assertJsonShape(value, limits);
  return value;
}

/**
 * Walks the value without recursion, so that a deep body cannot exhaust the stack before it is refused.
 * Values wait on one stack and their depths on another: no object per value. Also checks a value about to
 * be written as JSON (an identity format's output): a member JSON.stringify leaves out (undefined) is not
 * counted.
 */
export function assertJsonShape(root: unknown, limits: BodyLimits): void {
  const pending: unknown[] = [root];
  const depths: number[] = [1];
  let count = 0;
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
      pending.push((value as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
}

/**
 * Rules every partner body must pass before any mapping sees it (shared/NOTES.md, xml2js pitfalls):
 * no names that collide with Object.prototype, and bounded depth and size.
 */

/** `__proto__`, `constructor`, `toString`, … : as property keys they reach the prototype or shadow it. */
const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

export function isPrototypeName(name: string): boolean {
  return PROTOTYPE_NAMES.has(name);
}

/**
 * XML names the parser refuses: prototype names, and anything starting with `__` (reserved: no partner
 * format uses such names, and they are how prototype tricks are spelt).
 */
export function isRefusedXmlName(name: string): boolean {
  return isPrototypeName(name) || name.startsWith('__');
}

export interface BodyLimits {
  /** Deepest nesting of elements (XML) or objects and arrays (JSON); the root is depth 1. */
  readonly maxDepth: number;
  /** Most elements, and most attributes, (XML) or values (JSON) in one body. */
  readonly maxElements: number;
}

export const DEFAULT_LIMITS: BodyLimits = { maxDepth: 32, maxElements: 10_000 };

/**
 * Canonical JSON for hashing audit records: object members sorted by code point, no whitespace, strings and
 * numbers as JSON.stringify writes them. For the values audit records hold (strings, safe integers,
 * booleans, null, arrays, objects) this is the JSON Canonicalization Scheme (RFC 8785), so anyone can
 * recompute a record's hash with an RFC 8785 library.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [member: string]: JsonValue | undefined };

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('audit records hold finite numbers only');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const members = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`);
  return `{${members.join(',')}}`;
}

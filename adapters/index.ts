/**
 * adapters/: partner formats ⇄ Huzhou's canonical messages. A partner format is a mapping document
 * (adapters/formats/*.yaml, docs/mapping.md) run by one small engine (adapters/engine/):
 *
 *   bytes → decode (charset.ts) → parse, hardened (xml-parse.ts, json-parse.ts)
 *         → mapping rules (compile.ts → rules.ts, run by translate.ts over body-model.ts) → canonical
 *
 * and the same rules backwards, then serialize (xml-tree.ts) and encode. Canonical forms: canonical.ts,
 * docs/canonical.md.
 */
export type { PartnerFormat, ReceivedAs } from './engine/format.ts';
export { compileFormat } from './engine/format.ts';
export { parseFormatDocument } from './engine/document.ts';
export { FormatRegistry, shippedFormats } from './engine/registry.ts';
export { FormatDocumentError } from './engine/errors.ts';
export { CHARSETS, readableCharset, type Charset } from './engine/charset.ts';
export { DEFAULT_LIMITS, type BodyLimits } from './engine/hardening.ts';
export type { CanonicalDocument, CanonicalMessage } from './canonical.ts';

/**
 * Certificate chains kept once. Every signature header the audit trail keeps (records.ts jwsOf) carries its
 * sender's x5c chain: ≈ 1.5 KB of a ≈ 2 KB header, the same for every message of a partner, and two headers
 * a message (the request's and Huzhou's answer's). So a header is stored split around its chain, with the
 * chain itself in the table audit_x5c under its SHA-256, once:
 *
 *     jws = { protectedHead, x5c, protectedTail, signature }
 *     protected = base64url(UTF-8(protectedHead || chain || protectedTail))
 *     chain     = the audit_x5c row whose sha256 = x5c, and hex(SHA-256(UTF-8(chain))) = x5c
 *
 * The split is textual: `chain` runs from the `[` of the header's first `"x5c":[` to the first `]` after it,
 * exactly as sent, and a header is split only when the formula gives back the very base64url received
 * (canonical encoding; head and tail printable ASCII, the chain ASCII). Otherwise it is kept whole, as `protected`. The record (hashed into the chain of records) holds the
 * digest, and the digest pins the chain, so nothing stored can change unnoticed (audit verify checks both).
 */
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { JsonValue } from './canonical-json.ts';

export const X5C_TABLE_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_x5c (
  sha256 TEXT PRIMARY KEY,
  chain TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS audit_x5c_no_update BEFORE UPDATE ON audit_x5c BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_x5c_no_delete BEFORE DELETE ON audit_x5c BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

const X5C_MEMBER = Buffer.from('"x5c":[', 'latin1');
const CLOSING_BRACKET = 0x5d;
/** Distinct chains whose digest is remembered: partners × their keys in use, with room to spare. */
const MAX_REMEMBERED = 1024;

export interface SplitHeader {
  protectedHead: string;
  x5c: string;
  protectedTail: string;
}

export function chainDigest(chain: string | Uint8Array): string {
  return createHash('sha256').update(chain).digest('hex');
}

export function joinProtected(split: SplitHeader, chain: string): string {
  return Buffer.from(split.protectedHead + chain + split.protectedTail, 'utf8').toString('base64url');
}

const BASE64URL_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url that decodes and encodes back to itself: no padding, no stray bits in the last character. */
function canonicalBase64url(text: string): boolean {
  const tail = text.length % 4;
  if (tail === 1) return false;
  if (tail === 0) return true;
  const last = BASE64URL_DIGITS.indexOf(text[text.length - 1]!);
  return last >= 0 && (last & (tail === 2 ? 0b1111 : 0b11)) === 0;
}

/** A chain found in a header: its text (ASCII) and digest. */
export interface FoundChain {
  chain: string;
  digest: string;
}

/**
 * The header split around its x5c chain, or undefined when it has none or would not come back byte for byte.
 * `protectedB64` is base64url digits only (records.ts jwsOf checks). Canonical, it is base64url(its bytes);
 * with a head and tail of printable ASCII and an ASCII chain, those bytes are UTF-8(head || chain || tail): so
 * joinProtected gives back exactly what was received.
 */
export function splitProtected(protectedB64: string, find: (chain: Buffer) => FoundChain = (bytes) => {
  const chain = bytes.toString('latin1');
  return { chain, digest: chainDigest(chain) };
}): { split: SplitHeader; found: FoundChain } | undefined {
  if (!canonicalBase64url(protectedB64)) return undefined;
  const bytes = Buffer.from(protectedB64, 'base64url');
  const member = bytes.indexOf(X5C_MEMBER);
  if (member < 0) return undefined;
  const start = member + X5C_MEMBER.length - 1;
  const end = bytes.indexOf(CLOSING_BRACKET, start);
  if (end < 0) return undefined;
  const head = bytes.subarray(0, start);
  const chain = bytes.subarray(start, end + 1);
  const tail = bytes.subarray(end + 1);
  if (!isAscii(chain) || !printableAscii(head) || !printableAscii(tail)) return undefined;
  const found = find(chain);
  return { split: { protectedHead: head.toString('latin1'), x5c: found.digest, protectedTail: tail.toString('latin1') }, found };
}

/**
 * Bytes 0x20–0x7E only. A head or tail is stored as text inside the record's JSON: any other byte would be
 * written escaped (up to six characters a byte), and a hostile header split would take more room than whole.
 */
function printableAscii(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte < 0x20 || byte > 0x7e) return false;
  return true;
}

/**
 * The writer's side: splits headers, and says which chains a batch must insert. A chain counts as stored only
 * once its batch committed (`committed`), so a rolled-back batch cannot leave records pointing at nothing.
 */
export class X5cChains {
  /** Chains seen, by their length and last characters (the last certificate's signature), confirmed byte for byte. */
  readonly #seen = new Map<string, FoundChain & { bytes: Buffer }>();
  readonly #stored = new Set<string>();
  #fresh = new Map<string, string>();

  /** A kept signature header (records.ts jwsOf) with its chain taken out, when it can be. */
  compact(jws: { protected: string; signature: string }): JsonValue {
    const taken = splitProtected(jws.protected, (chain) => this.#find(chain));
    if (!taken) return jws;
    if (!this.#stored.has(taken.found.digest)) this.#fresh.set(taken.found.digest, taken.found.chain);
    return { ...taken.split, signature: jws.signature };
  }

  /** The chains the records split since the last commit, to insert in the same transaction. */
  pending(): ReadonlyMap<string, string> {
    return this.#fresh;
  }

  committed(): void {
    // Forgetting costs only an INSERT OR IGNORE of a chain already there; remembering every chain ever sent
    // (refused messages' headers are audited too) would grow without bound.
    if (this.#stored.size + this.#fresh.size > MAX_REMEMBERED) this.#stored.clear();
    for (const digest of this.#fresh.keys()) this.#stored.add(digest);
    this.#fresh = new Map();
  }

  rolledBack(): void {
    this.#fresh = new Map();
  }

  #find(bytes: Buffer): FoundChain {
    const key = `${bytes.length}:${bytes.toString('latin1', Math.max(0, bytes.length - 48))}`;
    const seen = this.#seen.get(key);
    if (seen?.bytes.equals(bytes)) return seen;
    if (this.#seen.size >= MAX_REMEMBERED) this.#seen.clear();
    const chain = bytes.toString('latin1');
    const found = { chain, digest: chainDigest(chain), bytes: Buffer.from(bytes) };
    this.#seen.set(key, found);
    return found;
  }
}

/** Whether a stored jws member is a split header. */
export function isSplitHeader(value: unknown): value is SplitHeader & { signature: string } {
  return typeof value === 'object' && value !== null && typeof (value as SplitHeader).x5c === 'string'
    && typeof (value as SplitHeader).protectedHead === 'string' && typeof (value as SplitHeader).protectedTail === 'string';
}

/** The split headers among a record's fields: its `jws` and its answer's. */
export function splitHeadersOf(fields: unknown): Array<SplitHeader & { signature: string }> {
  if (typeof fields !== 'object' || fields === null) return [];
  const { jws, answer } = fields as { jws?: unknown; answer?: { jws?: unknown } };
  const answerJws = typeof answer === 'object' && answer !== null ? answer.jws : undefined;
  return [jws, answerJws].filter(isSplitHeader);
}

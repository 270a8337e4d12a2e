/**
 * The hash chain of the audit log. Each record is stored as its canonical JSON text (canonical-json.ts) with
 *
 *     hash = hex(SHA-256(ASCII(prev_hash) || UTF-8(record)))      prev_hash of record 1 = 64 × "0"
 *
 * so changing, inserting or removing any stored record breaks the chain at that record: its own hash no
 * longer matches its text, or its prev_hash no longer matches the hash before it, or its seq leaves a gap.
 * Records are hashed as the exact text stored (never re-serialised), so no byte can change unnoticed.
 */
import { createHash } from 'node:crypto';
import type { AuditRecord, ChainVerdict } from './audit-log.ts';
import { canonicalJson } from './canonical-json.ts';
import { splitHeadersOf } from './x5c-chains.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** One stored row, as verify reads it. */
export interface AuditRow {
  seq: number;
  record: string;
  prev_hash: string;
  hash: string;
  /** The filter columns (audit-store.ts), when the file has them: copies of the record's members. */
  time?: string | null;
  kind?: string | null;
  partner?: string | null;
  apply_no?: string | null;
  outcome?: string | null;
}

/**
 * The filter columns stored beside each record (audit-store.ts), each with the path of the record member it
 * copies; audit-store.ts writes and migrates them from this list, verify checks them against it.
 */
export const FILTER_COLUMNS = [
  ['time', ['time']],
  ['kind', ['kind']],
  ['partner', ['fields', 'partner']],
  ['apply_no', ['fields', 'applyNo']],
  ['outcome', ['fields', 'outcome']],
] as const satisfies ReadonlyArray<readonly [keyof AuditRow, readonly string[]]>;

/** What each filter column holds of a record, in FILTER_COLUMNS order: the member as text, or NULL when absent. */
export function filterColumnValues(record: unknown): Array<string | null> {
  return FILTER_COLUMNS.map(([, path]) => {
    let value: unknown = record;
    for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    return value === undefined || value === null ? null : String(value);
  });
}

export function recordText(record: AuditRecord): string {
  return canonicalJson({ fields: record.fields, kind: record.kind, seq: record.seq, time: record.time });
}

export function chainHash(prevHash: string, text: string): string {
  return createHash('sha256').update(prevHash, 'ascii').update(text, 'utf8').digest('hex');
}

/**
 * Walks the rows in seq order and names the first one that does not hold. `chainFault` says what is wrong
 * with a stored x5c chain a record refers to (x5c-chains.ts), or undefined when it is there and intact.
 */
export function verifyAuditChain(rows: Iterable<AuditRow>, chainFault: (digest: string) => string | undefined = () => 'is missing from audit_x5c'): ChainVerdict {
  let previous = { seq: 0, hash: GENESIS_HASH };
  for (const row of rows) {
    const seq = previous.seq + 1;
    if (row.seq !== seq) return { ok: false, seq, reason: `record ${seq} is missing (the next stored record is ${row.seq})` };
    if (chainHash(row.prev_hash, row.record) !== row.hash) return { ok: false, seq, reason: `record ${seq} does not match its hash: its content, prev_hash or hash was changed` };
    if (row.prev_hash !== previous.hash) return { ok: false, seq, reason: `record ${seq} does not follow record ${previous.seq}: its prev_hash is not that record's hash` };
    let stored: { seq?: unknown; fields?: unknown };
    try {
      stored = JSON.parse(row.record) as typeof stored;
    } catch {
      return { ok: false, seq, reason: `record ${seq} is not JSON` };
    }
    if (stored.seq !== seq) return { ok: false, seq, reason: `record ${seq} holds seq ${String(stored.seq)}` };
    for (const header of splitHeadersOf(stored.fields)) {
      const fault = chainFault(header.x5c);
      if (fault !== undefined) return { ok: false, seq, reason: `record ${seq}'s x5c chain ${header.x5c} ${fault}` };
    }
    const values = filterColumnValues(stored);
    for (const [index, [column]] of FILTER_COLUMNS.entries()) {
      if (row[column] === undefined) continue;
      if (row[column] !== values[index]) {
        return { ok: false, seq, reason: `record ${seq}'s ${column} column does not match the record: queries by it would not find the record as it is` };
      }
    }
    previous = { seq, hash: row.hash };
  }
  return { ok: true, records: previous.seq, head: previous.seq === 0 ? null : previous };
}

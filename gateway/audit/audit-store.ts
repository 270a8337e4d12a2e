/**
 * The audit log's SQLite file, `audit.sqlite` under XR_DATA_DIR — not a table of gateway.sqlite:
 *  - its writes never take the write lock that replay claims and the outbox need on the request path;
 *  - it can be copied, archived or shipped to write-once storage without the keys and configuration beside
 *    it, and `xr-gateway audit verify` opens it alone, read-only;
 *  - as in X-Road, the message log is a component of its own.
 *
 * Synchronous (better-sqlite3): the writer thread (audit-writer-thread.ts) appends through it, the main
 * thread reads (queries, verify) through its own connection. Each batch takes SQLite's write lock first
 * (BEGIN IMMEDIATE), then reads the last hash, so several processes (XR_WORKERS) extend one chain without
 * forking it. Triggers refuse UPDATE and DELETE: the application cannot change a record; someone editing
 * the file can, and the chain shows where.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AuditFields, AuditKind, AuditQuery, AuditRecord, ChainedAuditRecord, ChainVerdict } from './audit-log.ts';
import { GENESIS_HASH, chainHash, recordText, verifyAuditChain, type AuditRow } from './chain.ts';
import { fieldsOf, type AuditEvidence } from './records.ts';

export const AUDIT_FILE = 'audit.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  record TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_time ON audit (json_extract(record, '$.time'));
CREATE INDEX IF NOT EXISTS audit_partner ON audit (json_extract(record, '$.fields.partner'));
CREATE INDEX IF NOT EXISTS audit_apply_no ON audit (json_extract(record, '$.fields.applyNo'));
CREATE INDEX IF NOT EXISTS audit_outcome ON audit (json_extract(record, '$.fields.outcome'));
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

/** Each filter and the indexed expression it compares (the same text as in the index, so SQLite uses it). */
const FILTERS = {
  from: "json_extract(record, '$.time') >= @from",
  to: "json_extract(record, '$.time') < @to",
  kind: "json_extract(record, '$.kind') = @kind",
  partner: "json_extract(record, '$.fields.partner') = @partner",
  applyNo: "json_extract(record, '$.fields.applyNo') = @applyNo",
  outcome: "json_extract(record, '$.fields.outcome') = @outcome",
  before: 'seq < @before',
} as const satisfies Record<keyof Omit<AuditQuery, 'limit'>, string>;

/** A record as appended, before the batch that writes it gives it its seq: its fields, or the evidence to make them of. */
export type QueuedAuditRecord =
  | { time: string; kind: AuditKind; fields: AuditFields }
  | { time: string; kind: AuditKind; evidence: AuditEvidence };

type QueryParameters = Record<string, string | number>;

function chained(row: AuditRow): ChainedAuditRecord {
  const record = JSON.parse(row.record) as AuditRecord;
  return { seq: row.seq, time: record.time, kind: record.kind, fields: record.fields, prevHash: row.prev_hash, hash: row.hash };
}

export class AuditStore {
  readonly #db: Database.Database;
  readonly #last;
  readonly #insert;
  readonly #queries = new Map<string, Database.Statement<QueryParameters, AuditRow>>();

  constructor(file: string, options: { readonly?: boolean } = {}) {
    if (options.readonly === true) {
      this.#db = new Database(file, { readonly: true, fileMustExist: true });
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
      this.#db = new Database(file);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.exec(SCHEMA);
    }
    this.#db.pragma('busy_timeout = 5000');
    this.#last = this.#db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    this.#insert = options.readonly === true ? undefined : this.#db.prepare('INSERT INTO audit (seq, record, prev_hash, hash) VALUES (?, ?, ?, ?)');
  }

  /** Chains and inserts the batch in one transaction; returns the seq of its last record. */
  append(batch: readonly QueuedAuditRecord[]): number {
    const insert = this.#insert;
    if (!insert) throw new Error('the audit log is open read-only');
    // IMMEDIATE: the write lock is taken before the last hash is read, so no other process slips in between.
    return this.#db.transaction(() => {
      const last = this.#last.get();
      let seq = last?.seq ?? 0;
      let prevHash = last?.hash ?? GENESIS_HASH;
      for (const queued of batch) {
        seq += 1;
        const fields = 'fields' in queued ? queued.fields : fieldsOf(queued.evidence);
        const text = recordText({ seq, time: queued.time, kind: queued.kind, fields });
        const hash = chainHash(prevHash, text);
        insert.run(seq, text, prevHash, hash);
        prevHash = hash;
      }
      return seq;
    }).immediate();
  }

  lastSeq(): number {
    return this.#last.get()?.seq ?? 0;
  }

  /** Newest first. */
  query(query: AuditQuery): ChainedAuditRecord[] {
    const present = (Object.keys(FILTERS) as Array<keyof typeof FILTERS>).filter((name) => query[name] !== undefined);
    const key = present.join(',');
    let statement = this.#queries.get(key);
    if (!statement) {
      const where = present.length === 0 ? '' : `WHERE ${present.map((name) => FILTERS[name]).join(' AND ')}`;
      statement = this.#db.prepare<QueryParameters, AuditRow>(`SELECT seq, record, prev_hash, hash FROM audit ${where} ORDER BY seq DESC LIMIT @limit`);
      this.#queries.set(key, statement);
    }
    const parameters: QueryParameters = { limit: query.limit };
    for (const name of present) parameters[name] = query[name]!;
    return statement.all(parameters).map(chained);
  }

  verify(): ChainVerdict {
    return verifyAuditChain(this.#db.prepare<[], AuditRow>('SELECT seq, record, prev_hash, hash FROM audit ORDER BY seq').iterate());
  }

  close(): void {
    this.#db.close();
  }
}

/** Verifies an audit file without a running gateway (the CLI), opened read-only. */
export function verifyAuditFile(file: string): ChainVerdict {
  const store = new AuditStore(file, { readonly: true });
  try {
    return store.verify();
  } finally {
    store.close();
  }
}

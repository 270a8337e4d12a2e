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
import { FILTER_COLUMNS, GENESIS_HASH, chainHash, filterColumnValues, recordText, verifyAuditChain, type AuditRow } from './chain.ts';
import { fieldsOf, type AuditEvidence } from './records.ts';
import { X5C_TABLE_SCHEMA, X5cChains, chainDigest, joinProtected, splitHeadersOf } from './x5c-chains.ts';
import { SQLITE_CACHE_PRAGMA, hasTable } from '../store/group-commit.ts';

export const AUDIT_FILE = 'audit.sqlite';

/**
 * What queries filter on is kept beside each record in plain columns, indexed: copies of members of the record
 * (which alone is hashed), written with it. Indexes on json_extract(record, …) made every insert parse the
 * 3 KB record once per index; columns cost a third as much (bench/results.md, "audit writer"). verify checks
 * that the columns still say what the record says, so an edited column cannot hide a record from a query.
 */
export const AUDIT_PAGE_SIZE = 16 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  record TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  time TEXT,
  kind TEXT,
  partner TEXT,
  apply_no TEXT,
  outcome TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (time);
CREATE INDEX IF NOT EXISTS audit_by_partner ON audit (partner);
CREATE INDEX IF NOT EXISTS audit_by_apply_no ON audit (apply_no);
CREATE INDEX IF NOT EXISTS audit_by_outcome ON audit (outcome);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

const COLUMN_NAMES = FILTER_COLUMNS.map(([column]) => column);

/** Whether the file has the filter columns (it was written, or migrated, by this version). */
function hasFilterColumns(db: Database.Database): boolean {
  return db.prepare<[], { name: string }>('PRAGMA table_info(audit)').all().some((column) => column.name === 'apply_no');
}

/**
 * A file written before the columns existed (indexes on json_extract): the columns are added and filled from
 * the records, the old indexes dropped and the new ones built, in one transaction. The update trigger is
 * lifted inside it alone; no record (and so no hash) changes.
 */
function addFilterColumns(db: Database.Database): void {
  if (!hasTable(db, 'audit') || hasFilterColumns(db)) return;
  // A long log takes a while (≈ 20–50 µs a record): another process opening the file meanwhile (a cluster
  // worker) waits for it rather than failing after the usual busy timeout, then finds the columns there.
  const usualTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${MIGRATION_WAIT_MS}`);
  try {
    db.transaction(() => {
      if (hasFilterColumns(db)) return; // another process (a cluster worker) did it first
      for (const column of COLUMN_NAMES) db.exec(`ALTER TABLE audit ADD COLUMN ${column} TEXT`);
      db.exec('DROP TRIGGER IF EXISTS audit_no_update');
      db.exec(`UPDATE audit SET ${FILTER_COLUMNS.map(([column, path]) => `${column} = json_extract(record, '$.${path.join('.')}')`).join(', ')}`);
      for (const index of ['audit_time', 'audit_partner', 'audit_apply_no', 'audit_outcome']) db.exec(`DROP INDEX IF EXISTS ${index}`);
      // The new indexes and the trigger again, in the same transaction: no moment without them.
      db.exec(SCHEMA);
    }).immediate();
  } finally {
    db.pragma(`busy_timeout = ${usualTimeout}`);
  }
}

/** How long opening the file waits for another process's migration of it. */
const MIGRATION_WAIT_MS = 10 * 60_000;

/** Each filter and the column it compares. */
const FILTERS = {
  from: 'time >= @from',
  to: 'time < @to',
  kind: 'kind = @kind',
  partner: 'partner = @partner',
  applyNo: 'apply_no = @applyNo',
  outcome: 'outcome = @outcome',
  before: 'seq < @before',
} as const satisfies Record<keyof Omit<AuditQuery, 'limit'>, string>;

/** A record as appended, before the batch that writes it gives it its seq: its fields, or the evidence to make them of. */
export type QueuedAuditRecord =
  | { time: string; kind: AuditKind; fields: AuditFields }
  | { time: string; kind: AuditKind; evidence: AuditEvidence };

type QueryParameters = Record<string, string | number>;


export class AuditStore {
  readonly #db: Database.Database;
  readonly #last;
  readonly #insert;
  readonly #insertChain;
  readonly #chains = new X5cChains();
  /** Chains read back (queries, verify): digest → chain text, or undefined when the file has no such row. */
  readonly #chainTexts = new Map<string, string | undefined>();
  /** null: the file has no audit_x5c table (written before it existed, opened read-only). */
  #selectChain: Database.Statement<[string], { chain: string }> | null | undefined;
  readonly #queries = new Map<string, Database.Statement<QueryParameters, AuditRow>>();

  constructor(file: string, options: { readonly?: boolean } = {}) {
    const writable = options.readonly !== true;
    if (writable) mkdirSync(path.dirname(file), { recursive: true });
    this.#db = writable ? new Database(file) : new Database(file, { readonly: true, fileMustExist: true });
    this.#db.pragma('busy_timeout = 5000');
    this.#db.pragma(SQLITE_CACHE_PRAGMA);
    if (writable) {
      // 16 KiB pages: an inbound record was ≈ 4–5 KB (two x5c chains, now kept apart: x5c-chains.ts), more
      // than a 4 KiB page holds, so each spilled to an overflow page of its own. Takes effect only on a new
      // file (bench/results.md).
      this.#db.pragma(`page_size = ${AUDIT_PAGE_SIZE}`);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      addFilterColumns(this.#db);
      this.#db.exec(SCHEMA);
      this.#db.exec(X5C_TABLE_SCHEMA);
    }
    this.#last = this.#db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    this.#insert = !writable ? undefined : this.#db.prepare(`INSERT INTO audit (seq, record, prev_hash, hash, ${COLUMN_NAMES.join(', ')}) VALUES (?, ?, ?, ?${', ?'.repeat(COLUMN_NAMES.length)})`);
    this.#insertChain = !writable ? undefined : this.#db.prepare('INSERT OR IGNORE INTO audit_x5c (sha256, chain) VALUES (?, ?)');
  }

  /** Chains and inserts the batch in one transaction; returns the seq of its last record. */
  append(batch: readonly QueuedAuditRecord[]): number {
    const insert = this.#insert;
    const insertChain = this.#insertChain;
    if (!insert || !insertChain) throw new Error('the audit log is open read-only');
    const chains = this.#chains;
    try {
      // IMMEDIATE: the write lock is taken before the last hash is read, so no other process slips in between.
      const lastSeq = this.#db.transaction(() => {
        const last = this.#last.get();
        let seq = last?.seq ?? 0;
        let prevHash = last?.hash ?? GENESIS_HASH;
        for (const queued of batch) {
          seq += 1;
          const fields = 'fields' in queued ? queued.fields : fieldsOf(queued.evidence, chains);
          const record = { seq, time: queued.time, kind: queued.kind, fields };
          const text = recordText(record);
          const hash = chainHash(prevHash, text);
          insert.run(seq, text, prevHash, hash, ...filterColumnValues(record));
          prevHash = hash;
        }
        for (const [digest, chain] of chains.pending()) insertChain.run(digest, chain);
        return seq;
      }).immediate();
      chains.committed();
      return lastSeq;
    } catch (error) {
      chains.rolledBack();
      throw error;
    }
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
    return statement.all(parameters).map((row) => this.#chained(row));
  }

  verify(): ChainVerdict {
    // A file from before the filter columns, opened read-only (the CLI), has none to check.
    const select = ['seq, record, prev_hash, hash', ...(hasFilterColumns(this.#db) ? COLUMN_NAMES : [])].join(', ');
    const checked = new Map<string, string | undefined>();
    const chainFault = (digest: string): string | undefined => {
      if (!checked.has(digest)) {
        const chain = this.#readChain(digest); // from the file: not the queries' cache, which may be older
        checked.set(digest, chain === undefined ? 'is missing from audit_x5c' : chainDigest(chain) !== digest ? 'does not match its digest: audit_x5c was changed' : undefined);
      }
      return checked.get(digest);
    };
    return verifyAuditChain(this.#db.prepare<[], AuditRow>(`SELECT ${select} FROM audit ORDER BY seq`).iterate(), chainFault);
  }

  /** A stored record as queries answer it: a split signature header is whole again (`protected`). */
  #chained(row: AuditRow): ChainedAuditRecord {
    const record = JSON.parse(row.record) as AuditRecord;
    for (const header of splitHeadersOf(record.fields)) {
      const chain = this.#chainText(header.x5c);
      if (chain === undefined) continue; // shown as stored; verify names the missing chain
      const whole = header as unknown as Record<string, unknown>;
      whole.protected = joinProtected(header, chain);
      delete whole.protectedHead;
      delete whole.protectedTail;
      delete whole.x5c;
    }
    return { seq: row.seq, time: record.time, kind: record.kind, fields: record.fields, prevHash: row.prev_hash, hash: row.hash };
  }

  /** A chain for a query's answer: remembered, since every answer holds a few of the same chains. */
  #chainText(digest: string): string | undefined {
    if (this.#chainTexts.has(digest)) return this.#chainTexts.get(digest);
    const chain = this.#readChain(digest);
    if (this.#chainTexts.size >= 1024) this.#chainTexts.clear();
    this.#chainTexts.set(digest, chain);
    return chain;
  }

  #readChain(digest: string): string | undefined {
    if (this.#selectChain === undefined) {
      this.#selectChain = hasTable(this.#db, 'audit_x5c') ? this.#db.prepare<[string], { chain: string }>('SELECT chain FROM audit_x5c WHERE sha256 = ?') : null;
    }
    return this.#selectChain?.get(digest)?.chain;
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

/**
 * The embedded Store: one SQLite file under XR_DATA_DIR, through better-sqlite3 (synchronous, in-process,
 * no server to run; WAL so readers never wait for the writer; synchronous=FULL so that a commit has reached
 * the disk before anything is acknowledged).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { MessageType } from '../protocol/messages.ts';
import { GroupCommitWriter, InlineWriter, SQLITE_CACHE_PRAGMA, hasTable, type DurableWriter } from './group-commit.ts';
import { SqliteKeyTables } from './sqlite-keys.ts';
import {
  OUTBOUND_STATUSES,
  type FormatVersion, type IdempotencyClaim, type NewOutboundMessage, type OutboundEnqueueResult, type OutboundMessage,
  type OutboundReceipt, type OutboundSettlement, type OutboundStatus, type OutboundSummary, type OutboxQuery, type Partner,
  type CrlRecord, type ManagedKeyRecord, type RevocationRecord, type SigningKeyRecord, type Store, type StoredAnswer, type TrustAnchorRecord,
} from './store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS partners (
  region TEXT PRIMARY KEY,
  document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trust_anchors (
  region TEXT NOT NULL,
  kid TEXT NOT NULL,
  subject TEXT NOT NULL,
  not_after TEXT NOT NULL,
  pem TEXT NOT NULL,
  added_at TEXT NOT NULL,
  PRIMARY KEY (region, kid)
);
CREATE TABLE IF NOT EXISTS revocations (
  id INTEGER PRIMARY KEY,
  region TEXT NOT NULL,
  kid TEXT,
  serial TEXT,
  added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS replay (
  iss TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (iss, jti)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replay_expiry ON replay (expires_at);
CREATE TABLE IF NOT EXISTS inbound_idempotency (
  iss TEXT NOT NULL,
  key TEXT NOT NULL,
  body_digest TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status INTEGER,
  content_type TEXT,
  answer BLOB,
  PRIMARY KEY (iss, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS inbound_idempotency_age ON inbound_idempotency (created_at);
CREATE TABLE IF NOT EXISTS settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS formats (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  document TEXT NOT NULL,
  saved_at TEXT NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  target TEXT NOT NULL,
  message_type TEXT NOT NULL,
  status TEXT NOT NULL,
  canonical TEXT NOT NULL,
  partner_body BLOB NOT NULL,
  content_type TEXT NOT NULL,
  idempotency_key TEXT UNIQUE,
  request_digest TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  receipt TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, target, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_by_target ON outbox (target, seq);
`;

/**
 * The outbox's count per status, kept by triggers in the transaction of every change, so that /metrics and
 * the admin counts read five rows instead of counting the whole outbox on the thread serving requests: a
 * million messages took 60–80 ms a scrape (bench/results.md, "Outbox counts").
 */
const OUTBOX_COUNTS_SCHEMA = `
CREATE TABLE outbox_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO outbox_counts (status, n) VALUES ${OUTBOUND_STATUSES.map((status) => `('${status}', 0)`).join(', ')};
CREATE TRIGGER outbox_count_insert AFTER INSERT ON outbox BEGIN
  UPDATE outbox_counts SET n = n + 1 WHERE status = NEW.status;
END;
CREATE TRIGGER outbox_count_update AFTER UPDATE OF status ON outbox WHEN OLD.status IS NOT NEW.status BEGIN
  UPDATE outbox_counts SET n = n - 1 WHERE status = OLD.status;
  UPDATE outbox_counts SET n = n + 1 WHERE status = NEW.status;
END;
CREATE TRIGGER outbox_count_delete AFTER DELETE ON outbox BEGIN
  UPDATE outbox_counts SET n = n - 1 WHERE status = OLD.status;
END;
`;

/**
 * Creates the counts with their triggers, filled from the outbox as it is, once (a new file, or one written
 * before they existed). IMMEDIATE: no other process (a cluster worker) changes the outbox between the count
 * and the triggers.
 */
function ensureOutboxCounts(db: Database.Database): void {
  if (hasTable(db, 'outbox_counts')) return;
  db.transaction(() => {
    if (hasTable(db, 'outbox_counts')) return;
    db.exec(OUTBOX_COUNTS_SCHEMA);
    db.exec('UPDATE outbox_counts SET n = (SELECT COUNT(*) FROM outbox WHERE outbox.status = outbox_counts.status)');
  }).immediate();
}

/**
 * The outbox list, newest first, with an index for each filter, so that finding the few failed messages, or
 * one partner's, among millions delivered reads those rows only — it runs on the thread serving requests
 * (bench/results.md, "Outbox list"):
 *  - a status other than delivered: outbox_due (status first), then the few rows sorted by seq;
 *  - delivered, or no status: the newest rows first by seq, since nearly every message ends delivered
 *    (`+status` keeps SQLite from sorting every delivered row through outbox_due);
 *  - a target: outbox_by_target (target, seq), newest first.
 */
export function outboxListSql(query: Pick<OutboxQuery, 'status' | 'target'>): string {
  const conditions = [
    ...(query.status === undefined ? [] : [query.status === 'delivered' ? '+status = @status' : 'status = @status']),
    ...(query.target === undefined ? [] : ['target = @target']),
  ];
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')} `;
  return `SELECT ${OUTBOX_SUMMARY_COLUMNS} FROM outbox ${where}ORDER BY seq DESC LIMIT @limit`;
}

/** The Store's file under XR_DATA_DIR (the audit trail has its own: audit/audit-store.ts). */
export const DATABASE_FILE = 'gateway.sqlite';

const OUTBOX_SUMMARY_COLUMNS = 'id, target, message_type, status, attempts, next_attempt_at, last_error, receipt, created_at, updated_at';

/** The most rows one purge statement deletes: ≈ 1 ms of the writer thread's time per statement. */
export const PURGE_CHUNK_ROWS = 500;

/** Writes through the group-commit writer thread (group-commit.ts): the request path's, and the purges. */
const HOT_WRITES = {
  // An expired entry may be taken over; a live one may not (the WHERE of the upsert).
  replayClaim: 'INSERT INTO replay (iss, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT (iss, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE replay.expires_at <= ?',
  replayRelease: 'DELETE FROM replay WHERE iss = ? AND jti = ? AND expires_at = ?',
  // The purges delete at most PURGE_CHUNK_ROWS rows a statement (purgeInChunks), oldest first by their index.
  replayPurgeChunk: 'DELETE FROM replay WHERE (iss, jti) IN (SELECT iss, jti FROM replay WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)',
  idempotencyPurgeChunk: `DELETE FROM inbound_idempotency WHERE (iss, key) IN
        (SELECT iss, key FROM inbound_idempotency WHERE created_at < ? ORDER BY created_at LIMIT ?)`,
  idempotencyInsert: 'INSERT INTO inbound_idempotency (iss, key, body_digest, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (iss, key) DO NOTHING',
  idempotencyAnswer: 'UPDATE inbound_idempotency SET status = ?, content_type = ?, answer = ? WHERE iss = ? AND key = ?',
  idempotencyRelease: 'DELETE FROM inbound_idempotency WHERE iss = ? AND key = ? AND answer IS NULL',
  outboxInsert: `INSERT INTO outbox (id, target, message_type, status, canonical, partner_body, content_type, idempotency_key,
        request_digest, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, 0, ?, ?, ?)
        ON CONFLICT (idempotency_key) DO NOTHING`,
  // One statement, so the choice and the change are atomic: no second claimer can take the same rows.
  outboxClaim: `UPDATE outbox SET status = 'delivering', updated_at = ?
        WHERE seq IN (SELECT seq FROM outbox WHERE status = 'queued' AND target = ? AND next_attempt_at <= ?
                      ORDER BY next_attempt_at, seq LIMIT ?)
        RETURNING *`,
  outboxSettle: `UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?,
        receipt = ?, updated_at = ? WHERE id = ? AND status = 'delivering'`,
  outboxReleaseOne: "UPDATE outbox SET status = 'queued', updated_at = ? WHERE id = ? AND status = 'delivering'",
} as const;

interface FormatRow { name: string; version: number; document: string; saved_at: string }
interface AnchorRow { region: string; kid: string; subject: string; not_after: string; pem: string; added_at: string }
interface RevocationRow { region: string; kid: string | null; serial: string | null; added_at: string }

function formatFromRow(row: FormatRow): FormatVersion {
  return { name: row.name, version: row.version, document: row.document, savedAt: row.saved_at };
}

interface OutboxSummaryRow {
  id: string; target: string; message_type: string; status: string; attempts: number; next_attempt_at: number;
  last_error: string | null; receipt: string | null; created_at: number; updated_at: number;
}
interface OutboxRow extends OutboxSummaryRow { seq: number; canonical: string; partner_body: Buffer; content_type: string }

function outboxSummaryFromRow(row: OutboxSummaryRow): OutboundSummary {
  return {
    id: row.id,
    target: row.target,
    messageType: row.message_type as MessageType,
    status: row.status as OutboundStatus,
    attempts: row.attempts,
    nextAttemptAtMs: row.next_attempt_at,
    lastError: row.last_error,
    receipt: row.receipt === null ? null : (JSON.parse(row.receipt) as OutboundReceipt),
    createdAtMs: row.created_at,
    updatedAtMs: row.updated_at,
  };
}

function outboxMessageFromRow(row: OutboxRow): OutboundMessage {
  return { ...outboxSummaryFromRow(row), canonical: row.canonical, partnerBody: row.partner_body, contentType: row.content_type };
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly writer: DurableWriter;
  /** signing_keys and partner_crls (sqlite-keys.ts). */
  private readonly keys: SqliteKeyTables;
  private readonly statements;
  private closing = false;
  /** The outbox list's statements, one per filter combination (outboxListSql). */
  private readonly outboxLists = new Map<string, Database.Statement<[Record<string, string | number>], OutboxSummaryRow>>();

  /**
   * @param options.writes 'group-commit' (default): request-path writes are batched on a writer thread;
   *   'inline': committed one by one on this thread (the CLI; tests on a fake clock).
   */
  constructor(file: string, options: { writes?: 'group-commit' | 'inline' } = {}) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(SQLITE_CACHE_PRAGMA);
    this.db.exec(SCHEMA);
    ensureOutboxCounts(this.db);
    // Statement journals in memory, as on the writer thread; set after the schema, so that an index built on
    // a large existing table (a first start after an upgrade) sorts in a temporary file, not in memory.
    this.db.pragma('temp_store = MEMORY');
    this.keys = new SqliteKeyTables(this.db);
    this.writer = options.writes === 'inline' ? new InlineWriter(this.db) : new GroupCommitWriter(file);
    const db = this.db;
    this.statements = {
      listPartners: db.prepare<[], { document: string }>('SELECT document FROM partners ORDER BY region'),
      getPartner: db.prepare<[string], { document: string }>('SELECT document FROM partners WHERE region = ?'),
      putPartner: db.prepare('INSERT INTO partners (region, document) VALUES (?, ?) ON CONFLICT (region) DO UPDATE SET document = excluded.document'),
      deletePartner: db.prepare('DELETE FROM partners WHERE region = ?'),
      deleteAnchors: db.prepare('DELETE FROM trust_anchors WHERE region = ?'),
      deleteRevocations: db.prepare('DELETE FROM revocations WHERE region = ?'),
      listAnchors: db.prepare<[], AnchorRow>('SELECT * FROM trust_anchors ORDER BY region, added_at, kid'),
      listAnchorsOf: db.prepare<[string], AnchorRow>('SELECT * FROM trust_anchors WHERE region = ? ORDER BY added_at, kid'),
      addAnchor: db.prepare('INSERT OR REPLACE INTO trust_anchors (region, kid, subject, not_after, pem, added_at) VALUES (?, ?, ?, ?, ?, ?)'),
      listRevocations: db.prepare<[], RevocationRow>('SELECT region, kid, serial, added_at FROM revocations ORDER BY id'),
      listRevocationsOf: db.prepare<[string], RevocationRow>('SELECT region, kid, serial, added_at FROM revocations WHERE region = ? ORDER BY id'),
      addRevocation: db.prepare('INSERT INTO revocations (region, kid, serial, added_at) VALUES (?, ?, ?, ?)'),
      replayCount: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM replay'),
      idempotencyGet: db.prepare<[string, string], { body_digest: string; status: number | null; content_type: string | null; answer: Buffer | null }>('SELECT body_digest, status, content_type, answer FROM inbound_idempotency WHERE iss = ? AND key = ?'),
      getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?'),
      putSetting: db.prepare('INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)'),
      listFormats: db.prepare<[], FormatRow>('SELECT f.* FROM formats f JOIN (SELECT name, MAX(version) AS v FROM formats GROUP BY name) m ON f.name = m.name AND f.version = m.v ORDER BY f.name'),
      currentFormat: db.prepare<[string], FormatRow>('SELECT * FROM formats WHERE name = ? ORDER BY version DESC LIMIT 1'),
      formatVersion: db.prepare<[string, number], FormatRow>('SELECT * FROM formats WHERE name = ? AND version = ?'),
      formatHistory: db.prepare<[string], FormatRow>('SELECT * FROM formats WHERE name = ? ORDER BY version DESC'),
      insertFormat: db.prepare('INSERT INTO formats (name, version, document, saved_at) VALUES (?, ?, ?, ?)'),
      outboxByKey: db.prepare<[string], OutboxSummaryRow & { request_digest: string | null }>(`SELECT ${OUTBOX_SUMMARY_COLUMNS}, request_digest FROM outbox WHERE idempotency_key = ?`),
      outboxGet: db.prepare<[string], OutboxRow>('SELECT * FROM outbox WHERE id = ?'),
      outboxCounts: db.prepare<[], { status: string; n: number }>('SELECT status, n FROM outbox_counts'),
      outboxOldestPending: db.prepare<[], { oldest: number | null }>("SELECT MIN(created_at) AS oldest FROM outbox WHERE status IN ('queued', 'delivering')"),
      outboxQueuedTargets: db.prepare<[], { target: string; next: number }>(`SELECT target, MIN(next_attempt_at) AS next FROM outbox
        WHERE status = 'queued' GROUP BY target ORDER BY next`),
      // One step down the outbox_due index, however long the queue.
      outboxNextDue: db.prepare<[string], { next: number | null }>("SELECT MIN(next_attempt_at) AS next FROM outbox WHERE status = 'queued' AND target = ?"),
      outboxReleaseAll: db.prepare("UPDATE outbox SET status = 'queued', updated_at = ? WHERE status = 'delivering'"),
      outboxRequeue: db.prepare<[{ id: string; now: number; body: Buffer | null; contentType: string | null }], OutboxSummaryRow>(`UPDATE
        outbox SET status = 'queued', attempts = 0, next_attempt_at = @now, receipt = NULL, partner_body = COALESCE(@body, partner_body),
          content_type = COALESCE(@contentType, content_type), updated_at = @now
        WHERE id = @id AND status IN ('failed', 'dead') RETURNING ${OUTBOX_SUMMARY_COLUMNS}`),
    };
  }

  async listPartners(): Promise<Partner[]> {
    return this.statements.listPartners.all().map((row) => JSON.parse(row.document) as Partner);
  }

  async getPartner(region: string): Promise<Partner | undefined> {
    const row = this.statements.getPartner.get(region);
    return row ? (JSON.parse(row.document) as Partner) : undefined;
  }

  async putPartner(partner: Partner): Promise<void> {
    this.statements.putPartner.run(partner.region, JSON.stringify(partner));
  }

  async deletePartner(region: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.statements.deleteAnchors.run(region);
      this.statements.deleteRevocations.run(region);
      this.keys.deleteCrls(region);
      return this.statements.deletePartner.run(region).changes > 0;
    })();
  }

  async listTrustAnchors(region?: string): Promise<TrustAnchorRecord[]> {
    const rows = region === undefined ? this.statements.listAnchors.all() : this.statements.listAnchorsOf.all(region);
    return rows.map((r) => ({ region: r.region, kid: r.kid, subject: r.subject, notAfter: r.not_after, pem: r.pem, addedAt: r.added_at }));
  }

  async addTrustAnchors(anchors: TrustAnchorRecord[]): Promise<void> {
    this.db.transaction(() => {
      for (const a of anchors) this.statements.addAnchor.run(a.region, a.kid, a.subject, a.notAfter, a.pem, a.addedAt);
    })();
  }

  async listRevocations(region?: string): Promise<RevocationRecord[]> {
    const rows = region === undefined ? this.statements.listRevocations.all() : this.statements.listRevocationsOf.all(region);
    return rows.map((r) => ({
      region: r.region,
      ...(r.kid === null ? {} : { kid: r.kid }),
      ...(r.serial === null ? {} : { serial: r.serial }),
      addedAt: r.added_at,
    }));
  }

  async addRevocation(revocation: RevocationRecord): Promise<void> {
    this.statements.addRevocation.run(revocation.region, revocation.kid ?? null, revocation.serial ?? null, revocation.addedAt);
  }

  async replayClaim(iss: string, jti: string, expiresAtSeconds: number, nowSeconds: number): Promise<boolean> {
    return (await this.writer.run(HOT_WRITES.replayClaim, [iss, jti, expiresAtSeconds, nowSeconds])) > 0;
  }

  async replayRelease(iss: string, jti: string, expiresAtSeconds: number): Promise<void> {
    await this.writer.run(HOT_WRITES.replayRelease, [iss, jti, expiresAtSeconds]);
  }

  async replayCount(): Promise<number> {
    return this.statements.replayCount.get()?.n ?? 0;
  }

  async replayPurge(nowSeconds: number): Promise<number> {
    return this.purgeInChunks(HOT_WRITES.replayPurgeChunk, nowSeconds);
  }

  async idempotencyClaim(iss: string, key: string, bodyDigest: string, nowSeconds: number): Promise<IdempotencyClaim> {
    if ((await this.writer.run(HOT_WRITES.idempotencyInsert, [iss, key, bodyDigest, nowSeconds])) > 0) return { state: 'claimed' };
    const row = this.statements.idempotencyGet.get(iss, key);
    if (!row) return this.idempotencyClaim(iss, key, bodyDigest, nowSeconds);
    if (row.answer === null || row.status === null || row.content_type === null) return { state: 'pending', bodyDigest: row.body_digest };
    return { state: 'answered', bodyDigest: row.body_digest, answer: { status: row.status, contentType: row.content_type, body: row.answer } };
  }

  async idempotencyAnswer(iss: string, key: string, answer: StoredAnswer): Promise<void> {
    await this.writer.run(HOT_WRITES.idempotencyAnswer, [answer.status, answer.contentType, answer.body, iss, key]);
  }

  async idempotencyRelease(iss: string, key: string): Promise<void> {
    await this.writer.run(HOT_WRITES.idempotencyRelease, [iss, key]);
  }

  async idempotencyPurge(olderThanSeconds: number): Promise<number> {
    return this.purgeInChunks(HOT_WRITES.idempotencyPurgeChunk, olderThanSeconds);
  }

  /**
   * Deletes what `sql` selects, PURGE_CHUNK_ROWS rows a statement, through the writer thread. One DELETE of
   * a five-minute backlog (300,000 replay entries at 1,000 msg/s) held the thread serving requests for
   * ≈ 250 ms and every claim behind it; in chunks, the claims arriving meanwhile go between them
   * (bench/results.md, "The replay purge").
   */
  private async purgeInChunks(sql: string, bound: number): Promise<number> {
    let total = 0;
    for (;;) {
      // Closing stops a purge after the chunk in hand; the next purge, after a restart, takes up the rest.
      if (this.closing) return total;
      const deleted = await this.writer.run(sql, [bound, PURGE_CHUNK_ROWS]);
      total += deleted;
      if (deleted < PURGE_CHUNK_ROWS) return total;
    }
  }

  async getSigningKey(): Promise<SigningKeyRecord | undefined> {
    return this.keys.activeKey();
  }

  async putSigningKey(key: SigningKeyRecord): Promise<void> {
    this.keys.putActiveKey(key);
  }

  async listSigningKeys(): Promise<ManagedKeyRecord[]> {
    return this.keys.listKeys();
  }

  async saveSigningKeys(records: readonly ManagedKeyRecord[]): Promise<void> {
    this.keys.saveKeys(records);
  }

  async listCrls(region?: string): Promise<CrlRecord[]> {
    return this.keys.listCrls(region);
  }

  async putCrl(crl: CrlRecord): Promise<void> {
    this.keys.putCrl(crl);
  }

  async getSetting(name: string): Promise<string | undefined> {
    return this.statements.getSetting.get(name)?.value;
  }

  async putSetting(name: string, value: string): Promise<void> {
    this.statements.putSetting.run(name, value);
  }

  async listFormats(): Promise<FormatVersion[]> {
    return this.statements.listFormats.all().map(formatFromRow);
  }

  async getFormat(name: string, version?: number): Promise<FormatVersion | undefined> {
    const row = version === undefined ? this.statements.currentFormat.get(name) : this.statements.formatVersion.get(name, version);
    return row && formatFromRow(row);
  }

  async formatHistory(name: string): Promise<FormatVersion[]> {
    return this.statements.formatHistory.all(name).map(formatFromRow);
  }

  async putFormat(name: string, document: string): Promise<FormatVersion> {
    return this.db.transaction(() => {
      const version = (this.statements.currentFormat.get(name)?.version ?? 0) + 1;
      const savedAt = new Date().toISOString();
      this.statements.insertFormat.run(name, version, document, savedAt);
      return { name, version, document, savedAt };
    })();
  }

  async outboxEnqueue(message: NewOutboundMessage): Promise<OutboundEnqueueResult> {
    // Resolves once the group commit holding the row is on disk: the 202 comes after that.
    const { idempotency } = message;
    const inserted = await this.writer.run(HOT_WRITES.outboxInsert, [
      message.id, message.target, message.messageType, message.canonical, message.partnerBody, message.contentType,
      idempotency?.key ?? null, idempotency?.requestDigest ?? null, message.nowMs, message.nowMs, message.nowMs,
    ]);
    if (inserted > 0) {
      // What was just inserted, without reading it back.
      return {
        outcome: 'created',
        message: {
          id: message.id, target: message.target, messageType: message.messageType, status: 'queued', attempts: 0,
          nextAttemptAtMs: message.nowMs, lastError: null, receipt: null, createdAtMs: message.nowMs, updatedAtMs: message.nowMs,
        },
      };
    }
    const existing = this.statements.outboxByKey.get(idempotency!.key)!;
    const outcome = existing.request_digest === idempotency!.requestDigest ? 'duplicate' : 'key-reused';
    return { outcome, message: outboxSummaryFromRow(existing) };
  }

  async outboxGet(id: string): Promise<OutboundMessage | undefined> {
    const row = this.statements.outboxGet.get(id);
    return row && outboxMessageFromRow(row);
  }

  async outboxList(query: OutboxQuery): Promise<OutboundSummary[]> {
    const sql = outboxListSql(query);
    let statement = this.outboxLists.get(sql);
    if (!statement) {
      statement = this.db.prepare<[Record<string, string | number>], OutboxSummaryRow>(sql);
      this.outboxLists.set(sql, statement);
    }
    const parameters: Record<string, string | number> = { limit: query.limit };
    if (query.status !== undefined) parameters.status = query.status;
    if (query.target !== undefined) parameters.target = query.target;
    return statement.all(parameters).map(outboxSummaryFromRow);
  }

  async outboxCounts(): Promise<Record<OutboundStatus, number>> {
    const counts = Object.fromEntries(OUTBOUND_STATUSES.map((status) => [status, 0])) as Record<OutboundStatus, number>;
    for (const { status, n } of this.statements.outboxCounts.all()) counts[status as OutboundStatus] = n;
    return counts;
  }

  async outboxOldestPendingMs(): Promise<number | undefined> {
    return this.statements.outboxOldestPending.get()?.oldest ?? undefined;
  }

  async outboxQueuedTargets(): Promise<Array<{ target: string; nextAttemptAtMs: number }>> {
    return this.statements.outboxQueuedTargets.all().map((row) => ({ target: row.target, nextAttemptAtMs: row.next }));
  }

  async outboxNextDue(target: string): Promise<number | undefined> {
    return this.statements.outboxNextDue.get(target)?.next ?? undefined;
  }

  async outboxClaim(target: string, nowMs: number, limit: number): Promise<OutboundMessage[]> {
    // Not waiting for the commit: a claim lost in a crash leaves the messages queued, and a restart requeues
    // whatever is in delivering anyway. A settlement comes in a later batch, after this one has committed.
    // RETURNING gives no order: sort as the sub-select chose.
    const rows = await this.writer.allUncommitted<OutboxRow>(HOT_WRITES.outboxClaim, [nowMs, target, nowMs, limit]);
    return rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.seq - b.seq).map(outboxMessageFromRow);
  }

  async outboxSettle(id: string, settlement: OutboundSettlement, nowMs: number): Promise<boolean> {
    const nextAttemptAt = settlement.status === 'queued' ? settlement.nextAttemptAtMs : nowMs;
    const kept = settlement.status === 'delivered' || settlement.status === 'failed' ? settlement.receipt : undefined;
    const receipt = kept === undefined ? null : JSON.stringify(kept);
    const lastError = settlement.lastError ?? null;
    return (await this.writer.run(HOT_WRITES.outboxSettle, [settlement.status, nextAttemptAt, lastError, receipt, nowMs, id])) > 0;
  }

  async outboxRelease(ids: readonly string[] | 'all', nowMs: number): Promise<number> {
    if (ids === 'all') return this.statements.outboxReleaseAll.run(nowMs).changes;
    // Through the writer thread, in one batch: after the claims before it, and without an fsync on this thread.
    const changes = await Promise.all(ids.map((id) => this.writer.run(HOT_WRITES.outboxReleaseOne, [nowMs, id])));
    return changes.reduce((sum, n) => sum + n, 0);
  }

  async outboxRequeue(id: string, nowMs: number, body?: { partnerBody: Buffer; contentType: string }): Promise<OutboundSummary | undefined> {
    const row = this.statements.outboxRequeue.get({ id, now: nowMs, body: body?.partnerBody ?? null, contentType: body?.contentType ?? null });
    return row && outboxSummaryFromRow(row);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.writer.close();
    this.db.close();
  }
}

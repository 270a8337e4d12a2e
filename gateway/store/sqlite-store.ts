/**
 * The embedded Store: one SQLite file under XR_DATA_DIR, through better-sqlite3 (synchronous, in-process,
 * no server to run; WAL so readers never wait for the writer; synchronous=FULL so that a commit has reached
 * the disk before anything is acknowledged).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type {
  FormatVersion, IdempotencyClaim, Partner, RevocationRecord, SigningKeyRecord, Store, StoredAnswer, TrustAnchorRecord,
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
CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT PRIMARY KEY,
  private_key_pem TEXT NOT NULL,
  chain_pem TEXT NOT NULL,
  created_at TEXT NOT NULL
);
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
`;

interface FormatRow { name: string; version: number; document: string; saved_at: string }
interface AnchorRow { region: string; kid: string; subject: string; not_after: string; pem: string; added_at: string }
interface RevocationRow { region: string; kid: string | null; serial: string | null; added_at: string }

function formatFromRow(row: FormatRow): FormatVersion {
  return { name: row.name, version: row.version, document: row.document, savedAt: row.saved_at };
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
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
      replaySeen: db.prepare<[string, string, number], { one: number }>('SELECT 1 AS one FROM replay WHERE iss = ? AND jti = ? AND expires_at > ?'),
      replayInsert: db.prepare('INSERT INTO replay (iss, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT (iss, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE replay.expires_at <= ?'),
      replayCount: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM replay'),
      replayPurge: db.prepare('DELETE FROM replay WHERE expires_at <= ?'),
      idempotencyInsert: db.prepare('INSERT INTO inbound_idempotency (iss, key, body_digest, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (iss, key) DO NOTHING'),
      idempotencyGet: db.prepare<[string, string], { body_digest: string; status: number | null; content_type: string | null; answer: Buffer | null }>('SELECT body_digest, status, content_type, answer FROM inbound_idempotency WHERE iss = ? AND key = ?'),
      idempotencyAnswer: db.prepare('UPDATE inbound_idempotency SET status = ?, content_type = ?, answer = ? WHERE iss = ? AND key = ?'),
      idempotencyRelease: db.prepare('DELETE FROM inbound_idempotency WHERE iss = ? AND key = ? AND answer IS NULL'),
      idempotencyPurge: db.prepare('DELETE FROM inbound_idempotency WHERE created_at < ?'),
      getSigningKey: db.prepare<[], { kid: string; private_key_pem: string; chain_pem: string; created_at: string }>('SELECT * FROM signing_keys ORDER BY created_at DESC LIMIT 1'),
      putSigningKey: db.prepare('INSERT OR REPLACE INTO signing_keys (kid, private_key_pem, chain_pem, created_at) VALUES (?, ?, ?, ?)'),
      getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?'),
      putSetting: db.prepare('INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)'),
      listFormats: db.prepare<[], FormatRow>('SELECT f.* FROM formats f JOIN (SELECT name, MAX(version) AS v FROM formats GROUP BY name) m ON f.name = m.name AND f.version = m.v ORDER BY f.name'),
      currentFormat: db.prepare<[string], FormatRow>('SELECT * FROM formats WHERE name = ? ORDER BY version DESC LIMIT 1'),
      formatVersion: db.prepare<[string, number], FormatRow>('SELECT * FROM formats WHERE name = ? AND version = ?'),
      formatHistory: db.prepare<[string], FormatRow>('SELECT * FROM formats WHERE name = ? ORDER BY version DESC'),
      insertFormat: db.prepare('INSERT INTO formats (name, version, document, saved_at) VALUES (?, ?, ?, ?)'),
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

  async replaySeen(iss: string, jti: string, nowSeconds: number): Promise<boolean> {
    return this.statements.replaySeen.get(iss, jti, nowSeconds) !== undefined;
  }

  async replayClaim(iss: string, jti: string, expiresAtSeconds: number, nowSeconds: number): Promise<boolean> {
    // An expired entry may be taken over; a live one may not (the WHERE of the upsert).
    return this.statements.replayInsert.run(iss, jti, expiresAtSeconds, nowSeconds).changes > 0;
  }

  async replayCount(): Promise<number> {
    return this.statements.replayCount.get()?.n ?? 0;
  }

  async replayPurge(nowSeconds: number): Promise<number> {
    return this.statements.replayPurge.run(nowSeconds).changes;
  }

  async idempotencyClaim(iss: string, key: string, bodyDigest: string, nowSeconds: number): Promise<IdempotencyClaim> {
    if (this.statements.idempotencyInsert.run(iss, key, bodyDigest, nowSeconds).changes > 0) return { state: 'claimed' };
    const row = this.statements.idempotencyGet.get(iss, key);
    if (!row) return this.idempotencyClaim(iss, key, bodyDigest, nowSeconds);
    if (row.answer === null || row.status === null || row.content_type === null) return { state: 'pending', bodyDigest: row.body_digest };
    return { state: 'answered', bodyDigest: row.body_digest, answer: { status: row.status, contentType: row.content_type, body: row.answer } };
  }

  async idempotencyAnswer(iss: string, key: string, answer: StoredAnswer): Promise<void> {
    this.statements.idempotencyAnswer.run(answer.status, answer.contentType, answer.body, iss, key);
  }

  async idempotencyRelease(iss: string, key: string): Promise<void> {
    this.statements.idempotencyRelease.run(iss, key);
  }

  async idempotencyPurge(olderThanSeconds: number): Promise<number> {
    return this.statements.idempotencyPurge.run(olderThanSeconds).changes;
  }

  async getSigningKey(): Promise<SigningKeyRecord | undefined> {
    const row = this.statements.getSigningKey.get();
    return row && { kid: row.kid, privateKeyPem: row.private_key_pem, chainPem: JSON.parse(row.chain_pem) as string[], createdAt: row.created_at };
  }

  async putSigningKey(key: SigningKeyRecord): Promise<void> {
    this.statements.putSigningKey.run(key.kid, key.privateKeyPem, JSON.stringify(key.chainPem), key.createdAt);
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

  async close(): Promise<void> {
    this.db.close();
  }
}

/**
 * The SQLite tables of Huzhou's signing keys and of partner CRLs, used by SqliteStore. The first schema
 * kept one row per key (kid, private_key_pem, chain_pem, created_at) and took the newest as the signer;
 * the key lifecycle (gateway/keys/) needs an id before there is a certificate, and a state per key, so such
 * a table is rebuilt once (SQLite cannot change a primary key in place): the newest key becomes the
 * active one, older ones retired.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { CrlRecord, ManagedKeyRecord, SigningKeyRecord, SigningKeyState } from './store.ts';

const KEY_SCHEMA = `
CREATE TABLE IF NOT EXISTS signing_keys (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('pending', 'ready', 'active', 'retiring', 'retired')),
  kid TEXT UNIQUE,
  subject TEXT NOT NULL,
  private_key_pem TEXT NOT NULL,
  csr_pem TEXT,
  chain_pem TEXT NOT NULL,
  created_at TEXT NOT NULL,
  activated_at TEXT,
  overlap_ends_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
CREATE TABLE IF NOT EXISTS partner_crls (
  region TEXT NOT NULL,
  issuer_kid TEXT NOT NULL,
  this_update TEXT NOT NULL,
  next_update TEXT,
  der BLOB NOT NULL,
  added_at TEXT NOT NULL,
  PRIMARY KEY (region, issuer_kid)
);
`;

interface KeyRow {
  id: string; state: string; kid: string | null; subject: string; private_key_pem: string; csr_pem: string | null;
  chain_pem: string; created_at: string; activated_at: string | null; overlap_ends_at: string | null;
}
interface FirstSchemaRow { kid: string; private_key_pem: string; chain_pem: string; created_at: string }
interface CrlRow { region: string; issuer_kid: string; this_update: string; next_update: string | null; der: Buffer; added_at: string }

/** Ids are 12 hex characters; a key of the first schema gets one derived from its kid, the same in every process. */
function keyIdOf(kid: string): string {
  return createHash('sha256').update(kid).digest('hex').slice(0, 12);
}

function keyFromRow(row: KeyRow): ManagedKeyRecord {
  return {
    id: row.id,
    state: row.state as SigningKeyState,
    kid: row.kid,
    subject: row.subject,
    privateKeyPem: row.private_key_pem,
    csrPem: row.csr_pem,
    chainPem: JSON.parse(row.chain_pem) as string[],
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    overlapEndsAt: row.overlap_ends_at,
  };
}

function rowOf(key: ManagedKeyRecord): KeyRow {
  return {
    id: key.id, state: key.state, kid: key.kid, subject: key.subject, private_key_pem: key.privateKeyPem, csr_pem: key.csrPem,
    chain_pem: JSON.stringify(key.chainPem), created_at: key.createdAt, activated_at: key.activatedAt, overlap_ends_at: key.overlapEndsAt,
  };
}

function subjectOf(chainPem: string[]): string {
  const leaf = chainPem[0];
  return leaf === undefined ? '' : new X509Certificate(leaf).subject.split('\n').join(', ');
}

function migrateFirstSchema(db: Database.Database, create: () => void): void {
  const columns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('signing_keys')").all().map((c) => c.name);
  if (columns.length === 0 || columns.includes('state')) return;
  const rows = db.prepare<[], FirstSchemaRow>('SELECT * FROM signing_keys ORDER BY created_at').all();
  db.exec('ALTER TABLE signing_keys RENAME TO signing_keys_first_schema');
  create();
  const insert = db.prepare(`INSERT INTO signing_keys (id, state, kid, subject, private_key_pem, csr_pem, chain_pem, created_at, activated_at, overlap_ends_at)
    VALUES (@id, @state, @kid, @subject, @private_key_pem, NULL, @chain_pem, @created_at, @created_at, NULL)`);
  rows.forEach((row, index) => {
    const newest = index === rows.length - 1;
    insert.run({
      id: keyIdOf(row.kid), state: newest ? 'active' : 'retired', kid: row.kid, subject: subjectOf(JSON.parse(row.chain_pem) as string[]),
      private_key_pem: newest ? row.private_key_pem : '', chain_pem: row.chain_pem, created_at: row.created_at,
    });
  });
  db.exec('DROP TABLE signing_keys_first_schema');
}

export class SqliteKeyTables {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(db: Database.Database) {
    this.db = db;
    // IMMEDIATE: two processes opening the same file at once (a cluster) migrate it once.
    db.transaction(() => {
      migrateFirstSchema(db, () => db.exec(KEY_SCHEMA));
      db.exec(KEY_SCHEMA);
    }).immediate();
    this.statements = {
      active: db.prepare<[], KeyRow>("SELECT * FROM signing_keys WHERE state = 'active'"),
      list: db.prepare<[], KeyRow>('SELECT * FROM signing_keys ORDER BY created_at, id'),
      retireActive: db.prepare("UPDATE signing_keys SET state = 'retired', private_key_pem = '' WHERE state = 'active'"),
      upsert: db.prepare(`INSERT INTO signing_keys (id, state, kid, subject, private_key_pem, csr_pem, chain_pem, created_at, activated_at, overlap_ends_at)
        VALUES (@id, @state, @kid, @subject, @private_key_pem, @csr_pem, @chain_pem, @created_at, @activated_at, @overlap_ends_at)
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, kid = excluded.kid, subject = excluded.subject,
          private_key_pem = excluded.private_key_pem, csr_pem = excluded.csr_pem, chain_pem = excluded.chain_pem,
          activated_at = excluded.activated_at, overlap_ends_at = excluded.overlap_ends_at`),
      listCrls: db.prepare<[], CrlRow>('SELECT * FROM partner_crls ORDER BY region, issuer_kid'),
      listCrlsOf: db.prepare<[string], CrlRow>('SELECT * FROM partner_crls WHERE region = ? ORDER BY issuer_kid'),
      putCrl: db.prepare(`INSERT INTO partner_crls (region, issuer_kid, this_update, next_update, der, added_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (region, issuer_kid) DO UPDATE SET this_update = excluded.this_update, next_update = excluded.next_update,
          der = excluded.der, added_at = excluded.added_at`),
      deleteCrls: db.prepare('DELETE FROM partner_crls WHERE region = ?'),
    };
  }

  activeKey(): SigningKeyRecord | undefined {
    const row = this.statements.active.get();
    return row && { kid: row.kid ?? '', privateKeyPem: row.private_key_pem, chainPem: JSON.parse(row.chain_pem) as string[], createdAt: row.created_at };
  }

  putActiveKey(key: SigningKeyRecord): void {
    this.db.transaction(() => {
      this.statements.retireActive.run();
      this.statements.upsert.run(rowOf({
        id: keyIdOf(key.kid), state: 'active', kid: key.kid, subject: subjectOf(key.chainPem), privateKeyPem: key.privateKeyPem, csrPem: null,
        chainPem: key.chainPem, createdAt: key.createdAt, activatedAt: key.createdAt, overlapEndsAt: null,
      }));
    })();
  }

  listKeys(): ManagedKeyRecord[] {
    return this.statements.list.all().map(keyFromRow);
  }

  saveKeys(records: readonly ManagedKeyRecord[]): void {
    // The active key last: the one-active index is checked per statement, so the old one steps down first.
    const ordered = [...records].sort((a, b) => Number(a.state === 'active') - Number(b.state === 'active'));
    this.db.transaction(() => {
      for (const record of ordered) this.statements.upsert.run(rowOf(record));
    })();
  }

  listCrls(region?: string): CrlRecord[] {
    const rows = region === undefined ? this.statements.listCrls.all() : this.statements.listCrlsOf.all(region);
    return rows.map((row) => ({
      region: row.region, issuerKid: row.issuer_kid, thisUpdate: row.this_update, nextUpdate: row.next_update, der: row.der, addedAt: row.added_at,
    }));
  }

  putCrl(crl: CrlRecord): void {
    this.statements.putCrl.run(crl.region, crl.issuerKid, crl.thisUpdate, crl.nextUpdate, crl.der, crl.addedAt);
  }

  deleteCrls(region: string): void {
    this.statements.deleteCrls.run(region);
  }
}

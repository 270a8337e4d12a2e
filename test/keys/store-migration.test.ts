import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createDevelopmentPki } from '../../certs/dev-pki.ts';
import { SqliteStore } from '../../gateway/store/sqlite-store.ts';

describe('the signing keys of a data directory from before key management', function () {
  let dataDir: string;

  beforeEach(function () {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-migrate-'));
  });

  afterEach(function () {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keep signing: the newest key becomes the active one, an older one retired without its private key', async function () {
    const file = path.join(dataDir, 'gateway.sqlite');
    const [older, newer] = [await createDevelopmentPki('330500'), await createDevelopmentPki('330500')];
    const first = new Database(file);
    first.exec('CREATE TABLE signing_keys (kid TEXT PRIMARY KEY, private_key_pem TEXT NOT NULL, chain_pem TEXT NOT NULL, created_at TEXT NOT NULL)');
    const insert = first.prepare('INSERT INTO signing_keys VALUES (?, ?, ?, ?)');
    insert.run('older-kid', older.privateKeyPem, JSON.stringify(older.chainPem), '2026-01-01T00:00:00.000Z');
    insert.run('newer-kid', newer.privateKeyPem, JSON.stringify(newer.chainPem), '2026-06-01T00:00:00.000Z');
    first.close();

    for (let opening = 0; opening < 2; opening++) {
      const store = new SqliteStore(file);
      try {
        const active = await store.getSigningKey();
        assert.deepEqual([active?.kid, active?.privateKeyPem], ['newer-kid', newer.privateKeyPem]);
        const keys = await store.listSigningKeys();
        assert.deepEqual(keys.map((k) => [k.kid, k.state, k.privateKeyPem === '']), [['older-kid', 'retired', true], ['newer-kid', 'active', false]]);
        assert.equal(keys[1]!.subject, 'CN=XR gateway 330500 (development), O=Huzhou, C=CN');
        assert.match(keys[1]!.id, /^[0-9a-f]{12}$/);
      } finally {
        await store.close();
      }
    }
  });

  it('allow one active key only', async function () {
    const store = new SqliteStore(path.join(dataDir, 'gateway.sqlite'));
    try {
      const base = { kid: null, subject: 'CN=x', privateKeyPem: 'x', csrPem: null, chainPem: [], createdAt: '2026-01-01T00:00:00.000Z', activatedAt: null, overlapEndsAt: null };
      await store.saveSigningKeys([{ ...base, id: 'aaaaaaaaaaaa', state: 'active' }]);
      await assert.rejects(store.saveSigningKeys([{ ...base, id: 'bbbbbbbbbbbb', state: 'active' }]), /UNIQUE/);
    } finally {
      await store.close();
    }
  });
});

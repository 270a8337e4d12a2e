import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../../config/settings.ts';
import { DATABASE_FILE } from '../../gateway/server.ts';
import { ADMIN_TOKEN, AUDITOR_TOKEN, LOCAL_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { capturingLogger, makeAuthority } from '../support/keys.ts';

const PASSPHRASE = 'correct horse battery staple';
const REPO = path.resolve(import.meta.dirname, '../..');

function storedKeys(dataDir: string): Array<{ id: string; state: string; private_key_pem: string }> {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare<[], { id: string; state: string; private_key_pem: string }>('SELECT id, state, private_key_pem FROM signing_keys').all();
  } finally {
    db.close();
  }
}

async function refusalOf(start: Promise<unknown>): Promise<ConfigError> {
  try {
    await start;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  return assert.fail('the gateway started');
}

describe('private keys at rest (XR_KEY_PASSPHRASE) and never shown', function () {
  let harness: TestGateway;
  let dataDir: string;

  beforeEach(function () {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-keys-'));
  });

  afterEach(async function () {
    await harness?.gateway.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores every key as encrypted PKCS#8 that opens only with the passphrase, and restarts with it', async function () {
    harness = await startTestGateway({ XR_DATA_DIR: dataDir, XR_KEY_PASSPHRASE: PASSPHRASE });
    const kid = harness.gateway.signer().kid;
    assert.equal((await harness.admin('POST', '/admin/v1/keys', { subject: 'CN=XR gateway 330500,O=Huzhou,C=CN' })).status, 201);
    const keys = storedKeys(dataDir);
    assert.equal(keys.length, 2);
    for (const key of keys) {
      assert.match(key.private_key_pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
      assert.throws(() => createPrivateKey(key.private_key_pem));
      assert.throws(() => createPrivateKey({ key: key.private_key_pem, passphrase: 'not the passphrase' }));
      assert.equal(createPrivateKey({ key: key.private_key_pem, passphrase: PASSPHRASE }).asymmetricKeyType, 'ec');
    }
    const active = keys.find((key) => key.state === 'active')!;
    const activePublic = createPublicKey(createPrivateKey({ key: active.private_key_pem, passphrase: PASSPHRASE })).export({ type: 'spki', format: 'der' });
    assert.ok(activePublic.equals(harness.gateway.signer().chain[0]!.publicKey.export({ type: 'spki', format: 'der' })));

    await harness.restart();
    assert.equal(harness.gateway.signer().kid, kid);
  });

  it('refuses to start without the passphrase, or with a wrong one, naming XR_KEY_PASSPHRASE', async function () {
    harness = await startTestGateway({ XR_DATA_DIR: dataDir, XR_KEY_PASSPHRASE: PASSPHRASE });
    await harness.gateway.close();
    const missing = await refusalOf(startTestGateway({ XR_DATA_DIR: dataDir }));
    assert.equal(missing.variable, 'XR_KEY_PASSPHRASE');
    assert.match(missing.message, /stored encrypted: set XR_KEY_PASSPHRASE/);
    assert.match((await refusalOf(startTestGateway({ XR_DATA_DIR: dataDir, XR_KEY_PASSPHRASE: 'too short' }))).message, /^XR_KEY_PASSPHRASE: .*at least 12 characters/);
    const wrong = await refusalOf(startTestGateway({ XR_DATA_DIR: dataDir, XR_KEY_PASSPHRASE: 'a different passphrase' }));
    assert.equal(wrong.variable, 'XR_KEY_PASSPHRASE');
    assert.match(wrong.message, /does not decrypt/);
    assert.doesNotMatch(wrong.message, /a different passphrase/);

    // npm start says it in one line and exits 1.
    const started = spawnSync(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env.PATH, XR_DATA_DIR: dataDir, XR_WORKERS: '1', XR_PARTNER_PORT: '0', XR_LOCAL_PORT: '0', XR_ADMIN_PORT: '0',
        XR_ADMIN_TOKEN: ADMIN_TOKEN, XR_LOCAL_TOKEN: LOCAL_TOKEN, XR_AUDITOR_TOKEN: AUDITOR_TOKEN, XR_LOG_LEVEL: 'silent',
      },
    });
    assert.equal(started.status, 1, started.stderr);
    assert.match(started.stderr, /^xr-gateway: configuration error: XR_KEY_PASSPHRASE: .*stored encrypted/m);
  });

  it('encrypts keys stored before the passphrase was set, at the first start with it', async function () {
    harness = await startTestGateway({ XR_DATA_DIR: dataDir });
    assert.match(storedKeys(dataDir)[0]!.private_key_pem, /^-----BEGIN PRIVATE KEY-----/);
    await harness.gateway.close();
    harness = await startTestGateway({ XR_DATA_DIR: dataDir, XR_KEY_PASSPHRASE: PASSPHRASE });
    assert.match(storedKeys(dataDir)[0]!.private_key_pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  });

  it('never puts a private key or the passphrase in an answer or a log line, even when refusing', async function () {
    const { log, lines } = capturingLogger();
    harness = await startTestGateway({ XR_DATA_DIR: dataDir, XR_KEY_PASSPHRASE: PASSPHRASE, XR_LOG_LEVEL: 'debug' }, { log });
    const ca = await makeAuthority('CN=Huzhou XR CA,O=Huzhou,C=CN');
    const answers: string[] = [];
    const statuses: number[] = [];
    const call = async (method: string, pathname: string, body?: unknown, type?: string) => {
      const response = await harness.admin(method, pathname, body, type);
      statuses.push(response.status);
      answers.push(await response.text());
    };
    await call('POST', '/admin/v1/keys', { subject: 'CN=XR gateway 330500,O=Huzhou,C=CN' });
    const { key, csr } = JSON.parse(answers.at(-1)!) as { key: { id: string }; csr: string };
    await call('PUT', `/admin/v1/keys/${key.id}/certificate`, await ca.issueFromCsr(csr));
    await call('PUT', `/admin/v1/keys/${key.id}/certificate`, `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(64)}\n-----END PRIVATE KEY-----\n`);
    await call('POST', '/admin/v1/keys/import', { pkcs12: 'AAAA', passphrase: PASSPHRASE });
    await call('POST', `/admin/v1/keys/${key.id}/activate`, { overlapDays: 1, acceptNewAnchor: true });
    await call('GET', '/admin/v1/keys');
    await call('GET', '/admin/v1/certificates');
    answers.push(await (await fetch(`${harness.gateway.urls.admin}/admin/v1/identity`)).text());

    const secrets = storedKeys(dataDir).filter((k) => k.private_key_pem !== '').flatMap((k) => {
      const der = createPrivateKey({ key: k.private_key_pem, passphrase: PASSPHRASE }).export({ type: 'pkcs8', format: 'der' });
      return [der.toString('base64').slice(40, 80), k.private_key_pem.split('\n')[2]!];
    });
    const everything = [...answers, ...lines].join('\n');
    assert.deepEqual(statuses, [201, 200, 400, 400, 200, 200, 200]);
    assert.ok(lines.some((line) => line.includes('signing key activated')));
    assert.doesNotMatch(everything, /PRIVATE KEY-----\n[A-Za-z0-9+/]{20}/);
    assert.ok(!everything.includes(PASSPHRASE));
    for (const secret of secrets) assert.ok(!everything.includes(secret), 'key material leaked');
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { certificateExpiries } from '../../gateway/keys/expiry.ts';
import type { KeyContext } from '../../gateway/keys/key-context.ts';
import { activateSigningKey, createDevelopmentIdentity, generateSigningKey, installCertificate, loadActiveSigner } from '../../gateway/keys/lifecycle.ts';
import { announceExternalChange, startKeyMaintenance, type KeyMaintenance } from '../../gateway/keys/maintenance.ts';
import { SqliteStore } from '../../gateway/store/sqlite-store.ts';
import { capturingLogger, makeAuthority } from '../support/keys.ts';

const DAY_MS = 86_400_000;

describe('key maintenance in a running gateway: overlaps end, CLI changes arrive, expiry is logged once a day', function () {
  let dataDir: string;
  let store: SqliteStore;
  let now: number;
  let keys: KeyContext;
  let maintenance: KeyMaintenance | undefined;
  const reloads: number[] = [];
  let captured: ReturnType<typeof capturingLogger>;

  beforeEach(async function () {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-maintenance-'));
    store = new SqliteStore(path.join(dataDir, 'gateway.sqlite'));
    now = Date.now();
    keys = { store, passphrase: undefined, nowMs: () => now, identityFromFiles: false };
    reloads.length = 0;
    captured = capturingLogger();
    await createDevelopmentIdentity(keys, '330500');
  });

  afterEach(async function () {
    maintenance?.stop();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<KeyMaintenance> {
    const signer = (await loadActiveSigner(keys))!;
    maintenance = await startKeyMaintenance({
      keys, log: captured.log, warnExpiries: true, reload: async () => { reloads.push(now); },
      expiries: { ownRegion: '330500', store, signingChain: () => signer.chain },
    });
    return maintenance;
  }

  it('retires a key when its overlap ends and destroys its private key', async function () {
    const ca = await makeAuthority('CN=Huzhou XR CA,O=Huzhou,C=CN');
    const { key, csrPem } = await generateSigningKey(keys, { subject: 'CN=XR gateway 330500,O=Huzhou,C=CN' });
    await installCertificate(keys, key.id, await ca.issueFromCsr(csrPem));
    const { previous } = await activateSigningKey(keys, key.id, { overlapDays: 2, acceptNewAnchor: true });
    const running = await start();
    assert.equal((await store.listSigningKeys()).find((k) => k.id === previous!.id)!.state, 'retiring');
    now += 2 * DAY_MS;
    await running.tick();
    const retired = (await store.listSigningKeys()).find((k) => k.id === previous!.id)!;
    assert.deepEqual([retired.state, retired.privateKeyPem], ['retired', '']);
    assert.ok(captured.lines.some((line) => line.includes('overlap ended')));
  });

  it('reloads once after each change the CLI announces, and not otherwise', async function () {
    await announceExternalChange(store, now);
    const running = await start();
    await running.tick();
    assert.deepEqual(reloads, []);
    await announceExternalChange(store, now + 1);
    await running.tick();
    await running.tick();
    assert.equal(reloads.length, 1);
  });

  it('logs a certificate that expires within 30 days once a day, not at every tick', async function () {
    const soon = await makeAuthority('CN=Soon CA,O=Suzhou,C=CN', { notAfter: new Date(now + 5 * DAY_MS + 3_600_000) });
    await store.addTrustAnchors([{ region: '320500', kid: 'k'.repeat(43), subject: 'CN=Soon CA, O=Suzhou, C=CN', notAfter: new Date(soon.cert.validTo).toISOString(), pem: soon.pem, addedAt: new Date(now).toISOString() }]);
    const running = await start();
    await running.tick();
    const warnings = () => captured.lines.filter((line) => line.includes('Soon CA')).length;
    assert.equal(warnings(), 1);
    now += DAY_MS;
    await running.tick();
    assert.equal(warnings(), 2);
    const listed = await certificateExpiries({ ownRegion: '330500', store, signingChain: () => [] }, now);
    assert.deepEqual(listed.map((entry) => [entry.scope, entry.daysLeft]), [['partner', 4]]);
  });
});

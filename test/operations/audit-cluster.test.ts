import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AUDIT_FILE, verifyAuditFile } from '../../gateway/audit/sqlite-audit-log.ts';
import { SimulatedBackend } from '../support/backend.ts';
import { startClusterGateway, type ClusterGateway } from '../support/cluster.ts';
import { postSigned, requestHeader, signRaw } from '../support/partner-client.ts';
import { makePartnerPki } from '../support/pki.ts';
import { STATUS } from './rig.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

for (const compiled of [false, true]) {
  describe(`the audit trail with XR_WORKERS: several processes extend one chain (${compiled ? 'compiled, as npm start runs it' : 'TypeScript through tsx'})`, function () {
    this.timeout(60_000);
    let cluster: ClusterGateway | undefined;
    let backend: SimulatedBackend;
    let dataDir: string;

    before(async function () {
      // npm start builds dist/ first (bin/build.mjs); the audit writer thread then runs as plain JavaScript.
      if (compiled) execFileSync(process.execPath, ['bin/build.mjs'], { cwd: REPO, stdio: 'ignore' });
      backend = await SimulatedBackend.start();
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-audit-cluster-'));
    });

    after(async function () {
      await cluster?.stop();
      await backend.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('keeps the chain intact when two workers record messages at the same time, and writes what is queued on SIGTERM', async function () {
      const gateway = await startClusterGateway({ dataDir, backendUrl: backend.url, workers: 2, compiled });
      cluster = gateway;
      const { admin } = gateway;
      const pki = await makePartnerPki('320500');
      assert.equal((await admin('PUT', '/admin/v1/partners/320500', JSON.stringify({ name: '苏州市', endpoint: 'https://xr.suzhou.example', format: 'hz-json', services: ['application.status'] }), 'application/json')).status, 200);
      assert.equal((await admin('POST', '/admin/v1/partners/320500/trust', pki.caPem, 'application/x-pem-file')).status, 201);

      const messages = 40;
      const answers = await Promise.all(Array.from({ length: messages }, (_, i) => {
        const raw = Buffer.from(JSON.stringify({ ...STATUS, applyNo: `32050020261127${String(i).padStart(5, '0')}` }));
        const header = requestHeader(pki.signer, { iss: '320500', messageType: 'application.status' });
        return postSigned(gateway.partnerUrl, 'application.status', raw, 'application/json', signRaw(header, raw, pki.signer.privateKey, 'ES256'));
      }));
      assert.deepEqual(answers.map((a) => a.status), Array(messages).fill(200));
      assert.equal(await gateway.stop(), 0);

      const file = path.join(dataDir, AUDIT_FILE);
      const verdict = verifyAuditFile(file);
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
      const db = new Database(file, { readonly: true });
      try {
        const count = (kind: string) => db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM audit WHERE kind = ?").get(kind)!.n;
        assert.equal(count('inbound'), messages, 'every message recorded once');
        assert.equal(count('admin'), 2);
      } finally {
        db.close();
      }
    });
  });
}

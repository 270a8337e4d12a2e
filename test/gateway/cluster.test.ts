import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimulatedBackend } from '../support/backend.ts';
import { startClusterGateway, type ClusterGateway } from '../support/cluster.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';
import { nodeOptionsWithoutInspector, withoutInspector } from '../../gateway/cluster.ts';
import { postSigned, requestHeader, signRaw } from '../support/partner-client.ts';

const STATUS = { applyNo: '3205002026112700003', handleNo: 'HZ3305022026112700003', status: 'COMPLETED', statusAt: '2026-11-28T15:00:00+08:00', remark: '办结' };

describe('XR_WORKERS: several worker processes sharing the listeners', function () {
  this.timeout(60_000);
  let cluster: ClusterGateway;
  let backend: SimulatedBackend;
  let dataDir: string;
  let partnerUrl: string;
  let adminUrl: string;
  let pki: PartnerPki;

  before(async function () {
    backend = await SimulatedBackend.start();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-cluster-'));
    cluster = await startClusterGateway({ dataDir, backendUrl: backend.url, workers: 2 });
    ({ partnerUrl, adminUrl } = cluster);
    pki = await makePartnerPki('320500');
  });

  after(async function () {
    await cluster.stop();
    await backend.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const admin = (method: string, pathname: string, body: string, contentType: string) => cluster.admin(method, pathname, body, contentType);

  function signedStatus(applyNo: string) {
    const raw = Buffer.from(JSON.stringify({ ...STATUS, applyNo }));
    const header = requestHeader(pki.signer, { iss: '320500', messageType: 'application.status' });
    return { raw, signature: signRaw(header, raw, pki.signer.privateKey, 'ES256') };
  }

  it('applies an admin change on every worker before answering it', async function () {
    const put = await admin('PUT', '/admin/v1/partners/320500', JSON.stringify({ name: '苏州市', endpoint: 'https://xr.suzhou.example', format: 'hz-json', services: ['application.status'] }), 'application/json');
    assert.equal(put.status, 200);
    assert.equal((await admin('POST', '/admin/v1/partners/320500/trust', pki.caPem, 'application/x-pem-file')).status, 201);
    // Straight after the answer: 20 connections at once, spread over both workers, all know the partner.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => {
      const { raw, signature } = signedStatus(`32050020261127${String(i).padStart(5, '0')}`);
      return postSigned(partnerUrl, 'application.status', raw, 'application/json', signature);
    }));
    assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200), answers.map((a) => a.body.toString()).join('\n'));
  });

  it('lets no replay slip through on another worker', async function () {
    const before = backend.calls.length;
    const { raw, signature } = signedStatus('3205002026112799999');
    const answers = await Promise.all(Array.from({ length: 12 }, () => postSigned(partnerUrl, 'application.status', raw, 'application/json', signature)));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, ...Array(11).fill(409)]);
    assert.equal(backend.calls.length, before + 1);
  });

  it('counts in /metrics the messages every worker handled, not only the admin worker\'s', async function () {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    const inbound = text.split('\n').filter((line) => line.startsWith('xr_messages_total{') && line.includes('direction="inbound"'));
    const total = inbound.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    // The two tests above: 20 accepted, then 1 accepted and 11 replays refused, spread over both workers.
    assert.equal(total, 32, inbound.join('\n'));
    const replays = inbound.find((line) => line.includes('outcome="XR_REPLAY"'));
    assert.equal(Number(replays?.split(' ').at(-1)), 11);
  });

  it('prepares the data directory in a process that has ended: the primary holds no SQLite, the workers do', function () {
    const primary = cluster.child.pid!;
    const children = readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim().split(/\s+/).map(Number);
    assert.equal(children.length, 2, 'the two workers, and no preparation process left');
    const holdsSqlite = (pid: number) => readFileSync(`/proc/${pid}/maps`, 'utf8').includes('better_sqlite3.node');
    assert.equal(holdsSqlite(primary), false);
    for (const worker of children) assert.equal(holdsSqlite(worker), true);
  });

  it('stops every worker on SIGTERM', async function () {
    assert.equal(await cluster.stop(), 0);
    await assert.rejects(fetch(`${partnerUrl}/xr/v1/messages/application.status`, { method: 'POST' }));
  });
});

describe('the preparation process\'s node flags', function () {
  it('are the primary\'s without its inspector flags, whose port the primary holds', function () {
    assert.deepEqual(withoutInspector([
      '--import', 'tsx', '--inspect', '--inspect=127.0.0.1:9339', '--inspect-brk=9229', '--inspect-wait',
      '--inspect-port', '9400', '--inspect-port=9401', '--debug-port=9402', '--inspect-publish-uid=http',
      '--max-old-space-size=512', '--inspector-typo',
    ]), ['--import', 'tsx', '--inspect-publish-uid=http', '--max-old-space-size=512', '--inspector-typo']);
    assert.deepEqual(withoutInspector(['--enable-source-maps']), ['--enable-source-maps']);
    assert.deepEqual(withoutInspector(['--inspect-port']), [], 'a trailing flag without its value');
  });

  it('are given NODE_OPTIONS without the inspector flags too, quoted values kept', function () {
    assert.equal(nodeOptionsWithoutInspector(undefined), undefined);
    assert.equal(nodeOptionsWithoutInspector('--inspect'), undefined, 'nothing left: no NODE_OPTIONS at all');
    assert.equal(nodeOptionsWithoutInspector('  --inspect=127.0.0.1:9339   --max-old-space-size=512 '), '--max-old-space-size=512');
    assert.equal(
      nodeOptionsWithoutInspector('--require "/opt/my hooks/trace.js" --inspect-port 9400 --title="xr gateway"'),
      '--require "/opt/my hooks/trace.js" --title="xr gateway"',
    );
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ChainedAuditRecord } from '../../gateway/audit/audit-log.ts';
import { AUDIT_FILE } from '../../gateway/audit/sqlite-audit-log.ts';
import { defaultReply } from '../support/backend.ts';
import { ADMIN_TOKEN, AUDITOR_TOKEN } from '../support/gateway.ts';
import { outboundMessage, queue, settled } from '../support/outbound.ts';
import { INBOUND_PARTNER, OUTBOUND_PARTNER, STATUS, SUBMIT, startOperationsRig, type OperationsRig } from './rig.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** Runs the real CLI, as an operator would: `node bin/xr-gateway.mjs audit verify` with XR_DATA_DIR. */
async function auditVerify(dataDir: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['bin/xr-gateway.mjs', 'audit', 'verify'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', XR_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  const [code] = await once(child, 'exit') as [number | null];
  return { code, output };
}

describe('the audit trail: every message and admin call in an append-only, hash-chained log', function () {
  this.timeout(60_000);
  let rig: OperationsRig;
  let gatewayClosed = false;

  before(async function () {
    rig = await startOperationsRig();
  });

  after(async function () {
    if (gatewayClosed) {
      rmSync(rig.harness.dataDir, { recursive: true, force: true });
      await rig.outbound.stop();
      await rig.backend.stop();
    } else {
      await rig.stop();
    }
  });

  const applyNo = (n: number) => `32050020261127${String(n).padStart(5, '0')}`;

  it('records an accepted inbound message: ids, parties, type, outcome, the JWS header and signature, and a digest of the body', async function () {
    const sent = await rig.send({ ...SUBMIT, applyNo: applyNo(1) });
    assert.equal(sent.answer.status, 200, sent.answer.body.toString());
    const { records } = await rig.audit({ applyNo: applyNo(1) });
    assert.equal(records.length, 1);
    const [record] = records as [ChainedAuditRecord];
    const [protectedB64, , signatureB64] = sent.signature.split('.');
    assert.equal(record.kind, 'inbound');
    assert.deepEqual({ ...record.fields, durationMs: 0 }, {
      outcome: 'OK',
      status: 200,
      partner: INBOUND_PARTNER,
      messageType: 'application.submit',
      applyNo: applyNo(1),
      jti: sent.header.jti,
      aud: '330500',
      iat: sent.header.iat,
      kid: sent.header.kid,
      body: { sha256: sha256(sent.raw), bytes: sent.raw.length },
      jws: { protected: protectedB64, signature: signatureB64 },
      answer: {
        sha256: sha256(sent.answer.body),
        bytes: sent.answer.body.length,
        jws: { protected: sent.answer.headers.get('x-xr-signature')!.split('.')[0], signature: sent.answer.headers.get('x-xr-signature')!.split('.')[2] },
      },
      durationMs: 0,
    });
    assert.match(record.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.match(record.hash, /^[0-9a-f]{64}$/);
  });

  it('records a large message (translated on its own thread, read into its signing input) with a digest of exactly its bytes', async function () {
    const content = Buffer.alloc(200 * 1024, 'scanned page ');
    const material = { ...SUBMIT.materials[0], content: content.toString('base64'), sha256: sha256(content), size: content.length };
    const sent = await rig.send({ ...SUBMIT, applyNo: applyNo(90), materials: [material] });
    assert.equal(sent.answer.status, 200, sent.answer.body.toString());
    assert.ok(sent.raw.length > 64 * 1024, 'over the translation thread\'s threshold');
    assert.deepEqual((rig.backend.calls.at(-1)!.body as typeof SUBMIT).materials, [material]);
    const [record] = (await rig.audit({ applyNo: applyNo(90) })).records as [ChainedAuditRecord];
    assert.deepEqual(record.fields.body, { sha256: sha256(sent.raw), bytes: sent.raw.length });
  });

  it('records a refused inbound message with its code, and with its case number once it was translated', async function () {
    rig.backend.behaviour = (call) => (call.body.applyNo === applyNo(5) ? { status: 409, body: { detail: 'already applied' } } : defaultReply(call));
    const tampered = await rig.send({ ...SUBMIT, applyNo: applyNo(2) }, { tamper: (raw) => Buffer.from(raw.toString().replace('35.5', '95.5')) });
    assert.equal(tampered.answer.json().code, 'XR_SIGNATURE_INVALID');
    const first = await rig.send({ ...STATUS, applyNo: applyNo(3) }, { messageType: 'application.status' });
    assert.equal(first.answer.status, 200);
    const replay = await rig.send({ ...STATUS, applyNo: applyNo(3) }, { messageType: 'application.status', header: first.header });
    assert.equal(replay.answer.json().code, 'XR_REPLAY');

    const invalid = (await rig.audit({ outcome: 'XR_SIGNATURE_INVALID' })).records;
    assert.equal(invalid.length, 1);
    assert.equal(invalid[0]!.fields.jti, tampered.header.jti);
    assert.equal(invalid[0]!.fields.applyNo, undefined, 'refused before translation: no case number is known');
    assert.deepEqual(invalid[0]!.fields.body, { sha256: sha256(tampered.sent), bytes: tampered.sent.length }, 'the digest of the bytes received');
    const replays = (await rig.audit({ outcome: 'XR_REPLAY', partner: INBOUND_PARTNER })).records;
    assert.equal(replays.length, 1);
    assert.deepEqual([replays[0]!.fields.jti, replays[0]!.fields.status], [first.header.jti, 409]);

    const refused = await rig.send({ ...SUBMIT, applyNo: applyNo(5) });
    assert.equal(refused.answer.json().code, 'XR_REFUSED_BY_BACKEND');
    const byBackend = (await rig.audit({ applyNo: applyNo(5) })).records;
    assert.deepEqual(byBackend.map((r) => [r.fields.outcome, r.fields.status]), [['XR_REFUSED_BY_BACKEND', 409]]);
  });

  it('records an outbound message when it is accepted, and each delivery attempt with its outcome, the case number, the JWS sent and answered, and a digest of what was sent', async function () {
    const message = outboundMessage('application.submit', OUTBOUND_PARTNER);
    const id = await queue(rig.harness.gateway.urls.local, 'application.submit', message);
    await settled(rig.harness.gateway, [id]);
    await rig.harness.gateway.operations.flushAudit();
    const { records } = await rig.audit({ kind: 'outbound', applyNo: String(message.applyNo) });
    assert.equal(records.length, 2);
    const [delivered, accepted] = records as [ChainedAuditRecord, ChainedAuditRecord];
    const sentBody = rig.outbound.accepted.find((m) => m.idempotencyKey === id)!.body;
    const digest = { sha256: sha256(sentBody), bytes: sentBody.length };
    assert.deepEqual(accepted.fields, {
      outcome: 'accepted', partner: OUTBOUND_PARTNER, messageType: 'application.submit', applyNo: message.applyNo, id,
      attempts: 0, body: digest, jws: null, answer: { jws: null },
    });
    const { jws, answer, ...rest } = delivered.fields as unknown as Record<string, unknown> & { jws: { protected: string; signature: string }; answer: { jws: { protected: string } } };
    assert.deepEqual(rest, {
      outcome: 'delivered', partner: OUTBOUND_PARTNER, messageType: 'application.submit', applyNo: message.applyNo, id,
      attempts: 1, receiptStatus: 200, body: digest,
    });
    const sent = JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
    const answered = JSON.parse(Buffer.from(answer.jws.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.deepEqual([sent.iss, sent.aud, sent.htu], ['330500', OUTBOUND_PARTNER, '/xr/v1/messages/application.submit']);
    assert.match(jws.signature, /^[A-Za-z0-9_-]{86}$/);
    assert.deepEqual([answered.iss, answered.aud, answered.irt], [OUTBOUND_PARTNER, '330500', sent.jti]);
  });

  it('records every admin change with who made it, what it was, and the state before and after', async function () {
    const put = await rig.harness.admin('PUT', `/admin/v1/partners/${INBOUND_PARTNER}`, {
      name: 'partner 320500', endpoint: 'http://127.0.0.1:9', format: 'hz-json', services: ['application.submit', 'application.status'],
    });
    assert.equal(put.status, 200);
    const [record] = (await rig.audit({ kind: 'admin', partner: INBOUND_PARTNER, limit: 1 })).records as [ChainedAuditRecord];
    const { who, method, path: calledPath, outcome, changed, before, after } = record.fields as unknown as Record<string, unknown> & {
      before: { partner: { services: string[] } }; after: { partner: { services: string[] }; trust: unknown[] };
    };
    assert.deepEqual(who, { role: 'operator', token: sha256(ADMIN_TOKEN).slice(0, 16) });
    assert.deepEqual([method, calledPath, outcome, changed], ['PUT', `/admin/v1/partners/${INBOUND_PARTNER}`, 'OK', true]);
    assert.equal(before.partner.services.length, 4);
    assert.deepEqual(after.partner.services, ['application.submit', 'application.status']);
    assert.equal(after.trust.length, 1, 'trust anchors are shown by kid, subject and expiry');
    assert.match(String(record.fields.requestId), /^[0-9a-f-]{36}$/);
  });

  it('answers queries by time, partner, case number, outcome and kind, newest first and page by page', async function () {
    const everything = (await rig.audit({ limit: 1000 })).records;
    assert.ok(everything.length >= 8);
    assert.deepEqual(everything.map((r) => r.seq), [...everything.map((r) => r.seq)].sort((a, b) => b - a), 'newest first');
    assert.ok((await rig.audit({ kind: 'inbound' })).records.every((r) => r.kind === 'inbound'));
    assert.ok((await rig.audit({ partner: OUTBOUND_PARTNER })).records.every((r) => r.fields.partner === OUTBOUND_PARTNER));

    // Each query is an admin call and is audited too: compare only what existed when `everything` was read.
    const newest = everything[0]!.seq;
    const existing = (records: ChainedAuditRecord[]) => records.filter((r) => r.seq <= newest);
    const pivot = everything[Math.floor(everything.length / 2)]!;
    const later = existing((await rig.audit({ from: pivot.time, limit: 1000 })).records);
    assert.ok(later.length > 0 && later.every((r) => r.time >= pivot.time));
    const earlier = existing((await rig.audit({ to: pivot.time, limit: 1000 })).records);
    assert.ok(earlier.every((r) => r.time < pivot.time));
    assert.equal(later.length + earlier.length, everything.length);

    const pages: number[] = [];
    let page = await rig.audit({ limit: 3, before: newest + 1 });
    for (;;) {
      pages.push(...page.records.map((r) => r.seq));
      if (page.nextBefore === null) break;
      page = await rig.audit({ limit: 3, before: page.nextBefore });
    }
    assert.deepEqual(pages, everything.map((r) => r.seq));
  });

  it('lets the auditor query it, and refuses a query without a token or with a bad parameter', async function () {
    assert.ok((await rig.audit({ kind: 'admin' }, AUDITOR_TOKEN)).records.length > 0);
    const anonymous = await fetch(`${rig.harness.gateway.urls.admin}/admin/v1/audit`);
    assert.equal(anonymous.status, 401);
    for (const query of ['from=yesterday', 'kind=email', 'partner=32', 'limit=0', 'limit=1001', 'applyNo=', 'colour=red']) {
      const response = await rig.harness.admin('GET', `/admin/v1/audit?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal((await response.json() as { code: string }).code, 'XR_BAD_REQUEST');
    }
  });

  it('keeps personal data out of the stored log: no names, identity numbers, phone numbers or material contents', async function () {
    await rig.harness.gateway.operations.flushAudit();
    const file = path.join(rig.harness.dataDir, AUDIT_FILE);
    const stored = Buffer.concat([readFileSync(file), readFileSync(`${file}-wal`)]);
    assert.ok(stored.includes(Buffer.from(applyNo(1))), 'the case number is kept (and findable in the raw file)');
    for (const personal of [SUBMIT.applicant.name, SUBMIT.applicant.idNumber, SUBMIT.applicant.mobile, SUBMIT.materials[0]!.content, '示例小吃店']) {
      assert.ok(!stored.includes(Buffer.from(personal, 'utf8')), `${personal} must not be in the audit log`);
    }
  });

  it('cannot be changed or cut through the database: UPDATE and DELETE are refused', async function () {
    const db = new Database(path.join(rig.harness.dataDir, AUDIT_FILE));
    try {
      assert.throws(() => db.prepare("UPDATE audit SET record = '{}' WHERE seq = 1").run(), /append-only/);
      assert.throws(() => db.prepare('DELETE FROM audit WHERE seq = 1').run(), /append-only/);
    } finally {
      db.close();
    }
  });

  it('`xr-gateway audit verify` proves the chain of the real log intact', async function () {
    await rig.harness.gateway.operations.flushAudit();
    const { code, output } = await auditVerify(rig.harness.dataDir);
    const last = rig.harness.gateway.operations.audit.lastSeq();
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`audit log intact: ${last} records, head ${last} [0-9a-f]{64}`));
  });

  it('`xr-gateway audit verify` fails, naming the record, after one byte of the stored log is changed', async function () {
    const marker = await rig.send({ ...STATUS, applyNo: applyNo(4) }, { messageType: 'application.status' });
    assert.equal(marker.answer.status, 200);
    const [record] = (await rig.audit({ applyNo: applyNo(4) })).records as [ChainedAuditRecord];
    const digest = Buffer.from(sha256(marker.raw), 'ascii');
    // Closing the gateway checkpoints the log into audit.sqlite: the bytes to change are then in that one file.
    await rig.harness.gateway.close();
    gatewayClosed = true;

    const file = path.join(rig.harness.dataDir, AUDIT_FILE);
    const bytes = readFileSync(file);
    const at = bytes.indexOf(digest);
    assert.ok(at >= 0 && bytes.indexOf(digest, at + 1) === -1, 'the body digest is stored once, in its record');
    const before = await auditVerify(rig.harness.dataDir);
    assert.equal(before.code, 0, before.output);

    bytes[at] = bytes[at] === 0x30 ? 0x31 : 0x30; // one hex digit of the digest: '0' ↔ anything else
    writeFileSync(file, bytes);
    const { code, output } = await auditVerify(rig.harness.dataDir);
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`audit log BROKEN at record ${record.seq}: record ${record.seq} does not match its hash`));
  });
});

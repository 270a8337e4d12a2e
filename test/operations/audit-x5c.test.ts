import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { signDetached, type Signer } from '../../certs/jws.ts';
import { AuditStore, verifyAuditFile } from '../../gateway/audit/audit-store.ts';
import { inboundEvidence } from '../../gateway/audit/records.ts';
import { AUDIT_FILE, SqliteAuditLog } from '../../gateway/audit/sqlite-audit-log.ts';
import { X5cChains, joinProtected, splitProtected } from '../../gateway/audit/x5c-chains.ts';
import type { InboundOutcome } from '../../gateway/partner/listener.ts';
import { makePartnerPki } from '../support/pki.ts';

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const base64url = (text: string | Buffer) => Buffer.from(text).toString('base64url');

describe('the audit trail keeps each x5c chain once, and every signature header byte for byte', function () {
  let partnerA: Signer;
  let partnerB: Signer;
  let huzhou: Signer;
  let dataDir: string;
  let file: string;

  before(async function () {
    const pki = await makePartnerPki('310000');
    partnerA = pki.signer;
    partnerB = (await pki.issueLeaf({ issuer: await pki.issueIntermediate() })).signer;
    huzhou = (await makePartnerPki('330500')).signer;
  });

  beforeEach(function () {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-audit-x5c-'));
    file = path.join(dataDir, AUDIT_FILE);
  });

  afterEach(function () {
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function signature(signer: Signer, claims: { iss: string; aud: string; irt?: string }): Promise<string> {
    return signDetached(Buffer.from('{}'), { ...claims, jti: randomUUID(), htm: 'POST', htu: '/xr/v1/messages/application.submit' }, signer, { includeX5c: true });
  }

  it('splits a real signature header around its chain, and joins it back to the very base64url sent', async function () {
    for (const signer of [partnerA, partnerB, huzhou]) {
      const [protectedB64] = (await signature(signer, { iss: '310000', aud: '330500' })).split('.') as [string];
      const taken = splitProtected(protectedB64);
      assert.ok(taken, 'a header made by signDetached splits');
      assert.deepEqual(JSON.parse(taken.found.chain), signer.chain.map((cert) => cert.raw.toString('base64')), 'the chain is the x5c array as sent');
      assert.equal(taken.split.x5c, sha256(taken.found.chain));
      assert.ok(!taken.split.protectedHead.includes('MII') && !taken.split.protectedTail.includes('MII'), 'no certificate left in the head or tail');
      assert.equal(joinProtected(taken.split, taken.found.chain), protectedB64);
    }
  });

  it('keeps a header whole when it has no x5c, is not canonical base64url, or has bytes outside printable ASCII around an ASCII chain', function () {
    assert.equal(splitProtected(base64url('{"alg":"ES256","kid":"k"}')), undefined, 'no x5c');
    // 16 bytes: base64url of 22 digits, whose last carries 4 unused bits. Setting one decodes the same bytes.
    const sixteen = base64url('{"x5c":["AAAA"]}');
    assert.equal(sixteen.length % 4, 2);
    assert.ok(splitProtected(sixteen), 'the canonical form splits');
    const stray = sixteen.slice(0, -1) + String.fromCharCode(sixteen.charCodeAt(sixteen.length - 1) + 1);
    assert.deepEqual(Buffer.from(stray, 'base64url'), Buffer.from(sixteen, 'base64url'));
    assert.equal(splitProtected(stray), undefined, 'stray bits: joined back it would differ');
    const latin1 = Buffer.concat([Buffer.from('{"x5c":["AA"],"n":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    assert.equal(splitProtected(base64url(latin1)), undefined, 'not UTF-8');
    assert.equal(splitProtected(base64url('{"kid":"é","x5c":["AA"]}')), undefined, 'UTF-8, but not ASCII, around the chain');
    assert.equal(splitProtected(base64url('{"x5c":["é"]}')), undefined, 'a chain that is not ASCII');
    assert.equal(splitProtected(base64url('{"x5c":["AA"')), undefined, 'no closing bracket');
    // Control bytes would be stored escaped, six characters each: such a header (refused, but audited) stays
    // whole, so a record is never larger than the header it keeps.
    const hostile = base64url(`{"x5c":["AA"],"n":"${'\u0001'.repeat(12_000)}"}`);
    assert.equal(splitProtected(hostile), undefined, 'control bytes around the chain');
  });

  it('over 3,000 random headers: splits every printable-ASCII one that has a chain, and joins back exactly what it splits', function () {
    const pieces = ['"alg":"ES256"', '"kid":"é✓"', ' ', '\n', '"x5c":["MIIB","MIIC"]', '"x5c": ["MIIB"]', '"x5c":[]', '"n":"]"', '"s":"\\"x5c\\":["', '"iat":1795800000'];
    let split = 0;
    for (let round = 0; round < 3000; round += 1) {
      const members = Array.from({ length: 1 + (round % 6) }, () => pieces[randomBytes(1)[0]! % pieces.length]!);
      const text = `{${members.join(',')}${'x'.repeat(round % 3)}}`;
      const protectedB64 = base64url(text);
      const taken = splitProtected(protectedB64);
      const member = text.indexOf('"x5c":[');
      const splittable = member >= 0 && text.indexOf(']', member) >= 0 && /^[\x20-\x7e]*$/.test(text);
      assert.equal(taken !== undefined, splittable, text);
      if (!taken) continue;
      split += 1;
      assert.equal(joinProtected(taken.split, taken.found.chain), protectedB64, text);
    }
    assert.ok(split > 500, `${split} of 3,000 split`);
  });

  function outcome(request: string, answer: string, n: number): InboundOutcome {
    const jti = request.split('.')[0]!;
    return {
      partner: '310000', messageType: 'application.submit', code: 'OK', status: 200,
      header: { alg: 'ES256', kid: 'k1', iss: '310000', aud: '330500', iat: 1795812619, jti: jti.slice(-12), b64: false, crit: ['b64'] } as InboundOutcome['header'],
      signature: request, body: Buffer.from(`{"n":${n}}`), applyNo: `31000020261127${String(n).padStart(5, '0')}`,
      answer: { body: Buffer.from('{"receiptNo":"R1"}'), signature: answer }, durationMs: 3,
    };
  }

  async function writeMessages(count: number): Promise<Array<{ request: string; answer: string }>> {
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000, batchSize: 4 } });
    const sent: Array<{ request: string; answer: string }> = [];
    try {
      for (let n = 0; n < count; n += 1) {
        const request = await signature(n % 2 === 0 ? partnerA : partnerB, { iss: '310000', aud: '330500' });
        const answer = await signature(huzhou, { iss: '330500', aud: '310000', irt: 'j' });
        sent.push({ request, answer });
        log.appendEvidence(inboundEvidence(outcome(request, answer, n)));
      }
      await log.flush();
    } finally {
      await log.close();
    }
    return sent;
  }

  it('stores each distinct chain once, and answers queries with every header whole again', async function () {
    const sent = await writeMessages(10);
    const db = new Database(file, { readonly: true });
    try {
      const chains = db.prepare<[], { sha256: string; chain: string }>('SELECT sha256, chain FROM audit_x5c').all();
      assert.equal(chains.length, 3, 'partner A, partner B (with its intermediate), Huzhou');
      for (const { sha256: digest, chain } of chains) assert.equal(digest, sha256(chain));
      const texts = db.prepare<[], { record: string }>('SELECT record FROM audit ORDER BY seq').all();
      const digestOf = (signer: Signer) => sha256(JSON.stringify(signer.chain.map((cert) => cert.raw.toString('base64'))));
      for (const [index, { record }] of texts.entries()) {
        assert.ok(!record.includes('MII'), 'no certificate in a record');
        assert.ok(record.includes(digestOf(index % 2 === 0 ? partnerA : partnerB)) && record.includes(digestOf(huzhou)), 'the chains\' digests instead');
      }
    } finally {
      db.close();
    }

    const log = new SqliteAuditLog(file);
    try {
      const records = (await log.query({ limit: 100 })).reverse();
      assert.equal(records.length, 10);
      for (const [index, record] of records.entries()) {
        const [requestHeader, , requestSignature] = sent[index]!.request.split('.');
        const [answerHeader, , answerSignature] = sent[index]!.answer.split('.');
        const fields = record.fields as unknown as { jws: unknown; answer: { jws: unknown } };
        assert.deepEqual(fields.jws, { protected: requestHeader, signature: requestSignature });
        assert.deepEqual(fields.answer.jws, { protected: answerHeader, signature: answerSignature });
      }
      assert.deepEqual(await log.verify(), { ok: true, records: 10, head: { seq: 10, hash: records[9]!.hash } });
    } finally {
      await log.close();
    }
  });

  it('refuses UPDATE and DELETE of a stored chain; verify names the first record whose chain was edited or removed', async function () {
    await writeMessages(6);
    const log = new SqliteAuditLog(file);
    const db = new Database(file);
    try {
      assert.throws(() => db.prepare("UPDATE audit_x5c SET chain = '[]'").run(), /append-only/);
      assert.throws(() => db.prepare('DELETE FROM audit_x5c').run(), /append-only/);
      assert.equal(verifyAuditFile(file).ok, true);
      assert.equal((await log.query({ limit: 10 })).length, 6, 'a query: the running log now remembers the chains');

      // Partner B signs the odd messages: its chain first appears in record 2.
      const partnerBChain = JSON.stringify(partnerB.chain.map((cert) => cert.raw.toString('base64')));
      const digest = sha256(partnerBChain);
      db.exec('DROP TRIGGER audit_x5c_no_update');
      db.prepare('UPDATE audit_x5c SET chain = ? WHERE sha256 = ?').run(partnerBChain.replace('MII', 'MIJ'), digest);
      const changed = { ok: false, seq: 2, reason: `record 2's x5c chain ${digest} does not match its digest: audit_x5c was changed` };
      assert.deepEqual(verifyAuditFile(file), changed);
      assert.deepEqual(await log.verify(), changed, 'the running log checks the file, not what its queries remembered');

      db.exec('DROP TRIGGER audit_x5c_no_delete');
      db.prepare('DELETE FROM audit_x5c WHERE sha256 = ?').run(digest);
      assert.deepEqual(verifyAuditFile(file), { ok: false, seq: 2, reason: `record 2's x5c chain ${digest} is missing from audit_x5c` });
    } finally {
      db.close();
      await log.close();
    }
  });

  it('inserts a chain with a later batch when the batch that first carried it failed', async function () {
    const store = new AuditStore(file);
    try {
      const request = await signature(partnerA, { iss: '310000', aud: '330500' });
      const answer = await signature(huzhou, { iss: '330500', aud: '310000', irt: 'j' });
      const queued = { time: '2026-11-29T00:00:00.000Z', kind: 'inbound' as const, evidence: inboundEvidence(outcome(request, answer, 1)) };
      const unwritable = { time: '2026-11-29T00:00:00.000Z', kind: 'admin' as const, fields: { outcome: 'OK', durationMs: Number.NaN } };
      assert.throws(() => store.append([queued, unwritable]), /JSON values only/, 'the whole batch fails, after its first record took its chains out');
      assert.equal(store.lastSeq(), 0);
      assert.equal(store.append([queued]), 1);
      assert.deepEqual(store.verify(), { ok: true, records: 1, head: { seq: 1, hash: store.query({ limit: 1 })[0]!.hash } });
    } finally {
      store.close();
    }
  });

  it('inserts a chain again after the batch that first carried it was rolled back', async function () {
    const chains = new X5cChains();
    const [protectedB64] = (await signature(partnerA, { iss: '310000', aud: '330500' })).split('.') as [string];
    chains.compact({ protected: protectedB64, signature: 's' });
    assert.equal(chains.pending().size, 1);
    chains.rolledBack();
    chains.compact({ protected: protectedB64, signature: 's' });
    assert.equal(chains.pending().size, 1, 'not taken as stored: its batch never committed');
    chains.committed();
    chains.compact({ protected: protectedB64, signature: 's' });
    assert.equal(chains.pending().size, 0, 'stored once its batch committed');
  });
});

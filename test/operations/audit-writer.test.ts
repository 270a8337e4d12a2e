import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as FakeTimers from '@sinonjs/fake-timers';
import { createHash } from 'node:crypto';
import { GENESIS_HASH, chainHash, recordText } from '../../gateway/audit/chain.ts';
import { inboundEvidence, ownBytes } from '../../gateway/audit/records.ts';
import { AUDIT_FILE, SqliteAuditLog } from '../../gateway/audit/sqlite-audit-log.ts';
import { AUDIT_PAGE_SIZE } from '../../gateway/audit/audit-store.ts';
import type { InboundOutcome } from '../../gateway/partner/listener.ts';

describe('the audit writer: batched on a thread of its own, and one chain for several writers', function () {
  let dataDir: string;
  let file: string;

  /** An inbound message's evidence whose bodies and signatures hold 2 × bodyBytes exactly. */
  function evidenceOf(i: number, bodyBytes: number) {
    return inboundEvidence({
      partner: '310000', messageType: 'application.submit', code: 'OK', status: 200, header: undefined,
      signature: 's'.repeat(bodyBytes / 4), body: Buffer.alloc(bodyBytes, i), applyNo: `A${i}`,
      answer: { body: Buffer.alloc(bodyBytes / 2, i), signature: 'a'.repeat(bodyBytes / 4) }, durationMs: 1,
    });
  }

  /** A failing disk, simulated from outside the audit log: every insert is refused until heal(). */
  function failingDisk(auditFile: string) {
    const outside = new Database(auditFile);
    outside.exec("CREATE TRIGGER simulated_failure BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END");
    return { heal: () => outside.exec('DROP TRIGGER simulated_failure'), close: () => outside.close() };
  }

  beforeEach(function () {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-audit-'));
    file = path.join(dataDir, AUDIT_FILE);
  });

  afterEach(function () {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('queues appends without writing, and writes them in one batch on flush', async function () {
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000, batchSize: 1000 } });
    try {
      for (let i = 0; i < 10; i += 1) log.append('inbound', { outcome: 'OK', applyNo: `A${i}` });
      assert.deepEqual([log.pending(), log.lastSeq()], [10, 0]);
      await log.flush();
      assert.deepEqual([log.pending(), log.lastSeq()], [0, 10]);
      assert.deepEqual((await log.query({ limit: 3 })).map((r) => r.fields.applyNo), ['A9', 'A8', 'A7']);
    } finally {
      await log.close();
    }
  });

  it('creates a new audit file with 16 KiB pages, so that a ≈ 4 KB record needs no overflow page', async function () {
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000 } });
    try {
      log.append('inbound', { outcome: 'OK', jws: { protected: 'e'.repeat(3900), signature: 's' } });
      await log.flush();
    } finally {
      await log.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('page_size', { simple: true }), AUDIT_PAGE_SIZE);
      assert.equal(AUDIT_PAGE_SIZE, 16384);
    } finally {
      db.close();
    }
  });

  it('makes a message\'s record from its evidence on the writer thread: digests of exactly its bytes', async function () {
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000 } });
    try {
      // Small Buffers share Node's 8 KiB pool: the digest must cover the message's bytes only.
      const body = Buffer.from('{"applyNo":"3100002026112700001"}');
      const answerBody = Buffer.from('{"receiptNo":"R1"}');
      assert.ok(body.buffer.byteLength > body.byteLength, 'a pooled Buffer');
      const outcome: InboundOutcome = {
        partner: '310000', messageType: 'application.submit', code: 'OK', status: 200,
        header: { alg: 'ES256', kid: 'k1', iss: '310000', aud: '330500', iat: 1795812619, jti: 'j-1', x5c: ['MIIB'], b64: false, crit: ['b64'] } as InboundOutcome['header'],
        signature: 'eyJhbGciOiJFUzI1NiJ9..c2ln', body, applyNo: '3100002026112700001',
        answer: { body: answerBody, signature: 'eyJ9..YW5z' }, durationMs: 3.4,
      };
      log.appendEvidence(inboundEvidence(outcome));
      const [record] = await log.query({ limit: 1 });
      const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
      assert.deepEqual(record!.fields, {
        outcome: 'OK', status: 200, partner: '310000', messageType: 'application.submit', applyNo: '3100002026112700001',
        jti: 'j-1', aud: '330500', iat: 1795812619, kid: 'k1',
        body: { sha256: sha256(body), bytes: body.byteLength },
        jws: { protected: 'eyJhbGciOiJFUzI1NiJ9', signature: 'c2ln' },
        answer: { sha256: sha256(answerBody), bytes: answerBody.byteLength, jws: { protected: 'eyJ9', signature: 'YW5z' } },
        durationMs: 3,
      });
      assert.deepEqual(await log.verify(), { ok: true, records: 1, head: { seq: 1, hash: record!.hash } });
    } finally {
      await log.close();
    }
  });

  it('sends a body to the writer thread copied only when its buffer holds other bytes than its signing input', function () {
    const pooled = Buffer.from('{"applyNo":"3100002026112700001"}');
    assert.ok(pooled.buffer.byteLength > pooled.byteLength);
    const copied = ownBytes(pooled);
    assert.notEqual(copied.buffer, pooled.buffer);
    assert.deepEqual(Buffer.from(copied), pooled);
    // A body read into its signing input (readBodyAfter): header, '.', then the body; larger than a pool slab.
    const header = Buffer.from(`${'h'.repeat(2400)}.`);
    const signingInput = Buffer.concat([header, Buffer.alloc(200 * 1024, 7)]);
    const body = signingInput.subarray(header.length);
    assert.equal(ownBytes(body), body, 'sent as it is: postMessage copies its buffer once');
    const own = Buffer.allocUnsafeSlow(100);
    assert.equal(ownBytes(own), own, 'a buffer of its own goes as it is');
    // A small view of a large buffer that is not a signing input is copied.
    const big = Buffer.alloc(1024 * 1024);
    assert.notEqual(ownBytes(big.subarray(0, 100)).buffer, big.buffer);
    assert.notEqual(ownBytes(big.subarray(0, 512 * 1024)).buffer, big.buffer);
  });

  it('digests a body read into its signing input over the body\'s bytes only', async function () {
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000 } });
    try {
      const header = Buffer.from(`${'h'.repeat(2400)}.`);
      const signingInput = Buffer.concat([header, Buffer.alloc(200 * 1024, 9)]);
      const body = signingInput.subarray(header.length);
      log.appendEvidence(inboundEvidence({
        partner: '310000', messageType: 'application.submit', code: 'OK', status: 200, header: undefined, signature: undefined,
        body, applyNo: 'A-view', answer: { body: Buffer.from('{}'), signature: 'eyJ9..YW5z' }, durationMs: 1,
      }));
      const [record] = await log.query({ applyNo: 'A-view', limit: 1 });
      assert.deepEqual(record!.fields.body, { sha256: createHash('sha256').update(body).digest('hex'), bytes: 200 * 1024 });
    } finally {
      await log.close();
    }
  });

  it('writes a batch of 1 MB messages on a thread whose young generation is held small (WRITER_THREAD_LIMITS)', async function () {
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000, sendAtBytes: Infinity, batchSize: 1000 } });
    try {
      const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
      const bodies = Array.from({ length: 40 }, (_, i) => Buffer.alloc(1024 * 1024, i));
      for (const [i, body] of bodies.entries()) {
        log.appendEvidence(inboundEvidence({
          partner: '310000', messageType: 'application.submit', code: 'OK', status: 200, header: undefined, signature: undefined,
          body, applyNo: `A${i}`, answer: { body: Buffer.from('{}'), signature: 'eyJ9..YW5z' }, durationMs: 1,
        }));
      }
      await log.flush();
      const records = await log.query({ limit: 100 });
      assert.equal(records.length, 40);
      assert.deepEqual(records.map((r) => (r.fields.body as { sha256: string }).sha256).reverse(), bodies.map(sha256));
    } finally {
      await log.close();
    }
  });

  it('writes a full batch at once, without waiting for the timer', async function () {
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000, batchSize: 5 } });
    try {
      const written = once(log, 'written');
      for (let i = 0; i < 5; i += 1) log.append('admin', { outcome: 'OK' });
      assert.deepEqual(await written, [{ lastSeq: 5, records: 5 }]);
      assert.equal(log.pending(), 0);
    } finally {
      await log.close();
    }
  });

  it('sends the queue at once when its records hold sendAtBytes of bodies and signatures, without waiting for the timer', async function () {
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000, sendAtBytes: 10_000, batchSize: 1000 } });
    try {
      const written = once(log, 'written');
      // Each record holds 2,000 + 1,000 body bytes and 500 + 500 signature characters: 4,000 bytes.
      for (let i = 0; i < 3; i += 1) log.appendEvidence(evidenceOf(i, 2000));
      assert.deepEqual(await written, [{ lastSeq: 3, records: 3 }]);
      log.appendEvidence(evidenceOf(3, 2000));
      assert.equal(log.pending(), 1, 'a record under the threshold waits for the timer');
      await log.flush();
      assert.deepEqual((await log.query({ limit: 10 })).map((r) => r.fields.applyNo), ['A3', 'A2', 'A1', 'A0']);
    } finally {
      await log.close();
    }
  });

  it('counts what a sent batch held off the queue: the rest waits while it is under sendAtBytes', async function () {
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000, sendAtBytes: 8_000, batchSize: 2 } });
    try {
      const batches: number[] = [];
      let waiting: { count: number; resolve(): void } | undefined;
      log.on('written', ({ records }) => {
        if (batches.push(records) === waiting?.count) waiting.resolve();
      });
      const written = (count: number) => new Promise<void>((resolve) => (waiting = { count, resolve }));
      // 5 × 4,000 bytes: two full batches, sent one after the other; the fifth record alone is under 8,000 and waits.
      const twoBatches = written(2);
      for (let i = 0; i < 5; i += 1) log.appendEvidence(evidenceOf(i, 2000));
      await twoBatches;
      assert.equal(log.pending(), 1);
      // A sixth makes 8,000 with the fifth: both go together.
      const third = written(3);
      log.appendEvidence(evidenceOf(5, 2000));
      await third;
      assert.deepEqual(batches, [2, 2, 2]);
      assert.equal(log.pending(), 0);
    } finally {
      await log.close();
    }
  });

  it('after a failed batch, a full queue waits for the retry\'s backoff instead of sending again at once', async function () {
    const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout'] });
    const errors: unknown[] = [];
    let failed: () => void = () => {};
    const log = new SqliteAuditLog(file, {
      tuning: { flushMs: 1000, sendAtBytes: 8_000, batchSize: 500 },
      onWriteError: (error) => { errors.push(error); failed(); },
    });
    const disk = failingDisk(file);
    try {
      const firstFailure = new Promise<void>((resolve) => (failed = resolve));
      for (let i = 0; i < 2; i += 1) log.appendEvidence(evidenceOf(i, 2000));
      await clock.tickAsync(0);
      await firstFailure;
      assert.equal(errors.length, 1);
      // The retry is due in flushMs × 2; two more records make the queue full again, and it still waits.
      for (let i = 2; i < 4; i += 1) log.appendEvidence(evidenceOf(i, 2000));
      await clock.tickAsync(0);
      assert.equal(clock.countTimers(), 1, 'the backoff timer is still set: nothing was sent early');
      disk.heal();
      const written = once(log, 'written');
      await clock.tickAsync(2000);
      assert.deepEqual(await written, [{ lastSeq: 4, records: 4 }]);
      assert.equal(errors.length, 1);
    } finally {
      clock.uninstall();
      disk.close();
      await log.close();
    }
  });

  it('writes what is still queued when it is closed, and continues the chain when opened again', async function () {
    const first = new SqliteAuditLog(file, { tuning: { flushMs: 60_000 } });
    first.append('inbound', { outcome: 'OK' });
    await first.close();
    const second = new SqliteAuditLog(file);
    try {
      assert.equal(second.lastSeq(), 1);
      second.append('inbound', { outcome: 'XR_REPLAY' });
      assert.deepEqual(await second.verify(), { ok: true, records: 2, head: { seq: 2, hash: (await second.query({ limit: 1 }))[0]!.hash } });
    } finally {
      await second.close();
    }
  });

  it('extends one chain when two writers on the same file take turns (as XR_WORKERS processes do)', async function () {
    const [a, b] = [new SqliteAuditLog(file), new SqliteAuditLog(file)];
    try {
      for (let round = 0; round < 5; round += 1) {
        a.append('inbound', { outcome: 'OK', partner: '320500' });
        a.append('inbound', { outcome: 'OK', partner: '320500' });
        await a.flush();
        b.append('outbound', { outcome: 'delivered', partner: '310117' });
        await b.flush();
      }
      assert.deepEqual(await a.verify(), await b.verify());
      const verdict = await a.verify();
      assert.equal(verdict.ok && verdict.records, 15);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps a batch that could not be written, and writes it once it can', async function () {
    const errors: unknown[] = [];
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000 }, onWriteError: (error) => errors.push(error) });
    const disk = failingDisk(file);
    try {
      for (let i = 0; i < 3; i += 1) log.append('inbound', { outcome: 'OK', applyNo: `A${i}` });
      await assert.rejects(log.flush(), /simulated/);
      assert.deepEqual([log.pending(), log.lastSeq(), errors.length], [3, 0, 1]);
      disk.heal();
      await log.flush();
      assert.deepEqual([log.pending(), log.lastSeq()], [0, 3]);
      assert.deepEqual((await log.query({ limit: 10 })).map((r) => r.fields.applyNo), ['A2', 'A1', 'A0'], 'in their order, none lost');
      assert.equal((await log.verify()).ok, true);
    } finally {
      disk.close();
      await log.close();
    }
  });

  it('opens a file written before the filter columns: fills them from the records, drops the old indexes, keeps every hash', async function () {
    // The layout of earlier versions: filters through indexes on json_extract(record, …).
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(`CREATE TABLE audit (seq INTEGER PRIMARY KEY, record TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE INDEX audit_time ON audit (json_extract(record, '$.time'));
      CREATE INDEX audit_partner ON audit (json_extract(record, '$.fields.partner'));
      CREATE INDEX audit_apply_no ON audit (json_extract(record, '$.fields.applyNo'));
      CREATE INDEX audit_outcome ON audit (json_extract(record, '$.fields.outcome'));
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`);
    let prevHash = GENESIS_HASH;
    const insert = old.prepare('INSERT INTO audit VALUES (?, ?, ?, ?)');
    for (let seq = 1; seq <= 4; seq += 1) {
      const text = recordText({ seq, time: `2026-11-2${seq}T08:00:00.000Z`, kind: seq === 4 ? 'admin' : 'inbound', fields: { outcome: seq === 2 ? 'XR_REPLAY' : 'OK', ...(seq === 4 ? {} : { partner: '320500', applyNo: `A${seq}` }) } });
      const hash = chainHash(prevHash, text);
      insert.run(seq, text, prevHash, hash);
      prevHash = hash;
    }
    const hashesBefore = old.prepare('SELECT hash FROM audit ORDER BY seq').pluck().all();
    old.close();

    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000 } });
    try {
      log.append('inbound', { outcome: 'OK', partner: '310117', applyNo: 'A5' });
      await log.flush();
      assert.deepEqual(await log.verify(), { ok: true, records: 5, head: { seq: 5, hash: (await log.query({ limit: 1 }))[0]!.hash } });
      assert.deepEqual((await log.query({ limit: 10, partner: '320500' })).map((r) => r.seq), [3, 2, 1]);
      assert.deepEqual((await log.query({ limit: 10, outcome: 'XR_REPLAY' })).map((r) => r.fields.applyNo), ['A2']);
      assert.deepEqual((await log.query({ limit: 10, kind: 'admin' })).map((r) => r.seq), [4]);
      assert.deepEqual((await log.query({ limit: 10, from: '2026-11-22T00:00:00.000Z', to: '2026-11-24T00:00:00.000Z' })).map((r) => r.seq), [3, 2]);
    } finally {
      await log.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      assert.deepEqual(after.prepare('SELECT hash FROM audit WHERE seq <= 4 ORDER BY seq').pluck().all(), hashesBefore, 'no record changed');
      const indexes = after.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' AND sql IS NOT NULL ORDER BY name").pluck().all();
      assert.deepEqual(indexes, ['audit_by_apply_no', 'audit_by_outcome', 'audit_by_partner', 'audit_by_time']);
      assert.equal(after.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'").pluck().get(), 2, 'still append-only');
    } finally {
      after.close();
    }
  });

  it('verify names a record whose filter column was edited to hide it from queries', async function () {
    const log = new SqliteAuditLog(file, { tuning: { flushMs: 60_000 } });
    try {
      for (let i = 1; i <= 3; i += 1) log.append('inbound', { outcome: 'OK', partner: '320500', applyNo: `A${i}` });
      await log.flush();
      const outside = new Database(file);
      outside.exec("DROP TRIGGER audit_no_update; UPDATE audit SET apply_no = 'elsewhere' WHERE seq = 2");
      outside.close();
      assert.deepEqual((await log.query({ limit: 10, applyNo: 'A2' })), [], 'the edit hides it from a query…');
      assert.deepEqual(await log.verify(), { ok: false, seq: 2, reason: "record 2's apply_no column does not match the record: queries by it would not find the record as it is" });
    } finally {
      await log.close();
    }
  });
});

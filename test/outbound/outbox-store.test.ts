import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GroupCommitWriter } from '../../gateway/store/group-commit.ts';
import Database from 'better-sqlite3';
import { SqliteStore, outboxListSql } from '../../gateway/store/sqlite-store.ts';
import type { NewOutboundMessage, OutboxQuery } from '../../gateway/store/store.ts';

const NOW = Date.parse('2026-11-27T09:00:00Z');

function message(target: string, overrides: Partial<NewOutboundMessage> = {}): NewOutboundMessage {
  return { id: randomUUID(), target, messageType: 'application.status', canonical: '{}', partnerBody: Buffer.from('<a/>'), contentType: 'application/xml', nowMs: NOW, ...overrides };
}

describe('the outbox in the Store (PROTOCOL §6)', function () {
  let dataDir: string;
  let file: string;
  let store: SqliteStore;

  beforeEach(function () {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-outbox-'));
    file = path.join(dataDir, 'gateway.sqlite');
    store = new SqliteStore(file);
  });

  afterEach(async function () {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('never gives the same message to two claimers, even on two connections to the same file', async function () {
    const other = new SqliteStore(file);
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 200; i += 1) ids.add((await store.outboxEnqueue(message('310000'))).message.id);
      const claimed: string[] = [];
      const claims = [];
      for (let round = 0; round < 40; round += 1) {
        for (const claimer of [store, other]) claims.push(claimer.outboxClaim('310000', NOW, 7).then((got) => claimed.push(...got.map((m) => m.id))));
      }
      await Promise.all(claims);
      assert.equal(claimed.length, 200);
      assert.deepEqual(new Set(claimed), ids);
    } finally {
      await other.close();
    }
  });

  it('claims only due messages of the target, oldest due first, and reports each target\'s earliest', async function () {
    const later = await store.outboxEnqueue(message('310000', { nowMs: NOW + 5_000 }));
    const first = await store.outboxEnqueue(message('310000'));
    await store.outboxEnqueue(message('320500', { nowMs: NOW + 100 }));
    assert.deepEqual(await store.outboxQueuedTargets(), [{ target: '310000', nextAttemptAtMs: NOW }, { target: '320500', nextAttemptAtMs: NOW + 100 }]);
    const claimed = await store.outboxClaim('310000', NOW, 10);
    assert.deepEqual(claimed.map((m) => m.id), [first.message.id]);
    assert.equal(claimed[0]!.status, 'delivering');
    assert.deepEqual(claimed[0]!.partnerBody, Buffer.from('<a/>'));
    assert.deepEqual((await store.outboxClaim('310000', NOW + 5_000, 10)).map((m) => m.id), [later.message.id]);
  });

  it('settles only a message in delivering, counting the attempt; release puts it back uncounted', async function () {
    const { message: queued } = await store.outboxEnqueue(message('310000'));
    assert.equal(await store.outboxSettle(queued.id, { status: 'failed', lastError: 'x' }, NOW), false, 'not claimed: nothing to settle');
    await store.outboxClaim('310000', NOW, 1);
    assert.equal(await store.outboxRelease([queued.id], NOW + 1), 1);
    assert.equal((await store.outboxGet(queued.id))!.attempts, 0);
    await store.outboxClaim('310000', NOW, 1);
    assert.equal(await store.outboxSettle(queued.id, { status: 'queued', nextAttemptAtMs: NOW + 500, lastError: 'XR_UPSTREAM: down' }, NOW + 2), true);
    const retried = (await store.outboxGet(queued.id))!;
    assert.deepEqual([retried.status, retried.attempts, retried.nextAttemptAtMs, retried.lastError], ['queued', 1, NOW + 500, 'XR_UPSTREAM: down']);
    await store.outboxClaim('310000', NOW + 500, 1);
    const receipt = { status: 200, body: { applyNo: '1', message: 'ok' }, verified: true as const };
    await store.outboxSettle(queued.id, { status: 'delivered', receipt }, NOW + 600);
    const delivered = (await store.outboxGet(queued.id))!;
    assert.deepEqual([delivered.status, delivered.attempts, delivered.receipt], ['delivered', 2, receipt]);
  });

  it('puts everything left in delivering back in the queue after a crash, and survives reopening', async function () {
    for (let i = 0; i < 3; i += 1) await store.outboxEnqueue(message('310000'));
    await store.outboxClaim('310000', NOW, 3);
    await store.close(); // commits the claim's batch
    store = new SqliteStore(file);
    assert.equal((await store.outboxCounts()).delivering, 3);
    assert.equal(await store.outboxRelease('all', NOW), 3);
    assert.deepEqual(await store.outboxCounts(), { queued: 3, delivering: 0, delivered: 0, failed: 0, dead: 0 });
  });

  it('answers a claim before its batch is committed, and a write made after it sees the claim', async function () {
    const queued = await Promise.all(Array.from({ length: 3 }, () => store.outboxEnqueue(message('310000'))));
    const writer = new GroupCommitWriter(file);
    try {
      // The first write goes alone; the next two wait for it and go together in one batch.
      const first = writer.run("UPDATE outbox SET last_error = 'first' WHERE id = ?", [queued[0]!.message.id]);
      const answered: string[] = [];
      const durable = writer.run("UPDATE outbox SET last_error = 'second' WHERE id = ?", [queued[1]!.message.id]).then(() => answered.push('durable write'));
      const claim = writer.allUncommitted<{ id: string }>("UPDATE outbox SET status = 'delivering' WHERE target = ? RETURNING id", ['310000'])
        .then((rows) => { answered.push('claim'); return rows; });
      await Promise.all([first, durable, claim]);
      assert.deepEqual(answered, ['claim', 'durable write'], 'the claim was answered before the commit its batch-mate waited for');
      assert.equal((await claim).length, 3);
    } finally {
      await writer.close();
    }
    const receipt = { status: 400, body: { code: 'XR_VALIDATION' }, verified: true as const };
    assert.equal(await store.outboxSettle(queued[2]!.message.id, { status: 'failed', lastError: 'x', receipt }, NOW), true, 'settled: it was in delivering');
    assert.deepEqual((await store.outboxGet(queued[2]!.message.id))?.receipt, receipt, 'a failed message keeps the refusal');
  });

  it('leaves messages claimed by a process killed at once queued after the restart, uncounted', async function () {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await store.outboxEnqueue(message('310000'))).message.id);
    await store.close();
    // Another process claims them and is killed the moment the claim is answered, its batch perhaps not yet on disk.
    const script = `
      import { SqliteStore } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../gateway/store/sqlite-store.ts'))};
      const store = new SqliteStore(${JSON.stringify(file)});
      const claimed = await store.outboxClaim('310000', ${NOW}, 10);
      console.log(claimed.length);
      process.kill(process.pid, 'SIGKILL');
    `;
    const scriptFile = path.join(dataDir, 'claim-and-die.mjs');
    writeFileSync(scriptFile, script);
    const child = spawn(process.execPath, ['--import', 'tsx', scriptFile], { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const [, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL');
    assert.equal(output.trim(), '3', 'the claim was answered');

    store = new SqliteStore(file);
    await store.outboxRelease('all', NOW + 1);
    const after = await Promise.all(ids.map((id) => store.outboxGet(id)));
    assert.deepEqual(after.map((m) => [m!.status, m!.attempts]), [['queued', 0], ['queued', 0], ['queued', 0]]);
  });

  it('requeues only failed or dead messages, from zero attempts, with a new body when given', async function () {
    const { message: queued } = await store.outboxEnqueue(message('310000'));
    assert.equal(await store.outboxRequeue(queued.id, NOW), undefined, 'a queued message is not requeued');
    await store.outboxClaim('310000', NOW, 1);
    await store.outboxSettle(queued.id, { status: 'failed', lastError: 'refused', receipt: { status: 400, body: null, verified: true } }, NOW);
    assert.equal((await store.outboxRequeue(queued.id, NOW + 5))?.receipt, null, 'a requeued message no longer holds the refusal');
    await store.outboxClaim('310000', NOW + 5, 1);
    await store.outboxSettle(queued.id, { status: 'dead', lastError: 'gave up' }, NOW);
    const requeued = await store.outboxRequeue(queued.id, NOW + 10, { partnerBody: Buffer.from('<b/>'), contentType: 'application/xml; charset=UTF-8' });
    assert.deepEqual([requeued?.status, requeued?.attempts, requeued?.nextAttemptAtMs], ['queued', 0, NOW + 10]);
    const stored = (await store.outboxGet(queued.id))!;
    assert.deepEqual(stored.partnerBody, Buffer.from('<b/>'));
    assert.equal(stored.contentType, 'application/xml; charset=UTF-8');
  });

  /** The outbox counted row by row, as the counts kept by triggers must say. */
  function countedRows(): Record<string, number> {
    const db = new Database(file, { readonly: true });
    try {
      const counts: Record<string, number> = { queued: 0, delivering: 0, delivered: 0, failed: 0, dead: 0 };
      for (const { status, n } of db.prepare<[], { status: string; n: number }>('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all()) counts[status] = n;
      return counts;
    } finally {
      db.close();
    }
  }

  it('keeps its counts by status through every change, without counting the rows', async function () {
    const receipt = { status: 200, body: {}, verified: true } as const;
    const check = async (step: string) => assert.deepEqual(await store.outboxCounts(), countedRows(), step);
    for (let i = 0; i < 12; i += 1) await store.outboxEnqueue(message(i % 2 === 0 ? '310000' : '320500'));
    await check('enqueued');
    const claimed = await store.outboxClaim('310000', NOW, 5);
    // A claim answers before its batch commits; a write made after it commits after it.
    await store.replayClaim('310000', randomUUID(), 0, 0);
    await check('claimed');
    assert.equal(claimed.length, 5);
    await store.outboxSettle(claimed[0]!.id, { status: 'delivered', receipt }, NOW);
    await store.outboxSettle(claimed[1]!.id, { status: 'failed', lastError: 'XR_SCHEMA' }, NOW);
    await store.outboxSettle(claimed[2]!.id, { status: 'dead', lastError: 'gave up' }, NOW);
    await store.outboxSettle(claimed[3]!.id, { status: 'queued', nextAttemptAtMs: NOW + 1_000, lastError: 'timeout' }, NOW);
    assert.equal(await store.outboxSettle(claimed[0]!.id, { status: 'delivered', receipt }, NOW), false, 'settled once only');
    await check('settled');
    await store.outboxRelease('all', NOW);
    await check('released');
    await store.outboxRequeue(claimed[1]!.id, NOW);
    await store.outboxRequeue(claimed[2]!.id, NOW);
    await check('requeued');
    assert.deepEqual(await store.outboxCounts(), { queued: 11, delivering: 0, delivered: 1, failed: 0, dead: 0 });
    const db = new Database(file);
    try {
      db.prepare("UPDATE outbox_counts SET n = 100 WHERE status = 'dead'").run();
      assert.equal((await store.outboxCounts()).dead, 100, 'read from the kept counts, not from the rows');
    } finally {
      db.close();
    }
  });

  it('fills its counts from the rows of a file written before they were kept', async function () {
    for (let i = 0; i < 7; i += 1) await store.outboxEnqueue(message('310000'));
    await store.outboxClaim('310000', NOW, 3);
    await store.close(); // commits the claim's batch
    const db = new Database(file);
    db.exec('DROP TRIGGER outbox_count_insert; DROP TRIGGER outbox_count_update; DROP TRIGGER outbox_count_delete; DROP TABLE outbox_counts');
    db.close();

    store = new SqliteStore(file);
    assert.deepEqual(await store.outboxCounts(), { queued: 4, delivering: 3, delivered: 0, failed: 0, dead: 0 });
    await store.outboxEnqueue(message('310000'));
    assert.deepEqual(await store.outboxCounts(), countedRows(), 'and kept from then on');
  });

  it('lists newest first by status and target, finding the few among the many through an index', async function () {
    const receipt = { status: 200, body: {}, verified: true } as const;
    const made: Array<{ id: string; target: string }> = [];
    for (let i = 0; i < 30; i += 1) {
      const target = i % 3 === 0 ? '320500' : '310000';
      made.push({ id: (await store.outboxEnqueue(message(target, { nowMs: NOW + i }))).message.id, target });
    }
    for (const target of ['310000', '320500']) {
      for (const [index, claimed] of (await store.outboxClaim(target, NOW + 100, 8)).entries()) {
        await store.outboxSettle(claimed.id, index % 4 === 0 ? { status: 'failed', lastError: 'XR_SCHEMA' } : { status: 'delivered', receipt }, NOW + 100);
      }
    }
    const everything = await store.outboxList({ limit: 1000 });
    assert.deepEqual(everything.map((row) => row.id), made.map((row) => row.id).reverse(), 'newest first');

    const db = new Database(file, { readonly: true });
    try {
      const queries: Array<Omit<OutboxQuery, 'limit'>> = [
        {}, { status: 'failed' }, { status: 'delivered' }, { status: 'queued' }, { target: '320500' },
        { status: 'failed', target: '320500' }, { status: 'delivered', target: '310000' }, { status: 'dead' },
      ];
      for (const query of queries) {
        for (const limit of [1, 3, 1000]) {
          const expected = everything.filter((row) => (query.status === undefined || row.status === query.status) && (query.target === undefined || row.target === query.target)).slice(0, limit);
          assert.deepEqual(await store.outboxList({ ...query, limit }), expected, `${JSON.stringify(query)}, limit ${limit}`);
        }
        const plan = db.prepare<[Record<string, string | number>], { detail: string }>(`EXPLAIN QUERY PLAN ${outboxListSql(query)}`).all({ ...query, limit: 10 }).map((row) => row.detail).join('; ');
        const index = query.target !== undefined ? /outbox_due|outbox_by_target/ : query.status !== undefined && query.status !== 'delivered' ? /outbox_due/ : /^SCAN outbox$/;
        assert.match(plan, index, `${JSON.stringify(query)}: ${plan}`);
      }
    } finally {
      db.close();
    }
  });

  it('stores one message per idempotency key, and tells a retry from a reuse for another message', async function () {
    const idempotency = { key: 'order-17', requestDigest: 'a'.repeat(64) };
    const first = await store.outboxEnqueue(message('310000', { idempotency }));
    const retry = await store.outboxEnqueue(message('310000', { idempotency }));
    const reuse = await store.outboxEnqueue(message('310000', { idempotency: { ...idempotency, requestDigest: 'b'.repeat(64) } }));
    assert.equal(first.outcome, 'created');
    assert.deepEqual([retry.outcome, retry.message.id], ['duplicate', first.message.id]);
    assert.deepEqual([reuse.outcome, reuse.message.id], ['key-reused', first.message.id]);
    assert.equal((await store.outboxCounts()).queued, 1);
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../gateway/store/sqlite-store.ts';
import type { NewOutboundMessage } from '../../gateway/store/store.ts';

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
    await store.close();
    store = new SqliteStore(file);
    assert.equal((await store.outboxCounts()).delivering, 3);
    assert.equal(await store.outboxRelease('all', NOW), 3);
    assert.deepEqual(await store.outboxCounts(), { queued: 3, delivering: 0, delivered: 0, failed: 0, dead: 0 });
  });

  it('requeues only failed or dead messages, from zero attempts, with a new body when given', async function () {
    const { message: queued } = await store.outboxEnqueue(message('310000'));
    assert.equal(await store.outboxRequeue(queued.id, NOW), undefined, 'a queued message is not requeued');
    await store.outboxClaim('310000', NOW, 1);
    await store.outboxSettle(queued.id, { status: 'dead', lastError: 'gave up' }, NOW);
    const requeued = await store.outboxRequeue(queued.id, NOW + 10, { partnerBody: Buffer.from('<b/>'), contentType: 'application/xml; charset=UTF-8' });
    assert.deepEqual([requeued?.status, requeued?.attempts, requeued?.nextAttemptAtMs], ['queued', 0, NOW + 10]);
    const stored = (await store.outboxGet(queued.id))!;
    assert.deepEqual(stored.partnerBody, Buffer.from('<b/>'));
    assert.equal(stored.contentType, 'application/xml; charset=UTF-8');
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

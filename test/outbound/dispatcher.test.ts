/**
 * The dispatcher's own bookkeeping, on a fake clock with the partner as a function (as breaker-timing.test.ts):
 * which partners have messages due is kept in memory rather than read from the Store on every wake, and
 * messages are claimed ahead of the partner's free send slots so a freed slot is used at once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as FakeTimers from '@sinonjs/fake-timers';
import { FormatRegistry } from '../../adapters/index.ts';
import { RegionTable } from '../../adapters/regions/index.ts';
import { createDevelopmentPki, signerFromPem } from '../../certs/dev-pki.ts';
import type { Signer } from '../../certs/jws.ts';
import { Directory } from '../../gateway/directory.ts';
import { createLogger } from '../../gateway/log.ts';
import { systemClock } from '../../gateway/outbound/clock.ts';
import { DeliveryDispatcher, type DispatcherTuning } from '../../gateway/outbound/dispatcher.ts';
import { DeliveryFailure, type Attempt, type Delivered } from '../../gateway/outbound/send-attempt.ts';
import { SqliteStore } from '../../gateway/store/sqlite-store.ts';
import type { Partner } from '../../gateway/store/store.ts';

const SHANGHAI = '310000';
const DELIVERED: Delivered = { kind: 'delivered', receipt: { status: 200, body: {}, verified: true } };

function partner(overrides: Partial<Partner> = {}): Partner {
  return {
    region: SHANGHAI, name: 'Shanghai', endpoint: 'http://127.0.0.1:9', format: 'sh-json',
    services: ['application.submit', 'application.status', 'licence.verify', 'evaluation.submit'],
    delivery: { timeoutMs: 60_000, maxAttempts: 100, backoffMs: 100, maxBackoffMs: 1_000 },
    breaker: { volumeThreshold: 1_000, errorThresholdPercentage: 50, resetTimeoutMs: 10_000 },
    createdAt: '2026-11-27T00:00:00Z', updatedAt: '2026-11-27T00:00:00Z',
    ...overrides,
  };
}

/** An attempt the test ends by hand. */
interface Pending {
  attempt: Attempt;
  deliver(): void;
  fail(): void;
}

describe('the dispatcher\'s bookkeeping: due partners in memory, messages claimed ahead', function () {
  let clock: FakeTimers.Clock;
  let dataDir: string;
  let store: SqliteStore;
  let directory: Directory;
  let signer: Signer;
  let dispatcher: DeliveryDispatcher | undefined;
  let pending: Pending[];
  let seeds: number;

  before(async function () {
    const pki = await createDevelopmentPki('330500');
    signer = signerFromPem(pki, { key: 'key', certificate: 'certificate', chain: 'chain' });
  });

  beforeEach(function () {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: Date.parse('2026-11-27T09:00:00+08:00') });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-dispatcher-'));
    store = new SqliteStore(path.join(dataDir, 'gateway.sqlite'), { writes: 'inline' });
    // Counts the Store's one query over the whole queue.
    seeds = 0;
    const queuedTargets = store.outboxQueuedTargets.bind(store);
    store.outboxQueuedTargets = () => {
      seeds += 1;
      return queuedTargets();
    };
    directory = new Directory(FormatRegistry.withShippedFormats());
    directory.setPartner(partner());
    pending = [];
  });

  afterEach(async function () {
    try {
      for (const open of pending) open.deliver();
      const stopping = dispatcher?.stop();
      await clock.tickAsync(1_000);
      await stopping;
    } finally {
      dispatcher = undefined;
      clock.uninstall();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  async function start(tuning: Partial<DispatcherTuning> = {}): Promise<DeliveryDispatcher> {
    dispatcher = new DeliveryDispatcher({
      ownRegion: '330500', algorithms: ['ES256'], signatures: 'pool', store, directory, regions: RegionTable.default(), signer: () => signer,
      clock: systemClock(), log: createLogger('silent'), random: () => 0.5, tuning: { shutdownGraceMs: 500, ...tuning },
      send: (attempt) => new Promise<Delivered>((resolve, reject) => {
        attempt.signal.addEventListener('abort', () => reject(new DeliveryFailure({ kind: 'retry', reason: 'XR_UPSTREAM_TIMEOUT: the attempt was cancelled' })));
        pending.push({
          attempt,
          deliver: () => resolve(DELIVERED),
          fail: () => reject(new DeliveryFailure({ kind: 'retry', reason: 'XR_UPSTREAM: down' })),
        });
      }),
    });
    await dispatcher.start();
    return dispatcher;
  }

  /** Stores messages for Shanghai as the accept path does; `tell` says so to the dispatcher, as server.ts does. */
  async function enqueue(count: number, tell = true): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const id = randomUUID();
      await store.outboxEnqueue({ id, target: SHANGHAI, messageType: 'application.status', canonical: '{}', partnerBody: Buffer.from('{}'), contentType: 'application/json', nowMs: Date.now() });
      if (tell) dispatcher!.queued(SHANGHAI);
      ids.push(id);
    }
    await clock.tickAsync(0);
    return ids;
  }

  const statuses = async (ids: string[]) => (await Promise.all(ids.map((id) => store.outboxGet(id)))).map((m) => m!.status);
  const endAll = async (how: 'deliver' | 'fail') => {
    for (const open of pending.splice(0)) open[how]();
    await clock.tickAsync(0);
  };

  it('sends what it is told was queued without reading the queue\'s targets from the Store again', async function () {
    await start();
    assert.equal(seeds, 1, 'read once, at start');
    const ids = await enqueue(5);
    await endAll('deliver');
    assert.deepEqual(await statuses(ids), Array(5).fill('delivered'));
    const more = await enqueue(3);
    await endAll('deliver');
    assert.deepEqual(await statuses(more), Array(3).fill('delivered'));
    assert.equal(seeds, 1, 'no wake asked the Store which partners have messages');
  });

  it('remembers a retry from its settlement and sends it when due, without asking the Store', async function () {
    await start();
    const [id] = await enqueue(1);
    await endAll('fail');
    assert.equal((await store.outboxGet(id!))!.status, 'queued');
    await clock.tickAsync(74);
    assert.equal(pending.length, 0, 'not before the backoff (75 ms with this jitter)');
    await clock.tickAsync(1);
    assert.equal(pending.length, 1, 'sent again when due');
    assert.equal(seeds, 1);
  });

  it('finds messages it was not told of on wake(), and in a cluster on its sweep', async function () {
    await start({ sweepMs: 250 });
    const untold = await enqueue(1, false);
    await clock.tickAsync(249);
    assert.equal(pending.length, 0, 'not told, not yet swept');
    await clock.tickAsync(1);
    assert.equal(pending.length, 1, 'found by the sweep');
    assert.equal(pending[0]!.attempt.message.id, untold[0]);
    await endAll('deliver');

    await dispatcher!.stop();
    dispatcher = undefined;
    await start();
    const later = await enqueue(1, false);
    await clock.tickAsync(10_000);
    assert.equal(pending.length, 0, 'one process without a sweep waits to be told');
    dispatcher!.wake();
    await clock.tickAsync(0);
    assert.deepEqual(pending.map((open) => open.attempt.message.id), later);
  });

  it('claims up to perPartnerConcurrency messages ahead of the free send slots, and sends no more at once than the slots', async function () {
    await start({ perPartnerConcurrency: 2 });
    const ids = await enqueue(10);
    assert.equal(pending.length, 2, 'two send slots');
    assert.equal((await store.outboxCounts()).delivering, 4, 'two being sent, two claimed ahead');
    await endAll('deliver');
    assert.equal(pending.length, 2);
    assert.equal((await store.outboxCounts()).delivered, 2);
    for (let round = 0; round < 4; round += 1) await endAll('deliver');
    assert.deepEqual(await statuses(ids), Array(10).fill('delivered'));
  });

  it('starts the next claimed message as soon as a send slot frees, before the previous attempt is settled', async function () {
    await start({ perPartnerConcurrency: 1 });
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => { openGate = resolve; });
    const settle = store.outboxSettle.bind(store);
    store.outboxSettle = async (...args) => {
      await gate;
      return settle(...args);
    };
    const ids = await enqueue(2);
    assert.equal(pending.length, 1);
    await endAll('deliver');
    assert.equal(pending.length, 1, 'the second message went out while the first one\'s settlement was still being written');
    assert.equal(pending[0]!.attempt.message.id, ids[1]);
    openGate();
    await endAll('deliver');
    assert.deepEqual(await statuses(ids), ['delivered', 'delivered']);
  });

  it('on stop, puts messages claimed ahead back in the queue at once, uncounted', async function () {
    const d = await start({ perPartnerConcurrency: 1 });
    const released: string[] = [];
    d.events.on('released', ({ id }) => released.push(id));
    const ids = await enqueue(3);
    assert.deepEqual(await statuses(ids), ['delivering', 'delivering', 'queued']);
    const stopping = d.stop();
    await clock.tickAsync(0);
    assert.deepEqual(released, [ids[1]], 'the one claimed ahead, before the grace is up');
    await clock.tickAsync(500);
    await stopping;
    dispatcher = undefined;
    const messages = await Promise.all(ids.map((id) => store.outboxGet(id)));
    assert.deepEqual(messages.map((m) => [m!.status, m!.attempts]), [['queued', 0], ['queued', 0], ['queued', 0]]);
  });

  it('puts messages claimed ahead back in the queue when the partner\'s breaker opens', async function () {
    directory.setPartner(partner({ breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 10_000 } }));
    await start({ perPartnerConcurrency: 2 });
    const ids = await enqueue(6);
    assert.equal((await store.outboxCounts()).delivering, 4);
    await endAll('fail');
    assert.equal(dispatcher!.breakers()[0]!.state, 'open');
    const messages = await Promise.all(ids.map((id) => store.outboxGet(id)));
    assert.deepEqual(messages.map((m) => m!.status), Array(6).fill('queued'), 'nothing is left in delivering behind an open breaker');
    assert.deepEqual(messages.map((m) => m!.attempts), [1, 1, 0, 0, 0, 0], 'only the two sent count as attempts');
    assert.equal(pending.length, 0);
  });
});

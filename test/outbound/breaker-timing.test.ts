/**
 * The dispatcher and its breakers against the clock, with fake timers (no sleeps): the partner is a
 * function here, so only the scheduling is under test. The same behaviour over real sockets is in
 * breaker.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as FakeTimers from '@sinonjs/fake-timers';
import { FormatRegistry } from '../../adapters/index.ts';
import { RegionTable } from '../../adapters/regions/index.ts';
import { createDevelopmentPki, signerFromPem } from '../../certs/dev-pki.ts';
import type { Signer } from '../../certs/jws.ts';
import { Directory } from '../../gateway/directory.ts';
import { createLogger } from '../../gateway/log.ts';
import { systemClock } from '../../gateway/outbound/clock.ts';
import { DeliveryDispatcher } from '../../gateway/outbound/dispatcher.ts';
import { DeliveryFailure, type Attempt, type Delivered } from '../../gateway/outbound/send-attempt.ts';
import { SqliteStore } from '../../gateway/store/sqlite-store.ts';
import type { Partner } from '../../gateway/store/store.ts';

const SHANGHAI = '310000';
const RESET_MS = 10_000;

function partner(overrides: Partial<Partner> = {}): Partner {
  return {
    region: SHANGHAI, name: 'Shanghai', endpoint: 'http://127.0.0.1:9', format: 'sh-json',
    services: ['application.submit', 'application.status', 'licence.verify', 'evaluation.submit'],
    delivery: { timeoutMs: 1_000, maxAttempts: 100, backoffMs: 100, maxBackoffMs: 1_000 },
    breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: RESET_MS },
    createdAt: '2026-11-27T00:00:00Z', updatedAt: '2026-11-27T00:00:00Z',
    ...overrides,
  };
}

const DELIVERED: Delivered = { kind: 'delivered', receipt: { status: 200, body: {}, verified: true } };

describe('the dispatcher and its circuit breakers, on a fake clock', function () {
  let clock: FakeTimers.Clock;
  let dataDir: string;
  let store: SqliteStore;
  let directory: Directory;
  let dispatcher: DeliveryDispatcher;
  let signer: Signer;
  /** What the simulated partner does with each attempt. */
  let answer: (attempt: Attempt) => Promise<Delivered>;
  let sent: Attempt[];

  before(async function () {
    const pki = await createDevelopmentPki('330500');
    signer = signerFromPem(pki, { key: 'key', certificate: 'certificate', chain: 'chain' });
  });

  beforeEach(async function () {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: Date.parse('2026-11-27T09:00:00+08:00') });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-breaker-'));
    // Inline writes: a writer thread's real I/O would not follow the fake clock.
    store = new SqliteStore(path.join(dataDir, 'gateway.sqlite'), { writes: 'inline' });
    directory = new Directory(FormatRegistry.withShippedFormats());
    directory.setPartner(partner());
    sent = [];
    answer = async () => { throw new DeliveryFailure({ kind: 'retry', reason: 'XR_UPSTREAM: down' }); };
    dispatcher = new DeliveryDispatcher({
      ownRegion: '330500', algorithms: ['ES256'], signatures: 'pool', store, directory, regions: RegionTable.default(), signer: () => signer,
      clock: systemClock(), log: createLogger('silent'), random: () => 0.5, tuning: { shutdownGraceMs: 500 },
      send: (attempt) => {
        sent.push(attempt);
        return answer(attempt);
      },
    });
    await dispatcher.start();
  });

  afterEach(async function () {
    try {
      const stopping = dispatcher.stop();
      await clock.tickAsync(1_000);
      await stopping;
    } finally {
      clock.uninstall();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  /** A partner that never answers; only a cancellation ends the attempt. */
  const hang = (attempt: Attempt) => new Promise<Delivered>((_resolve, reject) => {
    attempt.signal.addEventListener('abort', () => reject(new DeliveryFailure({ kind: 'retry', reason: 'XR_UPSTREAM_TIMEOUT: the attempt was cancelled' })));
  });

  async function enqueue(count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const id = randomUUID();
      await store.outboxEnqueue({ id, target: SHANGHAI, messageType: 'application.status', canonical: '{}', partnerBody: Buffer.from('{}'), contentType: 'application/json', nowMs: Date.now() });
      ids.push(id);
    }
    dispatcher.wake();
    await clock.tickAsync(0);
    return ids;
  }

  const stateOf = () => dispatcher.breakers().find((b) => b.partner === SHANGHAI)?.state;
  const attemptsOf = async (ids: string[]) => (await Promise.all(ids.map((id) => store.outboxGet(id)))).map((m) => m!.attempts);

  it('opens after volumeThreshold failures, sends nothing while open, then lets one trial through per half-open', async function () {
    const ids = await enqueue(4);
    assert.equal(sent.length, 4, 'all four went out at once');
    assert.equal(stateOf(), 'open');
    const attempts = await attemptsOf(ids);

    await clock.tickAsync(RESET_MS - 1);
    assert.equal(sent.length, 4, 'nothing is sent while the breaker is open, though the retries came due');
    assert.deepEqual(await attemptsOf(ids), attempts, 'waiting messages are not counted as attempts');

    await clock.tickAsync(1);
    assert.equal(sent.length, 5, 'one trial when half-open');
    assert.equal(stateOf(), 'open', 'the failed trial opens the breaker again');

    answer = async () => DELIVERED;
    await clock.tickAsync(RESET_MS);
    assert.equal(stateOf(), 'closed', 'a successful trial closes it');
    await clock.tickAsync(1_000);
    assert.deepEqual((await Promise.all(ids.map((id) => store.outboxGet(id)))).map((m) => m!.status), ['delivered', 'delivered', 'delivered', 'delivered']);
    assert.equal(sent.length, 4 + 1 + 1 + 3);
  });

  it('does not count a refusal (a verified 4xx) against the breaker', async function () {
    answer = async () => { throw new DeliveryFailure({ kind: 'refused', reason: 'the partner refused the message with 400' }); };
    const ids = await enqueue(6);
    assert.equal(stateOf(), 'closed');
    assert.deepEqual((await Promise.all(ids.map((id) => store.outboxGet(id)))).map((m) => m!.status), Array(6).fill('failed'));
  });

  it('waits the backoff between attempts: backoffMs · 2^(n−1), three quarters of it with this jitter', async function () {
    directory.setPartner(partner({ breaker: { volumeThreshold: 1_000 } }));
    const [id] = await enqueue(1);
    assert.equal(sent.length, 1);
    await clock.tickAsync(74);
    assert.equal(sent.length, 1, 'not before 75 ms (100 · 0.75)');
    await clock.tickAsync(1);
    assert.equal(sent.length, 2);
    await clock.tickAsync(149);
    assert.equal(sent.length, 2, 'not before 150 ms (200 · 0.75)');
    await clock.tickAsync(1);
    assert.equal(sent.length, 3);
    assert.equal((await store.outboxGet(id!))!.attempts, 3);
  });

  it('holds a breaker open for an operator beyond resetTimeout, and sends again once set back to auto', async function () {
    answer = async () => DELIVERED;
    await dispatcher.forceBreaker(SHANGHAI, 'open');
    const ids = await enqueue(2);
    await clock.tickAsync(10 * RESET_MS);
    assert.equal(sent.length, 0);
    assert.equal(stateOf(), 'open');
    await dispatcher.forceBreaker(SHANGHAI, 'auto');
    await clock.tickAsync(0);
    assert.equal(sent.length, 2);
    assert.deepEqual((await Promise.all(ids.map((id) => store.outboxGet(id)))).map((m) => m!.status), ['delivered', 'delivered']);
  });

  it('keeps sending through a breaker an operator holds closed, whatever fails', async function () {
    await dispatcher.forceBreaker(SHANGHAI, 'closed');
    await enqueue(4);
    assert.equal(sent.length, 4);
    assert.equal(stateOf(), 'closed');
    await clock.tickAsync(75);
    assert.equal(sent.length, 8, 'the retries went out, the breaker did not open');
  });

  it('rebuilds a partner\'s breaker, closed, when its settings change', async function () {
    await enqueue(3);
    assert.equal(stateOf(), 'open');
    answer = async () => DELIVERED;
    directory.setPartner(partner({ endpoint: 'http://127.0.0.1:10' }));
    dispatcher.wake();
    await clock.tickAsync(1_000);
    assert.equal(stateOf(), 'closed');
    assert.equal(sent.length, 6);
    assert.equal(sent.at(-1)!.partner.endpoint, 'http://127.0.0.1:10');
  });

  it('cancels an attempt when the breaker\'s timeout fires, and retries it', async function () {
    const aborted: boolean[] = [];
    answer = (attempt) => {
      attempt.signal.addEventListener('abort', () => aborted.push(true));
      return hang(attempt);
    };
    const [id] = await enqueue(1);
    await clock.tickAsync(999);
    assert.deepEqual(aborted, []);
    await clock.tickAsync(1);
    assert.deepEqual(aborted, [true], 'the request was cancelled, not left running');
    const message = (await store.outboxGet(id!))!;
    assert.equal(message.status, 'queued');
    assert.match(message.lastError ?? '', /XR_UPSTREAM_TIMEOUT/);
  });

  it('on stop, waits the grace for an attempt in flight, then cancels it and puts it back uncounted', async function () {
    answer = hang;
    directory.setPartner(partner({ delivery: { timeoutMs: 60_000 } }));
    const [id] = await enqueue(1);
    assert.equal((await store.outboxGet(id!))!.status, 'delivering');
    const stopped = dispatcher.stop();
    await clock.tickAsync(499);
    assert.equal((await store.outboxGet(id!))!.status, 'delivering', 'still within the grace');
    await clock.tickAsync(1);
    await stopped;
    const message = (await store.outboxGet(id!))!;
    assert.equal(message.status, 'queued');
    assert.equal(message.attempts, 0);
  });

  it('after a crash, sends what was left in delivering again, with the same idempotency key', async function () {
    answer = hang;
    directory.setPartner(partner({ delivery: { timeoutMs: 60_000 } }));
    const [id] = await enqueue(1);
    assert.equal((await store.outboxGet(id!))!.status, 'delivering');
    // A second dispatcher on the same store, as after a restart of a killed process.
    answer = async () => DELIVERED;
    const restarted = new DeliveryDispatcher({
      ownRegion: '330500', algorithms: ['ES256'], signatures: 'pool', store, directory, regions: RegionTable.default(), signer: () => signer,
      clock: systemClock(), log: createLogger('silent'), send: (attempt) => { sent.push(attempt); return answer(attempt); },
    });
    await restarted.start();
    await clock.tickAsync(0);
    assert.equal(sent.length, 2);
    assert.equal(sent[1]!.message.id, id, 'the same message id, which is the X-XR-Idempotency-Key');
    assert.equal((await store.outboxGet(id!))!.status, 'delivered');
    await restarted.stop();
  });
});

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../gateway/log.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/** Resolves with the first log line whose msg is `msg`. */
function nextLine(lines: PassThrough, msg: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let pending = '';
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let end: number;
      while ((end = pending.indexOf('\n')) >= 0) {
        const line = JSON.parse(pending.slice(0, end)) as Record<string, unknown>;
        pending = pending.slice(end + 1);
        if (line.msg === msg) {
          lines.off('data', onData);
          resolve(line);
          return;
        }
      }
    };
    lines.on('data', onData);
  });
}

describe('the gateway purges expired replay entries and day-old idempotency keys on its own', function () {
  let harness: TestGateway;
  let nowMs = Date.now();
  const lines = new PassThrough();

  before(async function () {
    harness = await startTestGateway({}, { nowMs: () => nowMs, purgeIntervalMs: 20, log: createLogger('info', lines) });
  });

  after(async function () {
    await harness.stop();
    rmSync(harness.dataDir, { recursive: true, force: true });
  });

  it('drops what has expired, keeps what has not, and says how much it dropped', async function () {
    const { store } = harness.gateway;
    const seconds = Math.floor(nowMs / 1000);
    assert.equal(await store.replayClaim('310000', 'expires-soon', seconds + 1, seconds), true);
    assert.equal(await store.replayClaim('310000', 'lives-on', seconds + 601, seconds), true);
    // A day old 5 s from now: like the first entry, purgeable only once the clock has moved on.
    assert.deepEqual(await store.idempotencyClaim('310000', 'old-key', 'digest', seconds - 86_400 + 5), { state: 'claimed' });
    assert.deepEqual(await store.idempotencyClaim('310000', 'new-key', 'digest', seconds), { state: 'claimed' });

    const purged = nextLine(lines, 'purged expired entries');
    nowMs += 10_000;
    const line = await purged;
    assert.equal(line.replayEntries, 1);
    assert.equal(line.idempotencyKeys, 1);
    assert.equal(await store.replayCount(), 1);
    assert.equal(await store.replayClaim('310000', 'lives-on', seconds + 700, seconds + 10), false, 'the live entry is still a replay');
    assert.equal(await store.replayClaim('310000', 'expires-soon', seconds + 700, seconds + 10), true, 'the expired one was dropped');
    assert.deepEqual(await store.idempotencyClaim('310000', 'new-key', 'digest', seconds), { state: 'pending', bodyDigest: 'digest' });
  });
});

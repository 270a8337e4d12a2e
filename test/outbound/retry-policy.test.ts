import assert from 'node:assert/strict';
import { MAX_RETRY_AFTER_MS, backoffDelayMs, parseRetryAfter, settlementOf } from '../../gateway/outbound/retry-policy.ts';

const DELIVERY = { timeoutMs: 1_000, maxAttempts: 4, backoffMs: 1_000, maxBackoffMs: 5_000 };
const NOW = Date.parse('2026-11-27T09:00:00Z');

describe('the retry policy (PROTOCOL §6), as pure functions', function () {
  it('doubles the backoff with each failure up to maxBackoffMs, jittered between half and all of the step', function () {
    for (const [failures, step] of [[1, 1_000], [2, 2_000], [3, 4_000], [4, 5_000], [40, 5_000]] as const) {
      assert.equal(backoffDelayMs(failures, DELIVERY, () => 0), step / 2);
      assert.equal(backoffDelayMs(failures, DELIVERY, () => 1), step);
    }
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores what is neither', function () {
    assert.equal(parseRetryAfter('120', NOW), 120_000);
    assert.equal(parseRetryAfter(' 0 ', NOW), 0);
    assert.equal(parseRetryAfter('Fri, 27 Nov 2026 09:00:30 GMT', NOW), 30_000);
    assert.equal(parseRetryAfter('Fri, 27 Nov 2026 08:00:00 GMT', NOW), 0, 'a date in the past: at once');
    assert.equal(parseRetryAfter('9999999', NOW), MAX_RETRY_AFTER_MS, 'capped at a day');
    for (const unreadable of [undefined, '', '-5', '1.5', 'soon', 'Mon, 99 Foo 2026 25:00:00 GMT']) assert.equal(parseRetryAfter(unreadable, NOW), undefined, String(unreadable));
  });

  it('queues a retryable failure again after the backoff, or after Retry-After when that is longer', function () {
    assert.deepEqual(settlementOf({ kind: 'retry', reason: 'XR_UPSTREAM: down' }, 0, DELIVERY, NOW, () => 0), { status: 'queued', nextAttemptAtMs: NOW + 500, lastError: 'XR_UPSTREAM: down' });
    assert.deepEqual(settlementOf({ kind: 'retry', reason: '429', retryAfterMs: 30_000 }, 1, DELIVERY, NOW, () => 0), { status: 'queued', nextAttemptAtMs: NOW + 30_000, lastError: '429' });
    assert.deepEqual(settlementOf({ kind: 'retry', reason: '503', retryAfterMs: 10 }, 1, DELIVERY, NOW, () => 0), { status: 'queued', nextAttemptAtMs: NOW + 1_000, lastError: '503' });
  });

  it('ends in dead when the last allowed attempt fails, and in failed on a refusal at once', function () {
    assert.deepEqual(settlementOf({ kind: 'retry', reason: 'XR_UPSTREAM: down' }, 3, DELIVERY, NOW, () => 0), { status: 'dead', lastError: 'XR_UPSTREAM: down (gave up after 4 attempts)' });
    assert.deepEqual(settlementOf({ kind: 'refused', reason: 'the partner refused the message with 400' }, 0, DELIVERY, NOW, () => 0), { status: 'failed', lastError: 'the partner refused the message with 400' });
  });

  it('keeps the partner\'s signed refusal as the receipt of a failed message', function () {
    const receipt = { status: 422, body: { code: 'XR_VALIDATION', status: 422 }, verified: true as const };
    assert.deepEqual(settlementOf({ kind: 'refused', reason: '422', receipt }, 0, DELIVERY, NOW, () => 0), { status: 'failed', lastError: '422', receipt });
  });

  it('keeps the receipt of a delivery, and a note when the receipt could not be read', function () {
    const receipt = { status: 200, body: { applyNo: '1' }, verified: true as const };
    assert.deepEqual(settlementOf({ kind: 'delivered', receipt }, 2, DELIVERY, NOW, () => 0), { status: 'delivered', receipt });
    assert.deepEqual(settlementOf({ kind: 'delivered', receipt: { ...receipt, body: null }, note: 'unreadable' }, 0, DELIVERY, NOW, () => 0), { status: 'delivered', receipt: { ...receipt, body: null }, lastError: 'unreadable' });
  });
});

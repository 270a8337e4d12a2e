import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { outboundMessage, queue, registerPartner, settled, statusOf, watchSettlements } from '../support/outbound.ts';
import { PartnerGateway } from '../support/partner-gateway.ts';

const HANGZHOU = '330100';

describe('outbound delivery when the partner does not simply answer (PROTOCOL §6)', function () {
  let harness: TestGateway;
  let partner: PartnerGateway;
  let watch: ReturnType<typeof watchSettlements>;

  before(async function () {
    harness = await startTestGateway();
    partner = await PartnerGateway.start({ region: HANGZHOU, format: 'zj-xml', huzhouAdminUrl: harness.gateway.urls.admin });
    // A breaker that never opens here: these tests are about single messages (breaker.test.ts is about it).
    await registerPartner(harness, partner, {
      delivery: { timeoutMs: 300, maxAttempts: 3, backoffMs: 20, maxBackoffMs: 100 },
      breaker: { volumeThreshold: 100_000 },
    });
  });

  beforeEach(function () {
    partner.behaviour = { kind: 'answer' };
    watch = watchSettlements(harness.gateway);
  });

  afterEach(function () {
    watch.stop();
    partner.releaseHanging();
  });

  after(async function () {
    await harness.stop();
    await partner.stop();
  });

  const send = () => queue(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', HANGZHOU));

  it('cuts an attempt to a partner that hangs at timeoutMs, retries, and delivers once it answers', async function () {
    partner.behaviour = { kind: 'hang' };
    const id = await send();
    const failed = await watch.until(id, 'queued', 1);
    assert.match(failed.lastError ?? '', /XR_UPSTREAM_TIMEOUT/);
    partner.behaviour = { kind: 'answer' };
    await settled(harness.gateway, [id]);
    assert.equal((await statusOf(harness.gateway.urls.local, id)).attempts, 2);
    assert.equal(partner.accepted.filter((m) => m.idempotencyKey === id).length, 1);
  });

  it('retries after a 500, keeping the partner\'s status and problem in lastError', async function () {
    partner.behaviour = { kind: 'status', status: 500, code: 'XR_UPSTREAM', detail: 'database down' };
    const id = await send();
    const failed = await watch.until(id, 'queued', 1);
    assert.match(failed.lastError ?? '', /500 XR_UPSTREAM: database down/);
    partner.behaviour = { kind: 'answer' };
    await settled(harness.gateway, [id]);
  });

  it('waits at least the Retry-After of a 429 before the next attempt', async function () {
    partner.behaviour = { kind: 'status', status: 429, code: 'XR_UPSTREAM', detail: 'slow down', retryAfter: '1' };
    const arrivals: number[] = [];
    partner.on('request', () => arrivals.push(Date.now()));
    const id = await send();
    await watch.until(id, 'queued', 1);
    const queued = (await harness.gateway.store.outboxGet(id))!;
    assert.ok(queued.nextAttemptAtMs - queued.updatedAtMs >= 1000, 'the next attempt is due no sooner than Retry-After');
    partner.behaviour = { kind: 'answer' };
    await settled(harness.gateway, [id]);
    assert.equal(arrivals.length, 2);
    assert.ok(arrivals[1]! - arrivals[0]! >= 1000, `the second attempt came ${arrivals[1]! - arrivals[0]!} ms after the first`);
  });

  it('ends in failed on a signed 400, with the partner\'s code and detail, its problem as receipt, and does not retry', async function () {
    partner.behaviour = { kind: 'status', status: 400, code: 'XR_VALIDATION', detail: 'APPLY_CARDNO: wrong check digit' };
    const id = await send();
    const failed = await watch.until(id, 'failed');
    assert.equal(failed.attempts, 1);
    const status = await statusOf(harness.gateway.urls.local, id);
    assert.equal(status.status, 'failed');
    assert.match(String(status.lastError), /400 XR_VALIDATION: APPLY_CARDNO: wrong check digit/);
    const receipt = status.receipt as { status: number; verified: boolean; body: Record<string, unknown> };
    assert.equal(receipt.status, 400);
    assert.equal(receipt.verified, true);
    assert.equal(receipt.body.code, 'XR_VALIDATION');
    assert.equal(receipt.body.detail, 'APPLY_CARDNO: wrong check digit');
    assert.equal(receipt.body.status, 400);
    assert.equal(partner.requests.filter((r) => r.idempotencyKey === id).length, 1);
  });

  it('reads an XML receipt in the charset its Content-Type names (UTF-8 here, the family\'s being GB18030)', async function () {
    const plain = await send();
    await settled(harness.gateway, [plain]);
    const expected = ((await statusOf(harness.gateway.urls.local, plain)).receipt as { body: Record<string, unknown> }).body;
    partner.behaviour = { kind: 'answer-utf8' };
    const id = await send();
    await settled(harness.gateway, [id]);
    const status = await statusOf(harness.gateway.urls.local, id);
    assert.equal(status.lastError, null, String(status.lastError));
    const receipt = status.receipt as { body: Record<string, unknown> };
    assert.ok(Object.values(expected).some((value) => typeof value === 'string' && /[^\x00-\x7f]/.test(value)), 'the receipt has Chinese text to get wrong');
    assert.deepEqual({ ...receipt.body, applyNo: undefined, handleNo: undefined }, { ...expected, applyNo: undefined, handleNo: undefined });
  });

  it('does not take an unsigned 400 for a refusal: it retries', async function () {
    partner.behaviour = { kind: 'status', status: 400, code: 'XR_VALIDATION', detail: 'forged', signed: false };
    const id = await send();
    const failed = await watch.until(id, 'queued', 1);
    assert.match(failed.lastError ?? '', /not verifiably: XR_SIGNATURE_MISSING/);
    partner.behaviour = { kind: 'answer' };
    await settled(harness.gateway, [id]);
  });

  for (const [name, kind, code] of [['a bad signature', 'bad-signature', 'XR_SIGNATURE_INVALID'], ['no signature', 'unsigned', 'XR_SIGNATURE_MISSING']] as const) {
    it(`does not count a 200 with ${name} as delivered: it retries, and the partner drops the copy`, async function () {
      partner.behaviour = { kind };
      const id = await send();
      const failed = await watch.until(id, 'queued', 1);
      assert.match(failed.lastError ?? '', new RegExp(code));
      assert.equal((await statusOf(harness.gateway.urls.local, id)).receipt, null);
      partner.behaviour = { kind: 'answer' };
      await settled(harness.gateway, [id]);
      const received = partner.messages.get(id)!;
      assert.equal(received.duplicates, 1, 'the second attempt was a copy, dropped by its idempotency key');
      assert.equal((await statusOf(harness.gateway.urls.local, id)).status, 'delivered');
    });
  }

  it('ends in dead after maxAttempts, and an operator\'s requeue delivers it', async function () {
    partner.behaviour = { kind: 'reset' };
    const id = await send();
    const dead = await watch.until(id, 'dead');
    assert.equal(dead.attempts, 3);
    assert.match(dead.lastError ?? '', /gave up after 3 attempts/);
    const listed = await (await harness.admin('GET', '/admin/v1/outbox?status=dead')).json() as Array<{ id: string }>;
    assert.ok(listed.some((m) => m.id === id));

    partner.behaviour = { kind: 'answer' };
    const requeued = await harness.admin('POST', `/admin/v1/outbox/${id}/requeue`);
    const document = JSON.parse(await requeued.text()) as { status: string; attempts: number };
    assert.equal(requeued.status, 200, JSON.stringify(document));
    assert.equal(document.status, 'queued');
    assert.equal(document.attempts, 0);
    await settled(harness.gateway, [id]);
    assert.equal((await statusOf(harness.gateway.urls.local, id)).attempts, 1);
  });
});

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../gateway/log.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { outboundMessage, queue, registerPartner, statusOf, watchSettlements } from '../support/outbound.ts';
import { PartnerGateway } from '../support/partner-gateway.ts';

const HANGZHOU = '330100';
/** A partner's problem detail naming the applicant, as a real refusal may. */
const DETAIL = '申请人李明(310117198506150033)信息不符';

/**
 * A partner's problem detail is its own free text: it may name the applicant, and an unverified answer may
 * come from anyone between the two gateways. It reaches lastError (the API, for those who fix the message)
 * but never the log, which says the status and code only.
 */
describe('outbound: the partner\'s own words stay out of the log', function () {
  let harness: TestGateway;
  let partner: PartnerGateway;
  const lines: string[] = [];

  before(async function () {
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)); done(); } });
    harness = await startTestGateway({}, { log: createLogger('info', sink) });
    partner = await PartnerGateway.start({ region: HANGZHOU, format: 'zj-xml', huzhouAdminUrl: harness.gateway.urls.admin });
    await registerPartner(harness, partner, {
      delivery: { timeoutMs: 300, maxAttempts: 2, backoffMs: 20, maxBackoffMs: 40 },
      breaker: { volumeThreshold: 100_000 },
    });
  });

  after(async function () {
    await harness.stop();
    await partner.stop();
  });

  for (const [name, behaviour, status, logged] of [
    ['a signed 422 (failed)', { kind: 'status', status: 422, code: 'XR_VALIDATION', detail: DETAIL }, 'failed', 'the partner refused the message with 422 XR_VALIDATION'],
    ['an unsigned 422 (retried, then dead)', { kind: 'status', status: 422, code: 'XR_VALIDATION', detail: DETAIL, signed: false }, 'dead', 'the partner answered 422 XR_VALIDATION, but not verifiably'],
    ['a 500 (retried, then dead)', { kind: 'status', status: 500, code: 'XR_UPSTREAM', detail: DETAIL }, 'dead', 'the partner answered 500 XR_UPSTREAM'],
    ['a 503 whose code is not a code (retried, then dead)', { kind: 'status', status: 503, code: `申请人${DETAIL}`, detail: DETAIL }, 'dead', 'the partner answered 503 (a code that is not an XR/1 code)'],
  ] as const) {
    it(`${name}: lastError holds the detail, the log only the status and code`, async function () {
      partner.behaviour = behaviour;
      const watch = watchSettlements(harness.gateway);
      const before = lines.length;
      const id = await queue(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', HANGZHOU));
      await watch.until(id, status);
      watch.stop();
      const shown = await statusOf(harness.gateway.urls.local, id);
      assert.equal(shown.status, status);
      assert.ok(String(shown.lastError).includes(DETAIL), `lastError shows the partner's detail: ${String(shown.lastError)}`);

      const about = lines.slice(before).filter((line) => line.includes(id));
      const settledLines = about.map((line) => JSON.parse(line) as { msg: string; lastError?: string }).filter((line) => line.lastError !== undefined);
      assert.ok(settledLines.length >= 1, `the attempts were logged: ${about.join('\n')}`);
      for (const line of settledLines) {
        assert.ok(line.lastError!.startsWith(logged), `${line.msg}: ${line.lastError}`);
        if (line.msg === 'message dead') assert.match(line.lastError!, / \(gave up after 2 attempts\)$/, 'the log says it gave up, as the API does');
      }
      for (const line of lines) {
        assert.ok(!line.includes('李明') && !line.includes('310117198506150033'), `a log line holds the applicant: ${line}`);
      }
    });
  }
});

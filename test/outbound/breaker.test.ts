import assert from 'node:assert/strict';
import { once } from 'node:events';
import { AUDITOR_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { outboundMessage, queue, registerPartner, settled, statusOf } from '../support/outbound.ts';
import { PartnerGateway } from '../support/partner-gateway.ts';

const SHANGHAI = '310000';
const SUZHOU = '320500';
const HEFEI = '340100';

type Logged = { event: 'attempt'; id: string } | { event: 'breaker'; state: string } | { event: 'request' };

describe('a circuit breaker per partner (PROTOCOL §6)', function () {
  let harness: TestGateway;
  const partners: PartnerGateway[] = [];

  before(async function () {
    harness = await startTestGateway({}, { outbound: { shutdownGraceMs: 100 } });
  });

  after(async function () {
    await harness.stop();
    for (const partner of partners) await partner.stop();
  });

  async function partnerAt(region: string, format: string, registration: Parameters<typeof registerPartner>[2]): Promise<PartnerGateway> {
    const partner = await PartnerGateway.start({ region, format, huzhouAdminUrl: harness.gateway.urls.admin });
    partners.push(partner);
    await registerPartner(harness, partner, registration);
    return partner;
  }

  it('opens while a partner is down, sends nothing while open, one trial when half-open, and delivers everything once after recovery', async function () {
    const partner = await partnerAt(SHANGHAI, 'sh-json', {
      delivery: { timeoutMs: 1000, maxAttempts: 1000, backoffMs: 10, maxBackoffMs: 40 },
      breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 200 },
    });
    const log: Logged[] = [];
    const { events } = harness.gateway.outbound;
    const onAttempt = ({ id, target }: { id: string; target: string }) => target === SHANGHAI && log.push({ event: 'attempt', id });
    const onBreaker = ({ partner: region, state }: { partner: string; state: string }) => region === SHANGHAI && log.push({ event: 'breaker', state });
    const onRequest = () => log.push({ event: 'request' });
    events.on('attempt', onAttempt);
    events.on('breaker', onBreaker);
    partner.on('request', onRequest);
    const breakerState = async (state: string) => {
      while (!(log.at(-1)?.event === 'breaker' && (log.at(-1) as { state: string }).state === state)) await once(events, 'breaker');
    };

    await partner.down();
    const ids: string[] = [];
    for (let i = 0; i < 10; i += 1) ids.push(await queue(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', SHANGHAI)));
    await breakerState('open');
    const attemptsWhenOpen = (await Promise.all(ids.map((id) => harness.gateway.store.outboxGet(id)))).map((m) => m!.attempts);

    // Up again, but failing: the half-open trial reaches the partner, fails, and the breaker opens again.
    partner.behaviour = { kind: 'status', status: 503 };
    await partner.up();
    await breakerState('halfOpen');
    await breakerState('open');
    await breakerState('halfOpen');
    const attemptsAfterOpen = (await Promise.all(ids.map((id) => harness.gateway.store.outboxGet(id)))).map((m) => m!.attempts);

    partner.behaviour = { kind: 'answer' };
    await settled(harness.gateway, ids);
    events.off('attempt', onAttempt);
    events.off('breaker', onBreaker);
    partner.off('request', onRequest);

    // Between an 'open' and the next 'halfOpen', nothing is attempted and nothing reaches the partner;
    // while half-open, one trial.
    let state = 'closed';
    let trials = 0;
    for (const entry of log) {
      if (entry.event === 'breaker') {
        state = entry.state;
        trials = 0;
      } else {
        assert.notEqual(state, 'open', `${entry.event === 'attempt' ? 'an attempt' : 'a request'} while the breaker was open`);
        if (entry.event === 'attempt' && state === 'halfOpen') assert.equal((trials += 1), 1, 'more than one trial while half-open');
      }
    }
    assert.deepEqual(log.filter((e) => e.event === 'breaker').at(-1), { event: 'breaker', state: 'closed' });
    const counted = attemptsAfterOpen.reduce((a, b) => a + b, 0) - attemptsWhenOpen.reduce((a, b) => a + b, 0);
    assert.equal(counted, 1, 'while open only the one half-open trial was counted as an attempt');
    for (const id of ids) assert.equal(partner.accepted.filter((m) => m.idempotencyKey === id).length, 1);
    assert.equal(partner.accepted.length, ids.length);
    assert.equal(partner.duplicates, 0);
  });

  it('keeps delivering to a healthy partner while another hangs', async function () {
    const hanging = await partnerAt(SUZHOU, 'js-xml', { delivery: { timeoutMs: 10_000 }, breaker: { volumeThreshold: 100_000 } });
    const healthy = await partnerAt(HEFEI, 'ah-xml', {});
    hanging.behaviour = { kind: 'hang' };
    const toHanging: string[] = [];
    const toHealthy: string[] = [];
    const started = Date.now();
    for (let i = 0; i < 20; i += 1) {
      toHanging.push(await queue(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', SUZHOU)));
      toHealthy.push(await queue(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', HEFEI)));
    }
    let hangingSettled = 0;
    const count = ({ target }: { target: string }) => { if (target === SUZHOU) hangingSettled += 1; };
    harness.gateway.outbound.events.on('settled', count);
    await settled(harness.gateway, toHealthy);
    harness.gateway.outbound.events.off('settled', count);
    assert.equal(hangingSettled, 0, 'every healthy delivery was done before the first attempt to the hanging partner timed out');
    assert.ok(Date.now() - started < 10_000);
    assert.equal(healthy.accepted.length, 20);
    assert.ok(hanging.requests.length <= 8, 'the hanging partner holds at most its own share of the delivery slots');
    for (const id of toHanging) assert.equal((await statusOf(harness.gateway.urls.local, id)).status === 'delivered', false);
  });

  it('lets an operator hold a breaker open across a restart, and set it back to auto', async function () {
    const partner = partners.find((p) => p.region === HEFEI)!;
    const forced = await harness.admin('POST', `/admin/v1/breakers/${HEFEI}`, { state: 'open' });
    assert.equal(forced.status, 200);
    assert.equal((await forced.json() as { state: string }).state, 'open');
    const id = await queue(harness.gateway.urls.local, 'application.status', outboundMessage('application.status', HEFEI), { 'x-xr-target-region': HEFEI });
    const requests = partner.requests.length;
    await harness.restart();
    const breakers = await (await harness.admin('GET', '/admin/v1/breakers')).json() as Array<{ partner: string; state: string; override: string | null }>;
    assert.deepEqual(breakers.find((b) => b.partner === HEFEI)?.state, 'open');
    assert.deepEqual(breakers.find((b) => b.partner === HEFEI)?.override, 'open');
    const waiting = await statusOf(harness.gateway.urls.local, id);
    assert.equal(waiting.status, 'queued');
    assert.equal(waiting.attempts, 0);
    assert.equal(partner.requests.length, requests);

    const auto = await harness.admin('POST', `/admin/v1/breakers/${HEFEI}`, { state: 'auto' });
    assert.equal(auto.status, 200);
    await settled(harness.gateway, [id]);
  });

  it('shows every partner\'s breaker to operators and auditors, and lets only operators change one', async function () {
    const list = await harness.admin('GET', '/admin/v1/breakers');
    assert.equal(list.status, 200);
    const breakers = await list.json() as Array<Record<string, unknown>>;
    assert.deepEqual(breakers.map((b) => b.partner).sort(), [SHANGHAI, SUZHOU, HEFEI].sort());
    for (const breaker of breakers) {
      assert.ok(['closed', 'open', 'halfOpen'].includes(String(breaker.state)));
      assert.ok('window' in breaker && 'settings' in breaker && 'inFlight' in breaker);
    }
    const asAuditor = (method: string, body?: unknown) => fetch(`${harness.gateway.urls.admin}/admin/v1/breakers${body === undefined ? '' : `/${HEFEI}`}`, {
      method, headers: { authorization: `Bearer ${AUDITOR_TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    assert.equal((await asAuditor('GET')).status, 200);
    const refused = await asAuditor('POST', { state: 'open' });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json() as { code: string }).code, 'XR_FORBIDDEN');
    const unknown = await harness.admin('POST', '/admin/v1/breakers/330400', { state: 'open' });
    assert.equal(unknown.status, 404);
    const bad = await harness.admin('POST', `/admin/v1/breakers/${HEFEI}`, { state: 'ajar' });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json() as { code: string }).code, 'XR_BAD_REQUEST');
    const anonymous = await fetch(`${harness.gateway.urls.admin}/admin/v1/breakers`);
    assert.equal(anonymous.status, 401);
  });
});

import assert from 'node:assert/strict';
import { outboundMessage, queue, settled } from '../support/outbound.ts';
import { requestHeader } from '../support/partner-client.ts';
import { parseMetrics, sampleValue, type Sample } from './metrics-text.ts';
import { INBOUND_PARTNER, OUTBOUND_PARTNER, STATUS, SUBMIT, startOperationsRig, type OperationsRig } from './rig.ts';

const DAY_MS = 86_400_000;

describe('GET /metrics: Prometheus metrics that move with the traffic', function () {
  this.timeout(60_000);
  let rig: OperationsRig;
  /** The gateway's clock runs `offsetMs` ahead of the real one: to age the outbox and the certificates. */
  let offsetMs = 0;

  before(async function () {
    rig = await startOperationsRig({}, { nowMs: () => Date.now() + offsetMs });
  });

  after(async function () {
    await rig.stop();
  });

  async function scrape(): Promise<Sample[]> {
    const response = await fetch(`${rig.harness.gateway.urls.admin}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseMetrics(await response.text());
  }

  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels) ?? 0;

  async function breaker(state: 'open' | 'auto'): Promise<void> {
    const response = await rig.harness.admin('POST', `/admin/v1/breakers/${OUTBOUND_PARTNER}`, { state });
    assert.equal(response.status, 200, await response.text());
  }

  it('answers without a token, in the Prometheus text format, with the process metrics too', async function () {
    const samples = await scrape();
    assert.ok(sampleValue(samples, 'process_cpu_user_seconds_total') !== undefined);
    assert.ok(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds'));
  });

  it('counts inbound messages by partner, type, direction and outcome, an unregistered sender as "unknown"', async function () {
    const inbound = (outcome: string, partner = INBOUND_PARTNER, type = 'application.submit') => ({ partner, type, direction: 'inbound', outcome });
    const before = await scrape();
    assert.equal((await rig.send({ ...SUBMIT, applyNo: '3205002026112790001' })).answer.status, 200);
    assert.equal((await rig.send({ ...STATUS, applyNo: '3205002026112790002' }, { messageType: 'application.status' })).answer.status, 200);
    const tampered = await rig.send({ ...SUBMIT, applyNo: '3205002026112790003' }, { tamper: (raw) => Buffer.concat([raw, Buffer.from(' ')]) });
    assert.equal(tampered.answer.json().code, 'XR_SIGNATURE_INVALID');
    const stranger = await rig.send(SUBMIT, { header: requestHeader(rig.inbound.signer, { iss: '340100', messageType: 'application.submit' }) });
    assert.equal(stranger.answer.json().code, 'XR_PARTNER_UNKNOWN');
    const after = await scrape();
    const delta = (labels: Record<string, string>) => value(after, 'xr_messages_total', labels) - value(before, 'xr_messages_total', labels);
    assert.equal(delta(inbound('OK')), 1);
    assert.equal(delta(inbound('OK', INBOUND_PARTNER, 'application.status')), 1);
    assert.equal(delta(inbound('XR_SIGNATURE_INVALID')), 1);
    assert.equal(delta(inbound('XR_PARTNER_UNKNOWN', 'unknown')), 1);
    assert.ok(!after.some((s) => s.labels.partner === '340100'), 'a claimed, unregistered region never becomes a label');
  });

  it('times each pipeline stage: verify, translate (in and back), forward and sign', async function () {
    const before = await scrape();
    assert.equal((await rig.send({ ...SUBMIT, applyNo: '3205002026112790004' })).answer.status, 200);
    const refused = await rig.send({ ...SUBMIT, applyNo: '3205002026112790005' }, { tamper: (raw) => Buffer.concat([raw, Buffer.from(' ')]) });
    assert.equal(refused.answer.status, 401);
    const after = await scrape();
    const observed = (stage: string) => value(after, 'xr_stage_duration_seconds_count', { stage }) - value(before, 'xr_stage_duration_seconds_count', { stage });
    assert.deepEqual(['verify', 'translate', 'forward', 'sign'].map(observed), [2, 2, 1, 1]);
    assert.ok(value(after, 'xr_stage_duration_seconds_sum', { stage: 'forward' }) > value(before, 'xr_stage_duration_seconds_sum', { stage: 'forward' }));
    assert.ok(value(after, 'xr_stage_duration_seconds_bucket', { stage: 'verify', le: '+Inf' }) >= 2);
  });

  it('shows breaker states, outbox depth and the oldest waiting message\'s age, and counts outbound attempts', async function () {
    const start = await scrape();
    assert.equal(sampleValue(start, 'xr_breaker_state', { partner: OUTBOUND_PARTNER }), 0, 'closed');
    assert.equal(value(start, 'xr_outbox_oldest_age_seconds'), 0, 'nothing waits');

    await breaker('open');
    const id = await queue(rig.harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', OUTBOUND_PARTNER));
    offsetMs += 90_000;
    const waiting = await scrape();
    assert.equal(value(waiting, 'xr_breaker_state', { partner: OUTBOUND_PARTNER }), 2, 'open');
    assert.equal(value(waiting, 'xr_outbox_depth', { status: 'queued' }), 1);
    assert.ok(value(waiting, 'xr_outbox_oldest_age_seconds') >= 90, String(value(waiting, 'xr_outbox_oldest_age_seconds')));

    await breaker('auto');
    await settled(rig.harness.gateway, [id]);
    await rig.harness.gateway.operations.flushAudit();
    const delivered = await scrape();
    assert.equal(value(delivered, 'xr_breaker_state', { partner: OUTBOUND_PARTNER }), 0);
    assert.equal(value(delivered, 'xr_outbox_depth', { status: 'queued' }), 0);
    assert.equal(value(delivered, 'xr_outbox_depth', { status: 'delivered' }) - value(start, 'xr_outbox_depth', { status: 'delivered' }), 1);
    assert.equal(value(delivered, 'xr_outbox_oldest_age_seconds'), 0);
    const outbound = { partner: OUTBOUND_PARTNER, type: 'application.submit', direction: 'outbound', outcome: 'delivered' };
    assert.equal(value(delivered, 'xr_messages_total', outbound) - value(start, 'xr_messages_total', outbound), 1);
  });

  it('shows the days left of Huzhou\'s signing certificate and of each partner\'s trust anchor, counting down with the clock', async function () {
    const signer = rig.harness.gateway.signer();
    const own = { scope: 'signing', region: '330500', kid: signer.kid };
    const anchor = { scope: 'partner', region: INBOUND_PARTNER };
    const before = await scrape();
    const expected = (Date.parse(signer.chain[0]!.validTo) - (Date.now() + offsetMs)) / DAY_MS;
    assert.ok(Math.abs(value(before, 'xr_certificate_days_left', own) - expected) < 0.02);
    assert.ok(value(before, 'xr_certificate_days_left', anchor) > 0);
    offsetMs += 10 * DAY_MS;
    const later = await scrape();
    assert.ok(Math.abs(value(before, 'xr_certificate_days_left', own) - value(later, 'xr_certificate_days_left', own) - 10) < 0.02);
    assert.ok(Math.abs(value(before, 'xr_certificate_days_left', anchor) - value(later, 'xr_certificate_days_left', anchor) - 10) < 0.02);
    offsetMs -= 10 * DAY_MS;
  });

  it('shows the audit writer: records waiting and the last sequence number written', async function () {
    const before = await scrape();
    assert.equal((await rig.send({ ...SUBMIT, applyNo: '3205002026112790006' })).answer.status, 200);
    await rig.harness.gateway.operations.flushAudit();
    const after = await scrape();
    assert.ok(value(after, 'xr_audit_last_seq') > value(before, 'xr_audit_last_seq'));
    assert.equal(sampleValue(after, 'xr_audit_pending_records'), 0);
    assert.equal(sampleValue(after, 'xr_audit_write_errors_total'), 0);
    assert.equal(sampleValue(after, 'xr_log_lines_dropped_total'), 0);
  });
});

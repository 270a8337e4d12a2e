import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_TOKEN, AUDITOR_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { outboundMessage, queue, registerPartner, sendLocal, settled } from '../support/outbound.ts';
import { PartnerGateway } from '../support/partner-gateway.ts';

const SHANGHAI = '310000';
const SUZHOU = '320500';

/** A mapping that only knows application.status: any other message cannot be put in this format. */
const STATUS_ONLY_FORMAT = `
name: status-only
mediaType: application/json
charset: UTF-8
messages:
  application.status:
    request:
      fields:
        no: applyNo
        handle: handleNo
        state: status
        at: statusAt
        remark: remark
    response:
      fields:
        no: applyNo
        msg: message
`;

describe('the local listener (PROTOCOL §6): what Huzhou\'s own systems may queue for a partner', function () {
  let harness: TestGateway;
  let shanghai: PartnerGateway;
  let suzhou: PartnerGateway;

  before(async function () {
    harness = await startTestGateway();
    shanghai = await PartnerGateway.start({ region: SHANGHAI, format: 'sh-json', huzhouAdminUrl: harness.gateway.urls.admin });
    suzhou = await PartnerGateway.start({ region: SUZHOU, format: 'js-xml', huzhouAdminUrl: harness.gateway.urls.admin });
    await registerPartner(harness, shanghai);
    await registerPartner(harness, suzhou, { services: ['application.status'] });
    const format = await harness.admin('PUT', '/admin/v1/formats/status-only', STATUS_ONLY_FORMAT, 'application/yaml');
    assert.equal(format.status, 200, await format.text());
  });

  after(async function () {
    await harness.stop();
    await shanghai.stop();
    await suzhou.stop();
  });

  it('answers 202 {"id", "status": "queued"} with the message already stored, and its status document by id', async function () {
    const answer = await sendLocal(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', SHANGHAI));
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    assert.deepEqual(Object.keys(answer.body).sort(), ['id', 'status']);
    assert.equal(answer.body.status, 'queued');
    const id = String(answer.body.id);
    assert.equal(answer.headers.get('location'), `/local/v1/messages/${id}`);
    assert.ok(await harness.gateway.store.outboxGet(id), 'stored before the answer');
    await settled(harness.gateway, [id]);
    const status = await (await fetch(`${harness.gateway.urls.local}/local/v1/messages/${id}`, { headers: { authorization: `Bearer ${'test-local-token-0123456789'}` } })).json() as Record<string, unknown>;
    for (const member of ['id', 'status', 'target', 'messageType', 'attempts', 'lastError', 'receipt']) assert.ok(member in status, member);
    assert.equal(status.status, 'delivered');
  });

  it('queues a message once for a retried POST with the same Idempotency-Key, and refuses the key for another message', async function () {
    const body = outboundMessage('application.submit', SHANGHAI);
    const first = await sendLocal(harness.gateway.urls.local, 'application.submit', body, { headers: { 'idempotency-key': 'local-retry-1' } });
    const again = await sendLocal(harness.gateway.urls.local, 'application.submit', body, { headers: { 'x-xr-idempotency-key': 'local-retry-1' } });
    assert.equal(first.status, 202);
    assert.equal(again.status, 202);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    await settled(harness.gateway, [String(first.body.id)]);
    assert.equal(shanghai.accepted.filter((m) => m.canonical.applyNo === body.applyNo).length, 1);
    assert.equal(shanghai.requests.filter((r) => r.idempotencyKey === first.body.id).length, 1, 'sent once');

    const other = await sendLocal(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', SHANGHAI), { headers: { 'idempotency-key': 'local-retry-1' } });
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'XR_REPLAY');
  });

  describe('refuses, with a PROTOCOL §5 problem, storing nothing and sending nothing', function () {
    const submit = () => outboundMessage('application.submit', SHANGHAI);
    const cases: Array<{ name: string; code: string; status: number; send(local: string): ReturnType<typeof sendLocal> }> = [
      { name: 'no token', code: 'XR_UNAUTHENTICATED', status: 401, send: (local) => sendLocal(local, 'application.submit', submit(), { token: null }) },
      { name: 'a wrong token', code: 'XR_UNAUTHENTICATED', status: 401, send: (local) => sendLocal(local, 'application.submit', submit(), { token: 'not-the-local-token-000' }) },
      { name: 'the admin token (valid, without the local role)', code: 'XR_FORBIDDEN', status: 403, send: (local) => sendLocal(local, 'application.submit', submit(), { token: ADMIN_TOKEN }) },
      { name: 'the auditor token', code: 'XR_FORBIDDEN', status: 403, send: (local) => sendLocal(local, 'application.submit', submit(), { token: AUDITOR_TOKEN }) },
      { name: 'an identity number with a wrong check digit', code: 'XR_VALIDATION', status: 422, send: (local) => sendLocal(local, 'application.submit', { ...submit(), applicant: { ...(submit().applicant as object), idNumber: '310117198506150034' } }) },
      { name: 'a field the canonical form does not have', code: 'XR_VALIDATION', status: 422, send: (local) => sendLocal(local, 'application.submit', { ...submit(), extra: 'x' }) },
      { name: 'a body that is not JSON', code: 'XR_MALFORMED', status: 400, send: (local) => sendLocal(local, 'application.submit', '{"applyNo":') },
      { name: 'a body that is not application/json', code: 'XR_UNSUPPORTED_MEDIA', status: 415, send: (local) => sendLocal(local, 'application.submit', submit(), { contentType: 'text/plain' }) },
      { name: 'an unknown message type', code: 'XR_NOT_FOUND', status: 404, send: (local) => sendLocal(local, 'application.delete', submit()) },
      { name: 'a target region that is not a partner', code: 'XR_PARTNER_UNKNOWN', status: 403, send: (local) => sendLocal(local, 'application.submit', submit(), { headers: { 'x-xr-target-region': '340100' } }) },
      { name: 'a handleRegion no partner handles', code: 'XR_PARTNER_UNKNOWN', status: 403, send: (local) => sendLocal(local, 'application.submit', outboundMessage('application.submit', '340100')) },
      { name: 'a handleRegion in Huzhou itself', code: 'XR_BAD_REQUEST', status: 400, send: (local) => sendLocal(local, 'application.submit', outboundMessage('application.submit', '330502')) },
      { name: 'a target that is not a region code', code: 'XR_BAD_REQUEST', status: 400, send: (local) => sendLocal(local, 'application.submit', submit(), { headers: { 'x-xr-target-region': '31000' } }) },
      { name: 'no target for a message without handleRegion', code: 'XR_BAD_REQUEST', status: 400, send: (local) => sendLocal(local, 'application.status', outboundMessage('application.status', SHANGHAI)) },
      { name: 'a message type the partner does not take', code: 'XR_SERVICE_NOT_ALLOWED', status: 403, send: (local) => sendLocal(local, 'application.submit', outboundMessage('application.submit', SUZHOU)) },
      { name: 'an idempotency key with spaces', code: 'XR_BAD_REQUEST', status: 400, send: (local) => sendLocal(local, 'application.submit', submit(), { headers: { 'idempotency-key': 'a b' } }) },
      {
        name: 'a message the partner\'s format cannot carry', code: 'XR_TRANSLATION', status: 422, send: async (local) => {
          const put = await harness.admin('PUT', `/admin/v1/partners/${SUZHOU}`, { name: 'Suzhou', endpoint: suzhou.endpoint, format: 'status-only', services: ['application.submit', 'application.status'] });
          assert.equal(put.status, 200, await put.text());
          try {
            return await sendLocal(local, 'application.submit', outboundMessage('application.submit', SUZHOU));
          } finally {
            await registerPartner(harness, suzhou, { services: ['application.status'] });
          }
        },
      },
      {
        // A document from before the gateway checked formats at PUT may lack an optional field's line (here
        // licenceNo): a status update carrying a licence number would reach the partner without it.
        name: 'a message holding a field the partner\'s format has no place for', code: 'XR_TRANSLATION', status: 422, send: async (local) => {
          const shipped = readFileSync(path.resolve(import.meta.dirname, '../../adapters/formats/sh-json.yaml'), 'utf8');
          const edited = shipped.replace(/^ {8}zzbh: \{ canonical: licenceNo, optional: true \}.*\n/m, '');
          assert.notEqual(edited, shipped);
          const put = await harness.admin('PUT', '/admin/v1/formats/sh-json', edited, 'application/yaml');
          assert.equal(put.status, 200, await put.text());
          try {
            const status = { ...outboundMessage('application.status', SHANGHAI), licenceNo: 'JY23305020012345' };
            const answer = await sendLocal(local, 'application.status', status, { headers: { 'x-xr-target-region': SHANGHAI } });
            assert.match(String(answer.body.detail), /canonical licenceNo has no place in format sh-json/);
            return answer;
          } finally {
            assert.equal((await harness.admin('PUT', '/admin/v1/formats/sh-json', shipped, 'application/yaml')).status, 200);
          }
        },
      },
    ];

    for (const testCase of cases) {
      it(`${testCase.name} → ${testCase.status} ${testCase.code}`, async function () {
        const before = await harness.gateway.store.outboxCounts();
        const requests = shanghai.requests.length + suzhou.requests.length;
        const answer = await testCase.send(harness.gateway.urls.local);
        assert.equal(answer.status, testCase.status, JSON.stringify(answer.body));
        assert.equal(answer.headers.get('content-type'), 'application/problem+json');
        assert.equal(answer.body.code, testCase.code);
        assert.equal(answer.body.type, `urn:xr:error:${testCase.code}`);
        if (testCase.status === 401) assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer\b/, 'a 401 carries its challenge');
        assert.deepEqual(await harness.gateway.store.outboxCounts(), before, 'nothing stored');
        assert.equal(shanghai.requests.length + suzhou.requests.length, requests, 'nothing sent');
      });
    }
  });

  it('answers 404 XR_NOT_FOUND for the status of an unknown id, and 401 without the token', async function () {
    const unknown = await fetch(`${harness.gateway.urls.local}/local/v1/messages/no-such-id`, { headers: { authorization: 'Bearer test-local-token-0123456789' } });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json() as { code: string }).code, 'XR_NOT_FOUND');
    const id = await queue(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', SHANGHAI));
    const anonymous = await fetch(`${harness.gateway.urls.local}/local/v1/messages/${id}`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="xr"');
    await settled(harness.gateway, [id]);
  });
});

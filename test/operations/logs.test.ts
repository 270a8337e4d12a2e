import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../gateway/log.ts';
import { ADMIN_TOKEN, AUDITOR_TOKEN, LOCAL_TOKEN } from '../support/gateway.ts';
import { outboundMessage, queue, settled } from '../support/outbound.ts';
import { postSigned } from '../support/partner-client.ts';
import { INBOUND_PARTNER, OUTBOUND_PARTNER, SUBMIT, startOperationsRig, type OperationsRig } from './rig.ts';

type LogLine = Record<string, unknown> & { msg: string };

describe('structured logs: JSON lines carrying the message or request id, and nothing personal or secret', function () {
  this.timeout(60_000);
  let rig: OperationsRig;
  const lines: LogLine[] = [];
  let text = '';

  before(async function () {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString('utf8');
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    rig = await startOperationsRig({ XR_LOG_LEVEL: 'info' }, { log: createLogger('info', sink) });
  });

  after(async function () {
    await rig.stop();
  });

  const linesOf = (requestId: string | null) => lines.filter((line) => line.requestId === requestId);

  it('puts the message id (jti) and the request id on every line of a partner message', async function () {
    const sent = await rig.send({ ...SUBMIT, applyNo: '3205002026112780001' });
    assert.equal(sent.answer.status, 200);
    const requestId = sent.answer.headers.get('x-request-id');
    const own = linesOf(requestId);
    assert.ok(own.some((line) => line.msg === 'message forwarded and answered'));
    for (const line of own) assert.deepEqual([line.jti, line.iss], [sent.header.jti, INBOUND_PARTNER], line.msg);
  });

  it('still carries the request id when the signature header cannot even be parsed', async function () {
    const answer = await postSigned(rig.harness.gateway.urls.partner, 'application.submit', Buffer.from('{}'), 'application/json', 'garbage');
    assert.equal(answer.status, 400);
    const own = linesOf(answer.headers.get('x-request-id'));
    assert.deepEqual(own.map((line) => [line.msg, line.code]), [['message refused', 'XR_MALFORMED']]);
  });

  it('carries the request id on admin and local lines, and the message id on delivery lines', async function () {
    const put = await rig.harness.admin('PUT', `/admin/v1/partners/${INBOUND_PARTNER}`, {
      name: 'partner 320500', endpoint: 'http://127.0.0.1:9', format: 'hz-json', services: ['application.submit', 'application.status'],
    });
    assert.equal(put.status, 200);
    assert.ok(linesOf(put.headers.get('x-request-id')).some((line) => line.msg === 'partner registered'));

    const response = await fetch(`${rig.harness.gateway.urls.local}/local/v1/messages/application.submit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LOCAL_TOKEN}`, 'content-type': 'application/json', 'x-request-id': 'hz-case-system-42' },
      body: JSON.stringify(outboundMessage('application.submit', OUTBOUND_PARTNER)),
    });
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('x-request-id'), 'hz-case-system-42', 'a caller\'s own request id is kept');
    const { id } = await response.json() as { id: string };
    assert.ok(linesOf('hz-case-system-42').some((line) => line.msg === 'local message queued' && line.id === id));
    await settled(rig.harness.gateway, [id]);
    assert.ok(lines.some((line) => line.msg === 'message delivered' && line.id === id));
  });

  it('never writes a token, an applicant\'s name or identity number, or a body', async function () {
    await queue(rig.harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', OUTBOUND_PARTNER));
    await fetch(`${rig.harness.gateway.urls.admin}/admin/v1/partners`, { headers: { authorization: `Bearer ${AUDITOR_TOKEN}` } });
    assert.ok(lines.length > 5);
    for (const secret of [ADMIN_TOKEN, AUDITOR_TOKEN, LOCAL_TOKEN, SUBMIT.applicant.name, SUBMIT.applicant.idNumber, SUBMIT.applicant.mobile, 'PRIVATE KEY']) {
      assert.ok(!text.includes(secret), `${secret} must not be logged`);
    }
  });
});

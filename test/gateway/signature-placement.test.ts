import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SignaturePlacement } from '../../certs/signature.ts';
import { SimulatedBackend } from '../support/backend.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { capturingLogger } from '../support/keys.ts';
import { outboundMessage, queue, registerPartner, settled, statusOf } from '../support/outbound.ts';
import { postSigned, requestHeader, signRaw, verifyAnswer } from '../support/partner-client.ts';
import { PartnerGateway } from '../support/partner-gateway.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';

const INBOUND_PARTNER = '320500';
const OUTBOUND_PARTNER = '310000';
const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');
const STATUS = JSON.parse(readFileSync(path.join(FIXTURES, 'js-xml/application.status.request.canonical.json'), 'utf8')) as Record<string, unknown>;

/** The gateway-ready log line of a gateway started with these settings, read from its own log. */
async function readyLine(env: Record<string, string>): Promise<Record<string, unknown>> {
  const { log, lines } = capturingLogger();
  const harness = await startTestGateway(env, { log });
  await harness.stop();
  const ready = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'gateway ready');
  assert.ok(ready, 'the gateway logs that it is ready');
  return ready;
}

describe('signatures inline or on the thread pool (certs/signature.ts): the same exchanges either way', function () {
  it('places them by XR_WORKERS against the cores, deliveries (made by one worker) as for one, and says so in its ready line', async function () {
    const cores = os.availableParallelism();
    const alone = cores > 1 ? 'pool' : 'inline';
    assert.deepEqual((await readyLine({ XR_WORKERS: String(cores) })).signatures, { requests: 'inline', deliveries: alone });
    assert.deepEqual((await readyLine({ XR_WORKERS: '1' })).signatures, { requests: alone, deliveries: alone });
  });

  for (const placement of ['inline', 'pool'] as const satisfies readonly SignaturePlacement[]) {
    describe(`with signatures ${placement === 'inline' ? 'inline' : 'on the pool'}`, function () {
      let backend: SimulatedBackend;
      let harness: TestGateway;
      let sender: PartnerPki;
      let receiver: PartnerGateway;
      let huzhouLeafPem: string;

      before(async function () {
        backend = await SimulatedBackend.start();
        harness = await startTestGateway({ XR_LOCAL_BACKEND_URL: backend.url }, { signatures: placement });
        sender = await makePartnerPki(INBOUND_PARTNER);
        const put = await harness.admin('PUT', `/admin/v1/partners/${INBOUND_PARTNER}`, {
          name: 'Suzhou', endpoint: 'http://127.0.0.1:9', format: 'hz-json', services: ['application.status'],
        });
        assert.equal(put.status, 200, await put.text());
        assert.equal((await harness.admin('POST', `/admin/v1/partners/${INBOUND_PARTNER}/trust`, sender.caPem)).status, 201);
        receiver = await PartnerGateway.start({ region: OUTBOUND_PARTNER, format: 'sh-json', huzhouAdminUrl: harness.gateway.urls.admin });
        await registerPartner(harness, receiver);
        const identity = await (await fetch(`${harness.gateway.urls.admin}/admin/v1/identity`)).json() as { chain: string[] };
        huzhouLeafPem = identity.chain[0]!;
      });

      after(async function () {
        await harness.stop();
        await receiver.stop();
        await backend.stop();
      });

      function signedStatus(tamper = false) {
        const raw = Buffer.from(JSON.stringify(STATUS), 'utf8');
        const header = requestHeader(sender.signer, { iss: INBOUND_PARTNER, messageType: 'application.status' });
        const signature = signRaw(header, raw, sender.signer.privateKey, String(header.alg));
        const sent = tamper ? Buffer.from(JSON.stringify({ ...STATUS, applyNo: `${String(STATUS.applyNo)}9` }), 'utf8') : raw;
        return { header, answer: postSigned(harness.gateway.urls.partner, 'application.status', sent, 'application/json', signature) };
      }

      it('verifies a partner message, forwards it, and signs the answer the partner verifies', async function () {
        const before = backend.calls.length;
        const { header, answer } = signedStatus();
        const answered = await answer;
        assert.equal(answered.status, 200, answered.body.toString());
        assert.equal(backend.calls.length, before + 1);
        await verifyAnswer(answered, huzhouLeafPem, INBOUND_PARTNER, String(header.jti));
      });

      it('refuses a body that is not the one signed, signed XR_SIGNATURE_INVALID, without forwarding', async function () {
        const before = backend.calls.length;
        const { header, answer } = signedStatus(true);
        const answered = await answer;
        assert.equal(answered.status, 401);
        assert.equal(answered.json().code, 'XR_SIGNATURE_INVALID');
        assert.equal(backend.calls.length, before);
        await verifyAnswer(answered, huzhouLeafPem, INBOUND_PARTNER, String(header.jti));
      });

      it('signs a local message for the partner and accepts only its verified answer', async function () {
        const id = await queue(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', OUTBOUND_PARTNER), { 'x-xr-target-region': OUTBOUND_PARTNER });
        await settled(harness.gateway, [id]);
        assert.ok(receiver.messages.get(id), 'the partner verified and kept the message');
        assert.ok(receiver.requests.every((request) => request.refusal === undefined));
        const status = await statusOf(harness.gateway.urls.local, id);
        assert.equal(status.status, 'delivered');
        assert.equal((status.receipt as { verified: boolean }).verified, true);
      });
    });
  }
});

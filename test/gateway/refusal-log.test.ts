import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../gateway/log.ts';
import { SimulatedBackend, defaultReply } from '../support/backend.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';
import { postSigned, requestHeader, signRaw } from '../support/partner-client.ts';

const PARTNER = '320500';
const ID_NUMBER = '310117198506150033';
const SUBMIT = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../shared/fixtures/js-xml/application.submit.request.canonical.json'), 'utf8')) as Record<string, unknown>;

/**
 * The partner listener's `message refused` line: the partner gets the whole detail, the log does not hold
 * the backend's explanation (its own words, which may name the applicant), and long numbers in the gateway's
 * own details — an unknown key the partner sent, say — are withheld.
 */
describe('partner inbound: what the log says of a refusal', function () {
  let backend: SimulatedBackend;
  let harness: TestGateway;
  let partner: PartnerPki;
  const lines: string[] = [];

  before(async function () {
    backend = await SimulatedBackend.start();
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)); done(); } });
    harness = await startTestGateway({ XR_LOCAL_BACKEND_URL: backend.url }, { log: createLogger('info', sink) });
    partner = await makePartnerPki(PARTNER);
    assert.equal((await harness.admin('PUT', `/admin/v1/partners/${PARTNER}`, { name: 'p', endpoint: 'http://127.0.0.1:9', format: 'hz-json', services: ['application.submit'] })).status, 200);
    assert.equal((await harness.admin('POST', `/admin/v1/partners/${PARTNER}/trust`, partner.caPem)).status, 201);
  });

  after(async function () {
    await harness.stop();
    await backend.stop();
  });

  async function refusal(body: unknown): Promise<{ answer: { code: string; detail: string }; logged: { code: string; detail?: string } }> {
    const raw = Buffer.from(JSON.stringify(body), 'utf8');
    const header = requestHeader(partner.signer, { iss: PARTNER, messageType: 'application.submit' });
    const answer = await postSigned(harness.gateway.urls.partner, 'application.submit', raw, 'application/json', signRaw(header, raw, partner.signer.privateKey, 'ES256'));
    // The sink is written as each line is logged (no gathering): the line precedes the answer it logs.
    const logged = lines.map((line) => JSON.parse(line) as { msg: string; code: string; detail?: string }).filter((line) => line.msg === 'message refused').at(-1)!;
    return { answer: answer.json() as { code: string; detail: string }, logged };
  }

  it('leaves the backend\'s explanation out of the log', async function () {
    backend.behaviour = () => ({ status: 422, body: { detail: `申请人李明(${ID_NUMBER})信息不符` } });
    try {
      const { answer, logged } = await refusal({ ...SUBMIT, applyNo: '3205002026112900011' });
      assert.equal(answer.code, 'XR_REFUSED_BY_BACKEND');
      assert.match(answer.detail, /李明/);
      assert.equal(logged.code, 'XR_REFUSED_BY_BACKEND');
      assert.equal(logged.detail, undefined);
    } finally {
      backend.behaviour = defaultReply;
    }
  });

  it('withholds a long number from a detail that names what the partner sent', async function () {
    const { answer, logged } = await refusal({ ...SUBMIT, applyNo: '3205002026112900012', [`x${ID_NUMBER}`]: '1' });
    assert.equal(answer.code, 'XR_VALIDATION');
    assert.ok(answer.detail.includes(ID_NUMBER), answer.detail);
    assert.equal(logged.code, 'XR_VALIDATION');
    assert.equal(logged.detail, answer.detail.replace(ID_NUMBER, '[number withheld]'));
    for (const line of lines) assert.ok(!line.includes(ID_NUMBER) && !line.includes('李明'), line);
  });
});

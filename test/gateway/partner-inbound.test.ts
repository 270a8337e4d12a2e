import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Signer } from '../../certs/jws.ts';
import { SimulatedBackend, defaultReply } from '../support/backend.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';
import { postSigned, requestHeader, signRaw, verifyAnswer, type HeaderMembers, type SentMessage } from '../support/partner-client.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');
const PARTNER = '320500';
const OTHER_PARTNER = '330100';

function canonical(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

const SUBMIT = canonical('js-xml/application.submit.request.canonical.json');
const STATUS = canonical('js-xml/application.status.request.canonical.json');
const LICENCE_VERIFY = {
  verifyNo: '3205002026112700099', licenceNo: 'JY23305020012345',
  holder: { idType: '111', idNumber: '310117198506150033', name: '李明' }, requestedAt: '2026-11-27T10:00:00+08:00',
};
const EVALUATION = { applyNo: '3205002026112700003', score: 5, comment: '办事快，服务好', evaluatedAt: '2026-11-29T10:00:00+08:00' };

describe('partner inbound (PROTOCOL §2–§5): a signed message from a partner city', function () {
  let backend: SimulatedBackend;
  let harness: TestGateway;
  let partner: PartnerPki;
  let otherRegion: PartnerPki;
  let huzhouLeafPem: string;

  before(async function () {
    backend = await SimulatedBackend.start();
    harness = await startTestGateway({ XR_LOCAL_BACKEND_URL: backend.url, XR_MAX_BODY_BYTES: String(64 * 1024), XR_BACKEND_TIMEOUT_MS: '500' });
    partner = await makePartnerPki(PARTNER);
    otherRegion = await makePartnerPki(OTHER_PARTNER);
    for (const [pki, services] of [[partner, ['application.submit', 'application.status', 'licence.verify', 'evaluation.submit']], [otherRegion, ['application.submit']]] as const) {
      const put = await harness.admin('PUT', `/admin/v1/partners/${pki.region}`, { name: `partner ${pki.region}`, endpoint: 'http://127.0.0.1:9', format: 'hz-json', services });
      assert.equal(put.status, 200, await put.text());
      const trust = await harness.admin('POST', `/admin/v1/partners/${pki.region}/trust`, pki.caPem);
      assert.equal(trust.status, 201, await trust.text());
    }
    const identity = await (await fetch(`${harness.gateway.urls.admin}/admin/v1/identity`)).json() as { chain: string[] };
    huzhouLeafPem = identity.chain[0]!;
  });

  after(async function () {
    await harness.stop();
    await backend.stop();
  });

  function send(body: unknown, options: { signer?: Signer; messageType?: string; header?: (h: HeaderMembers) => HeaderMembers; tamperBody?: (b: Buffer) => Buffer; contentType?: string; path?: string; iss?: string } = {}) {
    const signer = options.signer ?? partner.signer;
    const messageType = options.messageType ?? 'application.submit';
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body), 'utf8');
    const header = (options.header ?? ((h) => h))(requestHeader(signer, { iss: options.iss ?? PARTNER, messageType }));
    const signature = signRaw(header, raw, signer.privateKey, String(header.alg));
    const sent = (options.tamperBody ?? ((b) => b))(raw);
    return { header, result: postSigned(harness.gateway.urls.partner, messageType, sent, options.contentType ?? 'application/json', signature, options.path) };
  }

  it('reaches the backend in canonical form and the partner verifies the signed answer with the published certificate', async function () {
    const before = backend.calls.length;
    const { header, result } = send(SUBMIT);
    const answer = await result;
    assert.equal(answer.status, 200, answer.body.toString());
    assert.equal(backend.calls.length, before + 1);
    const call = backend.calls.at(-1)!;
    assert.equal(call.messageType, 'application.submit');
    assert.deepEqual(call.body, SUBMIT);
    assert.equal(call.headers['x-xr-source-region'], PARTNER);
    assert.equal(call.headers['x-xr-message-id'], header.jti);
    assert.equal(answer.json().status, 'RECEIVED');
    await verifyAnswer(answer, huzhouLeafPem, PARTNER, String(header.jti));
  });

  for (const [messageType, body, status] of [
    ['application.status', STATUS, 200],
    ['licence.verify', LICENCE_VERIFY, 200],
    ['evaluation.submit', EVALUATION, 202],
  ] as const) {
    it(`carries ${messageType} through and answers with the backend's status ${status}`, async function () {
      const { header, result } = send(body, { messageType });
      const answer = await result;
      assert.equal(answer.status, status, answer.body.toString());
      assert.deepEqual(backend.calls.at(-1)!.body, body);
      await verifyAnswer(answer, huzhouLeafPem, PARTNER, String(header.jti));
    });
  }

  it('accepts every allowed algorithm: ES256, PS256, RS256 and EdDSA', async function () {
    for (const alg of ['ES256', 'PS256', 'RS256', 'EdDSA'] as const) {
      const { signer } = await partner.issueLeaf({ alg });
      const answer = await send({ ...STATUS, applyNo: `32050020261127${alg}` }, { signer, messageType: 'application.status' }).result;
      assert.equal(answer.status, 200, `${alg}: ${answer.body.toString()}`);
    }
  });

  it('accepts a signer certificate sent in x5c and not registered, when it chains to the region\'s CA', async function () {
    const { signer } = await partner.issueLeaf({});
    const answer = await send(STATUS, { signer, messageType: 'application.status', header: (h) => ({ ...h, x5c: signer.chain.map((c) => c.raw.toString('base64')) }) }).result;
    assert.equal(answer.status, 200, answer.body.toString());
  });

  describe('refuses, answering a signed problem with its own code, and changes nothing', function () {
    interface RefusalCase {
      name: string;
      code: string;
      status: number;
      send(): Promise<SentMessage> | { result: Promise<SentMessage> };
    }

    const cases: RefusalCase[] = [
      { name: 'no signature header', code: 'XR_SIGNATURE_MISSING', status: 401, send: () => postSigned(harness.gateway.urls.partner, 'application.submit', Buffer.from(JSON.stringify(SUBMIT)), 'application/json', undefined) },
      { name: 'a signature header that is not a detached JWS', code: 'XR_MALFORMED', status: 400, send: () => postSigned(harness.gateway.urls.partner, 'application.submit', Buffer.from(JSON.stringify(SUBMIT)), 'application/json', 'not-a-jws') },
      { name: 'a tampered body', code: 'XR_SIGNATURE_INVALID', status: 401, send: () => send(SUBMIT, { tamperBody: (b) => Buffer.from(b.toString().replace('"area":"35.5"', '"area":"95.5"')) }) },
      {
        name: 'a tampered protected header', code: 'XR_SIGNATURE_INVALID', status: 401, send: () => {
          const raw = Buffer.from(JSON.stringify(SUBMIT));
          const header = requestHeader(partner.signer, { iss: PARTNER, messageType: 'application.submit' });
          const [, , sig] = signRaw(header, raw, partner.signer.privateKey, 'ES256').split('.');
          const forged = Buffer.from(JSON.stringify({ ...header, jti: randomUUID() })).toString('base64url');
          return postSigned(harness.gateway.urls.partner, 'application.submit', raw, 'application/json', `${forged}..${sig}`);
        },
      },
      { name: 'a kid that names no registered or sent certificate', code: 'XR_CERT_UNTRUSTED', status: 401, send: () => send(SUBMIT, { header: (h) => ({ ...h, kid: 'A'.repeat(43) }) }) },
      { name: 'a certificate issued by another region\'s CA', code: 'XR_CERT_UNTRUSTED', status: 401, send: () => send(SUBMIT, { signer: otherRegion.signer, header: (h) => ({ ...h, x5c: otherRegion.signer.chain.map((c) => c.raw.toString('base64')) }) }) },
      { name: 'an expired certificate', code: 'XR_CERT_EXPIRED', status: 401, send: async () => { const { signer: s } = await partner.issueLeaf({ notBefore: new Date(Date.now() - 3 * 86400e3), notAfter: new Date(Date.now() - 86400e3) }); return send(SUBMIT, { signer: s, header: (h) => ({ ...h, x5c: s.chain.map((c) => c.raw.toString('base64')) }) }).result; } },
      { name: 'a certificate not yet valid', code: 'XR_CERT_EXPIRED', status: 401, send: async () => { const { signer: s } = await partner.issueLeaf({ notBefore: new Date(Date.now() + 86400e3), notAfter: new Date(Date.now() + 3 * 86400e3) }); return send(SUBMIT, { signer: s, header: (h) => ({ ...h, x5c: s.chain.map((c) => c.raw.toString('base64')) }) }).result; } },
      {
        name: 'a revoked certificate', code: 'XR_CERT_REVOKED', status: 401, send: async () => {
          const { signer: s } = await partner.issueLeaf({});
          const revoked = await harness.admin('POST', `/admin/v1/partners/${PARTNER}/revocations`, { kid: s.kid });
          assert.equal(revoked.status, 201);
          return send(SUBMIT, { signer: s, header: (h) => ({ ...h, x5c: s.chain.map((c) => c.raw.toString('base64')) }) }).result;
        },
      },
      { name: 'alg none', code: 'XR_ALG_NOT_ALLOWED', status: 401, send: () => postSigned(harness.gateway.urls.partner, 'application.submit', Buffer.from(JSON.stringify(SUBMIT)), 'application/json', `${Buffer.from(JSON.stringify({ ...requestHeader(partner.signer, { iss: PARTNER, messageType: 'application.submit' }), alg: 'none' })).toString('base64url')}..`) },
      {
        name: 'alg HS256', code: 'XR_ALG_NOT_ALLOWED', status: 401, send: () => {
          const header = { ...requestHeader(partner.signer, { iss: PARTNER, messageType: 'application.submit' }), alg: 'HS256' };
          return postSigned(harness.gateway.urls.partner, 'application.submit', Buffer.from(JSON.stringify(SUBMIT)), 'application/json', `${Buffer.from(JSON.stringify(header)).toString('base64url')}..${Buffer.alloc(32).toString('base64url')}`);
        },
      },
      { name: 'b64 missing', code: 'XR_MALFORMED', status: 400, send: () => send(SUBMIT, { header: ({ b64: _b64, ...h }) => h }) },
      { name: 'crit missing', code: 'XR_MALFORMED', status: 400, send: () => send(SUBMIT, { header: ({ crit: _crit, ...h }) => h }) },
      { name: 'a wrong typ', code: 'XR_MALFORMED', status: 400, send: () => send(SUBMIT, { header: (h) => ({ ...h, typ: 'JWT' }) }) },
      { name: 'a wrong aud', code: 'XR_AUDIENCE', status: 401, send: () => send(SUBMIT, { header: (h) => ({ ...h, aud: '330100' }) }) },
      { name: 'iat too old', code: 'XR_CLOCK_SKEW', status: 401, send: () => send(SUBMIT, { header: (h) => ({ ...h, iat: Math.floor(Date.now() / 1000) - 301 }) }) },
      { name: 'iat too new', code: 'XR_CLOCK_SKEW', status: 401, send: () => send(SUBMIT, { header: (h) => ({ ...h, iat: Math.floor(Date.now() / 1000) + 301 }) }) },
      { name: 'an htu for another path', code: 'XR_BINDING', status: 401, send: () => send(SUBMIT, { header: (h) => ({ ...h, htu: '/xr/v1/messages/application.status' }) }) },
      { name: 'an htm other than POST', code: 'XR_BINDING', status: 401, send: () => send(SUBMIT, { header: (h) => ({ ...h, htm: 'PUT' }) }) },
      { name: 'an unknown partner', code: 'XR_PARTNER_UNKNOWN', status: 403, send: () => send(SUBMIT, { iss: '340100' }) },
      { name: 'a message type the partner may not send', code: 'XR_SERVICE_NOT_ALLOWED', status: 403, send: () => send(STATUS, { signer: otherRegion.signer, iss: OTHER_PARTNER, messageType: 'application.status' }) },
      { name: 'a body over the size limit', code: 'XR_TOO_LARGE', status: 413, send: () => send({ ...SUBMIT, form: { big: 'x'.repeat(70 * 1024) } }) },
      { name: 'a media type that is neither JSON nor XML', code: 'XR_UNSUPPORTED_MEDIA', status: 415, send: () => send(SUBMIT, { contentType: 'text/plain' }) },
      { name: 'XML from a partner whose format is JSON', code: 'XR_UNSUPPORTED_MEDIA', status: 415, send: () => send(Buffer.from('<a/>'), { contentType: 'application/xml' }) },
      { name: 'an identity number with a wrong check digit', code: 'XR_VALIDATION', status: 422, send: () => send({ ...SUBMIT, applicant: { ...(SUBMIT.applicant as object), type: 'PERSON', idType: '111', idNumber: '310117198506150034' } }) },
      { name: 'a body that is not JSON', code: 'XR_MALFORMED', status: 400, send: () => send(Buffer.from('{"applyNo":')) },
    ];

    for (const testCase of cases) {
      it(`${testCase.name} → ${testCase.code} ${testCase.status}`, async function () {
        const callsBefore = backend.calls.length;
        const replayBefore = await harness.gateway.store.replayCount();
        const sent = testCase.send();
        const answer = await ('result' in sent ? sent.result : sent);
        assert.equal(answer.status, testCase.status, answer.body.toString());
        assert.equal(answer.headers.get('content-type'), 'application/problem+json');
        const problem = answer.json();
        assert.equal(problem.code, testCase.code);
        assert.equal(problem.type, `urn:xr:error:${testCase.code}`);
        assert.equal(problem.status, testCase.status);
        assert.equal(typeof problem.detail, 'string');
        assert.ok(answer.headers.get('x-xr-signature'), 'the refusal is signed');
        assert.equal(backend.calls.length, callsBefore, 'the backend was not called');
        assert.equal(await harness.gateway.store.replayCount(), replayBefore, 'the replay cache is unchanged');
      });
    }
  });

  it('refuses a replay, also after a restart, without calling the backend again', async function () {
    const raw = Buffer.from(JSON.stringify(STATUS));
    const header = requestHeader(partner.signer, { iss: PARTNER, messageType: 'application.status' });
    const signature = signRaw(header, raw, partner.signer.privateKey, 'ES256');
    const first = await postSigned(harness.gateway.urls.partner, 'application.status', raw, 'application/json', signature);
    assert.equal(first.status, 200);
    const calls = backend.calls.length;
    const again = await postSigned(harness.gateway.urls.partner, 'application.status', raw, 'application/json', signature);
    assert.equal(again.status, 409);
    assert.equal(again.json().code, 'XR_REPLAY');
    assert.equal(again.json().jti, header.jti);
    await harness.restart();
    const afterRestart = await postSigned(harness.gateway.urls.partner, 'application.status', raw, 'application/json', signature);
    assert.equal(afterRestart.status, 409);
    assert.equal(afterRestart.json().code, 'XR_REPLAY');
    assert.equal(backend.calls.length, calls);
  });

  describe('the replay check claims (iss, jti); a refusal after it gives the claim back', function () {
    function signedOnce(body: Buffer, messageType: string, signer = partner.signer, iss = PARTNER) {
      const header = requestHeader(signer, { iss, messageType });
      const signature = signRaw(header, body, signer.privateKey, 'ES256');
      return { header, post: () => postSigned(harness.gateway.urls.partner, messageType, body, 'application/json', signature) };
    }

    it('refuses the same message again with its own refusal, not XR_REPLAY: the refused message left no claim', async function () {
      const body = Buffer.from(JSON.stringify({ ...SUBMIT, applicant: { ...(SUBMIT.applicant as object), type: 'PERSON', idType: '111', idNumber: '310117198506150034' } }));
      const message = signedOnce(body, 'application.submit');
      const replayBefore = await harness.gateway.store.replayCount();
      for (let i = 0; i < 2; i += 1) {
        const answer = await message.post();
        assert.equal(answer.json().code, 'XR_VALIDATION', answer.body.toString());
        assert.equal(await harness.gateway.store.replayCount(), replayBefore);
      }
      const refused = signedOnce(Buffer.from(JSON.stringify(STATUS)), 'application.status', otherRegion.signer, OTHER_PARTNER);
      for (let i = 0; i < 2; i += 1) assert.equal((await refused.post()).json().code, 'XR_SERVICE_NOT_ALLOWED');
      assert.equal(await harness.gateway.store.replayCount(), replayBefore);
    });

    it('refuses a replay as XR_REPLAY even when a later check would refuse it too (the replay check comes first)', async function () {
      const message = signedOnce(Buffer.from(JSON.stringify(STATUS)), 'application.status');
      assert.equal((await message.post()).status, 200);
      const calls = backend.calls.length;
      const replayCount = await harness.gateway.store.replayCount();
      // Since the first copy, the partner lost the service: §2 still refuses the copy as a replay first.
      const put = await harness.admin('PUT', `/admin/v1/partners/${PARTNER}`, { name: `partner ${PARTNER}`, endpoint: 'http://127.0.0.1:9', format: 'hz-json', services: ['application.submit'] });
      assert.equal(put.status, 200);
      try {
        const again = await message.post();
        assert.equal(again.status, 409);
        assert.equal(again.json().code, 'XR_REPLAY');
        assert.equal(backend.calls.length, calls);
        assert.equal(await harness.gateway.store.replayCount(), replayCount, 'the first claim stays; nothing added');
      } finally {
        await harness.admin('PUT', `/admin/v1/partners/${PARTNER}`, { name: `partner ${PARTNER}`, endpoint: 'http://127.0.0.1:9', format: 'hz-json', services: ['application.submit', 'application.status', 'licence.verify', 'evaluation.submit'] });
      }
    });

    it('lets exactly one of many simultaneous copies through', async function () {
      const calls = backend.calls.length;
      const message = signedOnce(Buffer.from(JSON.stringify(STATUS)), 'application.status');
      const answers = await Promise.all(Array.from({ length: 10 }, () => message.post()));
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, ...Array(9).fill(409)]);
      assert.equal(backend.calls.length, calls + 1);
    });
  });

  describe('a partner that retries with X-XR-Idempotency-Key', function () {
    async function sendWithKey(body: unknown, key: string) {
      const raw = Buffer.from(JSON.stringify(body));
      const header = requestHeader(partner.signer, { iss: PARTNER, messageType: 'application.status' });
      const response = await fetch(`${harness.gateway.urls.partner}/xr/v1/messages/application.status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-xr-signature': signRaw(header, raw, partner.signer.privateKey, 'ES256'), 'x-xr-idempotency-key': key },
        body: new Uint8Array(raw),
      });
      const answerBody = Buffer.from(await response.arrayBuffer());
      return { header, answer: { status: response.status, headers: response.headers, body: answerBody, json: () => JSON.parse(answerBody.toString()) as Record<string, unknown> } };
    }

    afterEach(function () {
      backend.behaviour = defaultReply;
    });

    it('gets the first answer again, freshly signed for the retry, and the backend sees the message once', async function () {
      const key = randomUUID();
      const calls = backend.calls.length;
      const first = await sendWithKey(STATUS, key);
      const retry = await sendWithKey(STATUS, key);
      assert.equal(first.answer.status, 200);
      assert.equal(retry.answer.status, 200);
      assert.deepEqual(retry.answer.body, first.answer.body);
      assert.equal(backend.calls.length, calls + 1);
      await verifyAnswer(retry.answer, huzhouLeafPem, PARTNER, String(retry.header.jti));
    });

    it('refuses the same key with a different body, without forwarding', async function () {
      const key = randomUUID();
      await sendWithKey(STATUS, key);
      const calls = backend.calls.length;
      const replayBefore = await harness.gateway.store.replayCount();
      const other = await sendWithKey({ ...STATUS, remark: '另一条' }, key);
      assert.equal(other.answer.status, 400);
      assert.equal(other.answer.json().code, 'XR_BAD_REQUEST');
      assert.equal(backend.calls.length, calls);
      assert.equal(await harness.gateway.store.replayCount(), replayBefore);
    });

    it('forwards a retry again when the first attempt got no answer from the backend', async function () {
      const key = randomUUID();
      backend.behaviour = () => ({ status: 503, body: { detail: 'busy' } });
      const first = await sendWithKey(STATUS, key);
      assert.equal(first.answer.status, 502);
      backend.behaviour = defaultReply;
      const calls = backend.calls.length;
      const retry = await sendWithKey(STATUS, key);
      assert.equal(retry.answer.status, 200);
      assert.equal(backend.calls.length, calls + 1);
    });

    it('keeps the first answer across a restart', async function () {
      const key = randomUUID();
      const first = await sendWithKey(STATUS, key);
      await harness.restart();
      const calls = backend.calls.length;
      const retry = await sendWithKey(STATUS, key);
      assert.deepEqual(retry.answer.body, first.answer.body);
      assert.equal(backend.calls.length, calls);
    });
  });

  it('signs refusals so that the partner can verify them, answering its jti', async function () {
    const { header, result } = send(SUBMIT, { header: (h) => ({ ...h, aud: '330100' }) });
    const answer = await result;
    await verifyAnswer(answer, huzhouLeafPem, PARTNER, String(header.jti));
  });

  describe('when the backend does not accept the message', function () {
    afterEach(function () {
      backend.behaviour = defaultReply;
    });

    it('passes a backend 4xx back as XR_REFUSED_BY_BACKEND with the backend\'s status and explanation', async function () {
      backend.behaviour = () => ({ status: 409, body: { detail: '该办件已存在' } });
      const answer = await send({ ...STATUS, applyNo: '3205002026112799001' }, { messageType: 'application.status' }).result;
      assert.equal(answer.status, 409);
      assert.equal(answer.json().code, 'XR_REFUSED_BY_BACKEND');
      assert.equal(answer.json().detail, '该办件已存在');
    });

    it('answers XR_UPSTREAM 502 when the backend fails with a 5xx', async function () {
      backend.behaviour = () => ({ status: 500, body: { detail: 'database down' } });
      const answer = await send(STATUS, { messageType: 'application.status' }).result;
      assert.equal(answer.status, 502);
      assert.equal(answer.json().code, 'XR_UPSTREAM');
    });

    it('answers XR_UPSTREAM_TIMEOUT 504 when the backend does not answer in time', async function () {
      backend.behaviour = () => ({ status: 200, body: {}, hang: true });
      const answer = await send(STATUS, { messageType: 'application.status' }).result;
      assert.equal(answer.status, 504);
      assert.equal(answer.json().code, 'XR_UPSTREAM_TIMEOUT');
    });

    it('answers XR_UPSTREAM when the backend\'s answer is not a valid canonical answer', async function () {
      backend.behaviour = () => ({ status: 200, body: { applyNo: 42 } });
      const answer = await send(STATUS, { messageType: 'application.status' }).result;
      assert.equal(answer.status, 502);
      assert.equal(answer.json().code, 'XR_UPSTREAM');
    });
  });
});

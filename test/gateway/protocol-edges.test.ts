/**
 * PROTOCOL §2, §3 and §5 at their edges, with the gateway's clock in the test's hands: the replay window at
 * its last second, the skew check to the millisecond, htm compared exactly, a path that does not decode, a
 * refused header whose sender can still be read, and an XML body's charset as its Content-Type labels it.
 * Every refusal is checked for its answer and for what it leaves: no forward to the backend.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import iconv from 'iconv-lite';
import { asXrError } from '../../gateway/http/problem.ts';
import { SimulatedBackend } from '../support/backend.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';
import { postSigned, requestHeader, signRaw, verifyAnswer, type HeaderMembers } from '../support/partner-client.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');
const JSON_PARTNER = '320500';
const XML_PARTNER = '330100';
const STATUS = JSON.parse(readFileSync(path.join(FIXTURES, 'js-xml/application.status.request.canonical.json'), 'utf8')) as Record<string, unknown>;
const ZJ_STATUS_GB18030 = readFileSync(path.join(FIXTURES, 'zj-xml/application.status.request.xml'));
const ZJ_STATUS_CANONICAL = JSON.parse(readFileSync(path.join(FIXTURES, 'zj-xml/application.status.request.canonical.json'), 'utf8')) as Record<string, unknown>;
/** The same request as UTF-8 without an XML declaration: read in the family's GB18030 it would be other, valid text. */
const ZJ_STATUS_UTF8 = Buffer.from(iconv.decode(ZJ_STATUS_GB18030, 'gb18030').replace(/^<\?xml[^>]*\?>\s*/, ''), 'utf8');

describe('PROTOCOL edges: the clock, the binding, the path, refused headers and XML charsets', function () {
  let backend: SimulatedBackend;
  let harness: TestGateway;
  let jsonPartner: PartnerPki;
  let xmlPartner: PartnerPki;
  let huzhouLeafPem: string;
  const clock = { nowMs: Date.now() };

  before(async function () {
    backend = await SimulatedBackend.start();
    harness = await startTestGateway({ XR_LOCAL_BACKEND_URL: backend.url }, { nowMs: () => clock.nowMs });
    jsonPartner = await makePartnerPki(JSON_PARTNER);
    xmlPartner = await makePartnerPki(XML_PARTNER);
    for (const [pki, format] of [[jsonPartner, 'hz-json'], [xmlPartner, 'zj-xml']] as const) {
      const put = await harness.admin('PUT', `/admin/v1/partners/${pki.region}`, { name: `partner ${pki.region}`, endpoint: 'http://127.0.0.1:9', format, services: ['application.status'] });
      assert.equal(put.status, 200, await put.text());
      assert.equal((await harness.admin('POST', `/admin/v1/partners/${pki.region}/trust`, pki.caPem)).status, 201);
    }
    huzhouLeafPem = ((await (await fetch(`${harness.gateway.urls.admin}/admin/v1/identity`)).json()) as { chain: string[] }).chain[0]!;
  });

  after(async function () {
    await harness.stop();
    await backend.stop();
  });

  beforeEach(function () {
    clock.nowMs = Date.now();
  });

  function header(pki: PartnerPki, members: Partial<HeaderMembers> = {}): HeaderMembers {
    return { ...requestHeader(pki.signer, { iss: pki.region, messageType: 'application.status', iat: Math.floor(clock.nowMs / 1000) }), ...members };
  }

  function send(pki: PartnerPki, signed: HeaderMembers, body: Buffer, contentType: string, requestPath?: string) {
    return postSigned(harness.gateway.urls.partner, 'application.status', body, contentType, signRaw(signed, body, pki.signer.privateKey, 'ES256'), requestPath);
  }

  const jsonStatus = (applyNo: string) => Buffer.from(JSON.stringify({ ...STATUS, applyNo }), 'utf8');

  /** A refusal as §5 wants it: problem+json with its code, signed by Huzhou; and no forward. */
  async function refused(answer: Awaited<ReturnType<typeof postSigned>>, code: string, status: number, forwardsBefore: number) {
    assert.equal(answer.status, status, answer.body.toString());
    assert.equal(answer.headers.get('content-type'), 'application/problem+json');
    assert.equal(answer.json().code, code, String(answer.json().detail));
    assert.ok(answer.headers.get('x-xr-signature'), 'the refusal is signed');
    assert.equal(backend.calls.length, forwardsBefore, 'nothing was forwarded');
  }

  describe('the replay window and the skew check', function () {
    it('still refuses a replay at the last second its iat passes the skew check, 599.001 s after it was accepted', async function () {
      const second = Math.floor(Date.now() / 1000) * 1000;
      const signed = header(jsonPartner, { iat: second / 1000 + 300 });
      const body = jsonStatus('3205002026112790001');
      clock.nowMs = second + 999;
      assert.equal((await send(jsonPartner, signed, body, 'application/json')).status, 200);
      const forwards = backend.calls.length;
      for (const at of [second + 599_999, second + 600_000]) {
        clock.nowMs = at;
        await refused(await send(jsonPartner, signed, body, 'application/json'), 'XR_REPLAY', 409, forwards);
      }
      clock.nowMs = second + 600_001;
      await refused(await send(jsonPartner, signed, body, 'application/json'), 'XR_CLOCK_SKEW', 401, forwards);
    });

    it('measures |now − iat| to the millisecond: 300.999 s is refused, 300.000 s accepted', async function () {
      const second = Math.floor(Date.now() / 1000) * 1000;
      clock.nowMs = second + 999;
      const forwards = backend.calls.length;
      const late = await send(jsonPartner, header(jsonPartner, { iat: second / 1000 - 300 }), jsonStatus('3205002026112790002'), 'application/json');
      await refused(late, 'XR_CLOCK_SKEW', 401, forwards);
      assert.match(String(late.json().detail), /300\.999 s/);
      clock.nowMs = second;
      assert.equal((await send(jsonPartner, header(jsonPartner, { iat: second / 1000 - 300 }), jsonStatus('3205002026112790002'), 'application/json')).status, 200);
      assert.equal((await send(jsonPartner, header(jsonPartner, { iat: second / 1000 + 300 }), jsonStatus('3205002026112790003'), 'application/json')).status, 200);
    });
  });

  it('compares htm with the method exactly: "post" is not POST', async function () {
    const forwards = backend.calls.length;
    await refused(await send(jsonPartner, header(jsonPartner, { htm: 'post' }), jsonStatus('3205002026112790004'), 'application/json'), 'XR_BINDING', 401, forwards);
  });

  it('answers a path that does not percent-decode with a signed XR_NOT_FOUND, not a bare 500', async function () {
    const forwards = backend.calls.length;
    const signed = header(jsonPartner, { htu: '/xr/v1/messages/%E0%A4%A' });
    const body = jsonStatus('3205002026112790005');
    const answer = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const url = new URL(harness.gateway.urls.partner);
      const request = http.request({ host: url.hostname, port: url.port, method: 'POST', path: '/xr/v1/messages/%E0%A4%A', headers: { 'content-type': 'application/json', 'x-xr-signature': signRaw(signed, body, jsonPartner.signer.privateKey, 'ES256') } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      request.on('error', reject);
      request.end(body);
    });
    assert.equal(answer.status, 404, answer.body);
    assert.equal(answer.headers['content-type'], 'application/problem+json');
    assert.equal((JSON.parse(answer.body) as { code: string }).code, 'XR_NOT_FOUND');
    assert.ok(answer.headers['x-xr-signature']);
    assert.equal(backend.calls.length, forwards);
  });

  it('addresses the refusal of a header it cannot accept to the sender and jti the header names (aud, irt, the problem\'s jti)', async function () {
    for (const members of [{ alg: 'none' }, { typ: 'JWT' }, { crit: ['exp'] }]) {
      const forwards = backend.calls.length;
      const signed = header(jsonPartner, members);
      const answer = await postSigned(harness.gateway.urls.partner, 'application.status', jsonStatus('3205002026112790006'), 'application/json',
        `${Buffer.from(JSON.stringify(signed)).toString('base64url')}..${members.alg === 'none' ? '' : 'c2ln'}`);
      await refused(answer, members.alg === 'none' ? 'XR_ALG_NOT_ALLOWED' : 'XR_MALFORMED', members.alg === 'none' ? 401 : 400, forwards);
      assert.equal(answer.json().jti, signed.jti);
      const answered = await verifyAnswer(answer, huzhouLeafPem, JSON_PARTNER, String(signed.jti));
      assert.equal(answered.aud, JSON_PARTNER);
    }
  });

  describe('an XML body in the charset its Content-Type names (RFC 7303 §3)', function () {
    it('reads UTF-8 labelled charset=utf-8 in a GB18030 family as UTF-8: the backend gets the right text', async function () {
      const answer = await send(xmlPartner, header(xmlPartner), ZJ_STATUS_UTF8, 'application/xml; charset=utf-8');
      assert.equal(answer.status, 200, answer.body.toString());
      assert.deepEqual(backend.calls.at(-1)!.body, ZJ_STATUS_CANONICAL);
    });

    it('reads GB18030 labelled charset=GB18030 or GBK, and unlabelled as before', async function () {
      for (const contentType of ['application/xml; charset=GB18030', 'application/xml; charset=gbk', 'application/xml']) {
        const answer = await send(xmlPartner, header(xmlPartner), ZJ_STATUS_GB18030, contentType);
        assert.equal(answer.status, 200, `${contentType}: ${answer.body.toString()}`);
        assert.deepEqual(backend.calls.at(-1)!.body, ZJ_STATUS_CANONICAL);
      }
    });

    it('refuses a label the XML declaration contradicts with XR_MALFORMED, and gives the replay claim back', async function () {
      const forwards = backend.calls.length;
      const signed = header(xmlPartner);
      const answer = await send(xmlPartner, signed, ZJ_STATUS_GB18030, 'application/xml; charset=utf-8');
      await refused(answer, 'XR_MALFORMED', 400, forwards);
      assert.match(String(answer.json().detail), /charset=utf-8 but the XML declaration says encoding="GB18030"/);
      assert.equal((await send(xmlPartner, signed, ZJ_STATUS_GB18030, 'application/xml; charset=GB18030')).status, 200, 'the refused message left no replay entry');
    });

    it('refuses a charset the gateway does not read with XR_UNSUPPORTED_MEDIA before anything else', async function () {
      for (const charset of ['ISO-8859-1', 'Big5', 'x-martian']) {
        const forwards = backend.calls.length;
        await refused(await send(xmlPartner, header(xmlPartner), ZJ_STATUS_GB18030, `application/xml; charset=${charset}`), 'XR_UNSUPPORTED_MEDIA', 415, forwards);
      }
    });
  });
});

describe('an unexpected error in the gateway (a bug)', function () {
  it('is answered XR_UPSTREAM with §5\'s status for that code, 502, and a detail that reveals nothing; it is logged', function () {
    const logged: object[] = [];
    const xr = asXrError(new TypeError('cannot read properties of undefined (secret-ish internals)'), { error: (fields) => logged.push(fields) });
    assert.equal(xr.code, 'XR_UPSTREAM');
    assert.equal(xr.status, 502);
    assert.equal(xr.detail, 'internal error in the gateway');
    assert.equal(logged.length, 1);
  });
});

import assert from 'node:assert/strict';
import { startTestGateway, AUDITOR_TOKEN, type TestGateway } from '../support/gateway.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';

const SHANGHAI = { name: '上海市松江区', endpoint: 'https://xr.songjiang.example/', format: 'sh-json', services: ['application.submit', 'application.status'] };

describe('admin API (PROTOCOL §7)', function () {
  let harness: TestGateway;
  let pki: PartnerPki;

  before(async function () {
    harness = await startTestGateway();
    pki = await makePartnerPki('310117');
  });

  after(async function () {
    await harness.stop();
  });

  async function snapshot() {
    const { store } = harness.gateway;
    return JSON.stringify([await store.listPartners(), await store.listTrustAnchors(), await store.listRevocations(), await store.listFormats()]);
  }

  function call(method: string, pathname: string, token: string | undefined, body?: unknown) {
    return fetch(`${harness.gateway.urls.admin}${pathname}`, {
      method,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  it('registers a partner, which then appears in the list and survives a restart', async function () {
    const put = await harness.admin('PUT', '/admin/v1/partners/310117', SHANGHAI);
    assert.equal(put.status, 200);
    const partner = await put.json() as Record<string, unknown>;
    assert.equal(partner.region, '310117');
    assert.equal(partner.endpoint, 'https://xr.songjiang.example');
    const trust = await harness.admin('POST', '/admin/v1/partners/310117/trust', pki.caPem);
    assert.equal(trust.status, 201);
    const anchors = await trust.json() as Array<{ kid: string; subject: string; notAfter: string }>;
    assert.equal(anchors.length, 1);
    assert.equal(anchors[0]!.kid, pki.ca.cert ? (await import('../../certs/thumbprint.ts')).kidOf(pki.ca.cert) : '');
    assert.match(anchors[0]!.subject, /CN=XR CA 310117/);

    await harness.restart();
    const list = await (await harness.admin('GET', '/admin/v1/partners')).json() as Array<{ region: string }>;
    assert.deepEqual(list.map((p) => p.region), ['310117']);
    const one = await (await harness.admin('GET', '/admin/v1/partners/310117')).json() as { trust: unknown[] };
    assert.equal(one.trust.length, 1);
  });

  it('takes name and format from the default G60 registry when a registration leaves them out', async function () {
    const put = await harness.admin('PUT', '/admin/v1/partners/341800', { endpoint: 'https://xr.xuancheng.example', services: ['application.submit'] });
    assert.equal(put.status, 200);
    const partner = await put.json() as { name: string; format: string };
    assert.deepEqual([partner.name, partner.format], ['宣城市', 'ah-xml']);
    assert.equal((await harness.admin('DELETE', '/admin/v1/partners/341800')).status, 204);
  });

  it('publishes Huzhou\'s identity without a token: region, kid and the chain', async function () {
    const response = await fetch(`${harness.gateway.urls.admin}/admin/v1/identity`);
    assert.equal(response.status, 200);
    const identity = await response.json() as { region: string; kid: string; chain: string[] };
    assert.equal(identity.region, '330500');
    assert.equal(identity.kid, harness.gateway.signer().kid);
    assert.equal(identity.chain.length, 2);
    assert.match(identity.chain[0]!, /^-----BEGIN CERTIFICATE-----/);
    assert.doesNotMatch(JSON.stringify(identity), /PRIVATE/);
  });

  it('keeps the same signing identity across restarts (the key is in the store)', async function () {
    const before = harness.gateway.signer().kid;
    await harness.restart();
    assert.equal(harness.gateway.signer().kid, before);
  });

  it('answers /healthz 200 when ready, without a token', async function () {
    const response = await fetch(`${harness.gateway.urls.admin}/healthz`);
    assert.equal(response.status, 200);
  });

  describe('refuses, changing nothing', function () {
    const refusals: Array<{ name: string; code: string; status: number; run: () => Promise<Response> }> = [
      { name: 'a change without a token', code: 'XR_UNAUTHENTICATED', status: 401, run: () => call('PUT', '/admin/v1/partners/330100', undefined, { ...SHANGHAI, format: 'zj-xml' }) },
      { name: 'a change with a wrong token', code: 'XR_UNAUTHENTICATED', status: 401, run: () => call('DELETE', '/admin/v1/partners/310117', 'wrong-token-wrong-token') },
      { name: 'a read without a token', code: 'XR_UNAUTHENTICATED', status: 401, run: () => call('GET', '/admin/v1/partners', undefined) },
      { name: 'a change with the auditor token', code: 'XR_FORBIDDEN', status: 403, run: () => call('PUT', '/admin/v1/partners/330100', AUDITOR_TOKEN, { ...SHANGHAI, format: 'zj-xml' }) },
      { name: 'a revocation with the auditor token', code: 'XR_FORBIDDEN', status: 403, run: () => call('POST', '/admin/v1/partners/310117/revocations', AUDITOR_TOKEN, { kid: 'A'.repeat(43) }) },
      { name: 'a partner outside the default registry without a format', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/320100', { name: '南京市', endpoint: 'https://x.example', services: ['application.submit'] }) },
      { name: 'a partner with an unknown format', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, format: 'xx-json' }) },
      { name: 'a partner with an unknown service', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, services: ['application.delete'] }) },
      { name: 'a partner with no endpoint URL', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, endpoint: 'nowhere' }) },
      { name: 'a partner endpoint with a query (messages go to {endpoint}/xr/v1/messages/…)', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, endpoint: 'https://x.example/base?x=1' }) },
      { name: 'a partner endpoint with a fragment', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, endpoint: 'https://x.example/base#top' }) },
      { name: 'a partner endpoint carrying credentials', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, endpoint: 'https://user:secret@x.example/' }) },
      { name: 'a partner endpoint with spaces around it', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, endpoint: ' https://x.example ' }) },
      { name: 'a partner endpoint written http:/host (a parser would mend it)', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, endpoint: 'http:/x.example' }) },
      { name: 'a delivery backoffMs above its maxBackoffMs', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, delivery: { backoffMs: 5000, maxBackoffMs: 1000 } }) },
      { name: 'a partner document giving a key twice', code: 'XR_MALFORMED', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', `${JSON.stringify(SHANGHAI).slice(0, -1)},"format":"zj-xml"}`, 'application/json') },
      { name: 'a change with a method the path does not take, without a token', code: 'XR_UNAUTHENTICATED', status: 401, run: () => call('POST', '/admin/v1/partners', undefined, SHANGHAI) },
      { name: 'a partner in an unknown region', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/999999', SHANGHAI) },
      { name: 'Huzhou itself as a partner', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330500', SHANGHAI) },
      { name: 'a breaker setting out of range', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, breaker: { errorThresholdPercentage: 150 } }) },
      { name: 'a body that is not JSON', code: 'XR_MALFORMED', status: 400, run: () => harness.admin('PUT', '/admin/v1/partners/330100', '{"name":', 'application/json') },
      { name: 'a partner document as text/plain', code: 'XR_UNSUPPORTED_MEDIA', status: 415, run: () => harness.admin('PUT', '/admin/v1/partners/330100', 'x', 'text/plain') },
      { name: 'a trust bundle that is not PEM', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('POST', '/admin/v1/partners/310117/trust', 'not a certificate') },
      { name: 'a trust bundle holding a private key', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('POST', '/admin/v1/partners/310117/trust', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n') },
      { name: 'trust for an unregistered partner', code: 'XR_NOT_FOUND', status: 404, run: () => harness.admin('POST', '/admin/v1/partners/340100/trust', pki.caPem) },
      { name: 'a revocation naming neither kid nor serial', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('POST', '/admin/v1/partners/310117/revocations', { who: 'x' }) },
      { name: 'a revocation with a serial that is not hex', code: 'XR_BAD_REQUEST', status: 400, run: () => harness.admin('POST', '/admin/v1/partners/310117/revocations', { serial: 'xyz' }) },
      { name: 'deleting an unknown partner', code: 'XR_NOT_FOUND', status: 404, run: () => harness.admin('DELETE', '/admin/v1/partners/340100') },
      { name: 'an unknown admin path', code: 'XR_NOT_FOUND', status: 404, run: () => harness.admin('GET', '/admin/v1/nothing') },
    ];
    for (const refusal of refusals) {
      it(`${refusal.name} → ${refusal.code} ${refusal.status}`, async function () {
        const before = await snapshot();
        const response = await refusal.run();
        assert.equal(response.status, refusal.status, await response.clone().text());
        assert.equal(response.headers.get('content-type'), 'application/problem+json');
        if (refusal.status === 401) assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer\b/, 'a 401 carries its challenge (RFC 9110 §11.6.1)');
        const problem = await response.json() as Record<string, unknown>;
        assert.equal(problem.code, refusal.code);
        assert.equal(await snapshot(), before);
      });
    }
  });

  describe('later changes', function () {
    it('lets the auditor read', async function () {
      const response = await call('GET', '/admin/v1/partners', AUDITOR_TOKEN);
      assert.equal(response.status, 200);
    });

    it('revokes by serial, and the revocation survives a restart', async function () {
      const leaf = await pki.issueLeaf({ serial: '0abc' });
      const response = await harness.admin('POST', '/admin/v1/partners/310117/revocations', { serial: '0ABC' });
      assert.equal(response.status, 201);
      await harness.restart();
      const revocations = await harness.gateway.store.listRevocations('310117');
      assert.deepEqual(revocations.map((r) => r.serial), ['ABC']);
      assert.throws(
        () => harness.gateway.directory.trust.resolveSigner('310117', leaf.signer.kid, leaf.signer.chain.map((c) => c.raw.toString('base64')), new Date()),
        (error: { code?: string }) => error.code === 'XR_CERT_REVOKED',
      );
    });

    it('deletes a partner with its trust, at once and for good', async function () {
      await harness.admin('PUT', '/admin/v1/partners/330100', { ...SHANGHAI, format: 'zj-xml' });
      const response = await harness.admin('DELETE', '/admin/v1/partners/310117');
      assert.equal(response.status, 204);
      assert.equal(harness.gateway.directory.partner('310117'), undefined);
      assert.deepEqual(await harness.gateway.store.listTrustAnchors('310117'), []);
      await harness.restart();
      assert.equal((await harness.admin('GET', '/admin/v1/partners/310117')).status, 404);
      assert.equal((await harness.admin('GET', '/admin/v1/partners/330100')).status, 200);
    });
  });
});

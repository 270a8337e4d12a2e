import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SimulatedBackend } from '../support/backend.ts';
import { AUDITOR_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makeAuthority, partnerVerifier, type Authority } from '../support/keys.ts';
import { postSigned, requestHeader, signRaw, type SentMessage } from '../support/partner-client.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';

const PARTNER = '320500';
const DAY_MS = 86_400_000;
const STATUS = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../shared/fixtures/js-xml/application.status.request.canonical.json'), 'utf8')) as Record<string, unknown>;

interface Identity { kid: string; chain: string[]; certificates: Array<{ kid: string; state: string; overlapEndsAt?: string }> }

describe('key rotation: Huzhou changes its signing key with an overlap, and no partner message is refused', function () {
  let now = Date.now();
  let backend: SimulatedBackend;
  let harness: TestGateway;
  let partner: PartnerPki;
  let huzhouCa: Authority;
  /** The partner's view of Huzhou: it registered Huzhou's published chain once, before any rotation. */
  let partnerView: ReturnType<typeof partnerVerifier>;
  let firstKey: { id: string; kid: string };

  async function newKey(ca: Authority = huzhouCa): Promise<{ id: string; kid: string }> {
    const created = await harness.admin('POST', '/admin/v1/keys', { subject: 'CN=XR gateway 330500,O=Huzhou,C=CN' });
    assert.equal(created.status, 201, await created.clone().text());
    const { key, csr } = await created.json() as { key: { id: string }; csr: string };
    const installed = await harness.admin('PUT', `/admin/v1/keys/${key.id}/certificate`, await ca.issueFromCsr(csr));
    assert.equal(installed.status, 200, await installed.clone().text());
    return { id: key.id, kid: ((await installed.json()) as { kid: string }).kid };
  }

  const activate = (id: string, body: unknown = { overlapDays: 14 }) => harness.admin('POST', `/admin/v1/keys/${id}/activate`, body);
  const identity = async () => (await (await fetch(`${harness.gateway.urls.admin}/admin/v1/identity`)).json()) as Identity;

  async function send(): Promise<{ answer: SentMessage; jti: string }> {
    const header = requestHeader(partner.signer, { iss: PARTNER, messageType: 'application.status', iat: Math.floor(now / 1000) });
    const body = Buffer.from(JSON.stringify(STATUS));
    const answer = await postSigned(harness.gateway.urls.partner, 'application.status', body, 'application/json', signRaw(header, body, partner.signer.privateKey, partner.signer.alg));
    return { answer, jti: String(header.jti) };
  }

  /** Every answer 200 and verified by the partner; returns the kid each was signed with. */
  async function verifiedKids(sent: Array<{ answer: SentMessage; jti: string }>): Promise<string[]> {
    return Promise.all(sent.map(async ({ answer, jti }) => {
      assert.equal(answer.status, 200, answer.body.toString());
      return (await partnerView.verify(answer, PARTNER, jti, now)).kid;
    }));
  }

  before(async function () {
    backend = await SimulatedBackend.start();
    harness = await startTestGateway({ XR_LOCAL_BACKEND_URL: backend.url }, { nowMs: () => now });
    partner = await makePartnerPki(PARTNER);
    huzhouCa = await makeAuthority('CN=Huzhou XR CA,O=Huzhou,C=CN');
    assert.equal((await harness.admin('PUT', `/admin/v1/partners/${PARTNER}`, { name: '苏州', endpoint: 'http://127.0.0.1:9', format: 'hz-json', services: ['application.status'] })).status, 200);
    assert.equal((await harness.admin('POST', `/admin/v1/partners/${PARTNER}/trust`, partner.caPem)).status, 201);

    // Leaving the development PKI for Huzhou's CA is a change of anchor: refused until the operator says partners have it.
    firstKey = await newKey();
    const refused = await activate(firstKey.id, { overlapDays: 0 });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { detail: string }).detail, /acceptNewAnchor/);
    assert.equal((await activate(firstKey.id, { overlapDays: 0, acceptNewAnchor: true })).status, 200);
    const published = await identity();
    assert.equal(published.kid, firstKey.kid);
    partnerView = partnerVerifier(published.chain.join(''));
  });

  after(async function () {
    await harness.stop();
    await backend.stop();
  });

  it('answers every message across the switch: new key from the activation on, each answer verified by a partner that trusts only the old certificate and its CA', async function () {
    const next = await newKey();
    const before = await Promise.all(Array.from({ length: 5 }, send));
    const inFlight = Array.from({ length: 20 }, send);
    const activation = await activate(next.id, { overlapDays: 14 });
    assert.equal(activation.status, 200, await activation.clone().text());
    const during = await Promise.all(inFlight);
    const after = await Promise.all(Array.from({ length: 5 }, send));

    assert.deepEqual(new Set(await verifiedKids(before)), new Set([firstKey.kid]));
    const duringKids = new Set(await verifiedKids(during));
    assert.ok([...duringKids].every((kid) => kid === firstKey.kid || kid === next.kid));
    assert.deepEqual(new Set(await verifiedKids(after)), new Set([next.kid]));

    const published = await identity();
    assert.equal(published.kid, next.kid);
    assert.deepEqual(published.certificates.map(({ kid, state }) => ({ kid, state })), [{ kid: next.kid, state: 'active' }, { kid: firstKey.kid, state: 'retiring' }]);
    assert.equal(published.certificates[1]!.overlapEndsAt, new Date(now + 14 * DAY_MS).toISOString());
    await activate(firstKey.id, { overlapDays: 14 }).then((r) => assert.equal(r.status, 200));
    assert.deepEqual(new Set(await verifiedKids(await Promise.all(Array.from({ length: 3 }, send)))), new Set([firstKey.kid]), 'a rollback during the overlap');
    await activate(next.id, { overlapDays: 14 }).then((r) => assert.equal(r.status, 200));
    firstKey = next;
  });

  it('stops publishing the old certificate when the overlap ends, destroys its private key and refuses to go back to it', async function () {
    const old = (await identity()).certificates.find((c) => c.state === 'retiring')!;
    now += 15 * DAY_MS;
    const published = await identity();
    assert.deepEqual(published.certificates.map((c) => c.state), ['active']);
    const rollback = await activate(old.kid);
    assert.equal(rollback.status, 400);
    assert.match(((await rollback.json()) as { detail: string }).detail, /is retired/);

    await harness.restart();
    const stored = (await harness.gateway.store.listSigningKeys()).find((key) => key.kid === old.kid)!;
    assert.equal(stored.state, 'retired');
    assert.equal(stored.privateKeyPem, '');
    assert.equal(harness.gateway.signer().kid, firstKey.kid);
    assert.deepEqual(new Set(await verifiedKids(await Promise.all(Array.from({ length: 3 }, send)))), new Set([firstKey.kid]));
  });

  it('refuses to activate a certificate from a CA partners have not registered, and publishes it as ready meanwhile', async function () {
    const elsewhere = await makeAuthority('CN=Another CA,O=Elsewhere,C=CN');
    const stranger = await newKey(elsewhere);
    const refused = await activate(stranger.id);
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { detail: string }).detail, /does not chain to the CA of the active certificate/);
    const published = await identity();
    assert.equal(published.kid, firstKey.kid);
    assert.deepEqual(published.certificates.find((c) => c.kid === stranger.kid)?.state, 'ready');
  });

  it('installs only the certificate issued for the key\'s own CSR, and only on a key waiting for one', async function () {
    const created = async () => (await (await harness.admin('POST', '/admin/v1/keys', { subject: 'CN=XR gateway 330500,O=Huzhou,C=CN' })).json()) as { key: { id: string }; csr: string };
    const [one, other] = [await created(), await created()];
    const wrong = await harness.admin('PUT', `/admin/v1/keys/${one.key.id}/certificate`, await huzhouCa.issueFromCsr(other.csr));
    assert.equal(wrong.status, 400);
    assert.match(((await wrong.json()) as { detail: string }).detail, /not for signing key/);
    const onActive = await harness.admin('PUT', `/admin/v1/keys/${firstKey.id}/certificate`, await huzhouCa.issueFromCsr(one.csr));
    assert.equal(onActive.status, 400);
    const unknown = await harness.admin('PUT', '/admin/v1/keys/0123456789ab/certificate', await huzhouCa.issueFromCsr(one.csr));
    assert.equal(unknown.status, 404);
  });

  it('lets the auditor list keys and certificates but not change them', async function () {
    const as = (method: string, pathname: string, body?: unknown) => fetch(`${harness.gateway.urls.admin}${pathname}`, {
      method, headers: { authorization: `Bearer ${AUDITOR_TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    assert.equal((await as('GET', '/admin/v1/keys')).status, 200);
    assert.equal((await as('GET', '/admin/v1/certificates')).status, 200);
    assert.equal((await as('POST', '/admin/v1/keys', { subject: 'CN=x' })).status, 403);
    assert.equal((await as('POST', `/admin/v1/keys/${firstKey.id}/activate`, {})).status, 403);
  });
});

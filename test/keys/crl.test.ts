import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Signer } from '../../certs/jws.ts';
import { SimulatedBackend } from '../support/backend.ts';
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makeCrl } from '../support/keys.ts';
import { postSigned, requestHeader, signRaw } from '../support/partner-client.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';

const PARTNER = '320500';
const STATUS = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../shared/fixtures/js-xml/application.status.request.canonical.json'), 'utf8')) as Record<string, unknown>;

describe('a partner CA\'s CRL: what it revokes is refused with XR_CERT_REVOKED', function () {
  let backend: SimulatedBackend;
  let harness: TestGateway;
  let partner: PartnerPki;
  let revoked: Signer;
  let kept: Signer;

  async function send(signer: Signer) {
    const header = requestHeader(signer, { iss: PARTNER, messageType: 'application.status' });
    const body = Buffer.from(JSON.stringify(STATUS));
    const answer = await postSigned(harness.gateway.urls.partner, 'application.status', body, 'application/json', signRaw(header, body, signer.privateKey, signer.alg));
    return { status: answer.status, code: answer.status === 200 ? 'OK' : String(answer.json().code) };
  }

  const importCrl = (crl: Buffer | string, type = 'application/pkix-crl') => fetch(`${harness.gateway.urls.admin}/admin/v1/partners/${PARTNER}/crl`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type }, body: typeof crl === 'string' ? crl : new Uint8Array(crl),
  });

  before(async function () {
    backend = await SimulatedBackend.start();
    harness = await startTestGateway({ XR_LOCAL_BACKEND_URL: backend.url });
    partner = await makePartnerPki(PARTNER);
    revoked = (await partner.issueLeaf({ serial: '7a0b0c0d0e0f' })).signer;
    kept = (await partner.issueLeaf({ serial: '7a0b0c0d0e10' })).signer;
    assert.equal((await harness.admin('PUT', `/admin/v1/partners/${PARTNER}`, { name: '苏州', endpoint: 'http://127.0.0.1:9', format: 'hz-json', services: ['application.status'] })).status, 200);
    assert.equal((await harness.admin('POST', `/admin/v1/partners/${PARTNER}/trust`, partner.caPem)).status, 201);
  });

  after(async function () {
    await harness.stop();
    await backend.stop();
  });

  it('refuses, from the import on, a certificate the region\'s CA revoked, and keeps accepting the others — also after a restart', async function () {
    assert.deepEqual(await send(revoked), { status: 200, code: 'OK' });
    const response = await importCrl(await makeCrl(partner.ca, ['7A0B0C0D0E0F']));
    assert.equal(response.status, 201, await response.clone().text());
    const summary = await response.json() as { revoked: number; stale: boolean; region: string };
    assert.deepEqual([summary.region, summary.revoked, summary.stale], [PARTNER, 1, false]);
    assert.deepEqual(await send(revoked), { status: 401, code: 'XR_CERT_REVOKED' });
    assert.deepEqual(await send(kept), { status: 200, code: 'OK' });

    await harness.restart();
    assert.deepEqual(await send(revoked), { status: 401, code: 'XR_CERT_REVOKED' });
    assert.deepEqual(await send(kept), { status: 200, code: 'OK' });
    const listed = await (await harness.admin('GET', `/admin/v1/partners/${PARTNER}/crl`)).json() as Array<{ revoked: number; issuer: string }>;
    assert.deepEqual(listed.map(({ revoked: n, issuer }) => ({ n, issuer })), [{ n: 1, issuer: `CN=XR CA ${PARTNER}, O=Partner ${PARTNER}, C=CN` }]);
  });

  it('takes a CRL as PEM too, and a newer one replaces the older (here: revoking the other certificate as well)', async function () {
    const der = await makeCrl(partner.ca, ['7A0B0C0D0E0F', '7A0B0C0D0E10'], { thisUpdate: new Date(Date.now() - 1000) });
    const pem = `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
    assert.equal((await importCrl(pem, 'application/x-pem-file')).status, 201);
    assert.deepEqual(await send(kept), { status: 401, code: 'XR_CERT_REVOKED' });
    const older = await importCrl(await makeCrl(partner.ca, [], { thisUpdate: new Date(Date.now() - 3_600_000) }));
    assert.equal(older.status, 400);
    assert.match(((await older.json()) as { detail: string }).detail, /newer CRL/);
    assert.deepEqual(await send(kept), { status: 401, code: 'XR_CERT_REVOKED' });
  });

  for (const [name, crl, pattern] of [
    ['signed by another region\'s CA', async () => makeCrl((await makePartnerPki('330100')).ca, ['01']), /not a trust anchor registered for region 320500/],
    ['whose signature does not verify', async () => {
      const der = await makeCrl(partner.ca, ['01']);
      der.writeUInt8(der.readUInt8(der.length - 5) ^ 0xff, der.length - 5);
      return der;
    }, /signature does not verify/],
    ['that is not a CRL at all', async () => Buffer.from(partner.caPem), /not one X509 CRL block/],
  ] as const) {
    it(`refuses a CRL ${name}, changing nothing`, async function () {
      const before = await harness.gateway.store.listCrls(PARTNER);
      const response = await importCrl(await crl());
      assert.equal(response.status, 400);
      assert.match(((await response.json()) as { detail: string }).detail, pattern);
      assert.deepEqual(await harness.gateway.store.listCrls(PARTNER), before);
    });
  }

  it('refuses a CRL for a region that is not a partner', async function () {
    const response = await fetch(`${harness.gateway.urls.admin}/admin/v1/partners/310117/crl`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/pkix-crl' }, body: new Uint8Array(await makeCrl(partner.ca, [])),
    });
    assert.equal(response.status, 404);
  });
});

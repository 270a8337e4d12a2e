import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { toPem } from '../../certs/issue.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makePartnerPki } from '../support/pki.ts';

interface KeyView { id: string; state: string; kid: string | null; alg: string | null; subject: string; chain: string[] }

describe('a new signing key: a CSR for Huzhou\'s CA, or a PKCS#12 bundle from it', function () {
  let harness: TestGateway;
  let scratch: string;

  before(async function () {
    harness = await startTestGateway();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'xr-p12-'));
  });

  after(async function () {
    await harness.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const problem = async (response: Response) => ((await response.json()) as { code: string; detail: string });

  it('makes a key and a CSR signed with it, asking for the subject and digitalSignature, without the key in the answer', async function () {
    for (const [alg, webcryptoName] of [[undefined, 'ECDSA'], ['PS256', 'RSASSA-PKCS1-v1_5'], ['EdDSA', 'Ed25519']] as const) {
      const response = await harness.admin('POST', '/admin/v1/keys', { subject: 'CN=XR gateway 330500,O=湖州市,C=CN', ...(alg ? { alg } : {}) });
      assert.equal(response.status, 201);
      const { key, csr, ...rest } = await response.json() as { key: KeyView; csr: string };
      assert.deepEqual(rest, {});
      assert.equal(key.state, 'pending');
      assert.equal(key.alg, alg ?? 'ES256');
      assert.equal(key.kid, null);
      assert.doesNotMatch(JSON.stringify(key), /PRIVATE|privateKey/i);
      const request = new x509.Pkcs10CertificateRequest(csr);
      assert.ok(await request.verify());
      assert.equal(request.signatureAlgorithm.name, webcryptoName);
      assert.equal(request.subject, 'CN=XR gateway 330500, O=湖州市, C=CN');
      const usage = request.extensions.find((extension) => extension instanceof x509.KeyUsagesExtension);
      assert.equal(usage?.usages, x509.KeyUsageFlags.digitalSignature);
    }
  });

  for (const [name, body, pattern] of [
    ['a subject without CN', { subject: 'O=Huzhou,C=CN' }, /CN/],
    ['a subject that is no name at all', { subject: 'garbage' }, /CN/],
    ['an algorithm XR/1 does not sign with', { subject: 'CN=x', alg: 'HS256' }, /alg: one of ES256, PS256, EdDSA/],
    ['a misspelt field', { subject: 'CN=x', algorithm: 'ES256' }, /unknown field algorithm/],
  ] as const) {
    it(`refuses ${name}, storing nothing`, async function () {
      const before = (await harness.gateway.store.listSigningKeys()).length;
      const response = await harness.admin('POST', '/admin/v1/keys', body);
      assert.equal(response.status, 400);
      assert.match((await problem(response)).detail, pattern);
      assert.equal((await harness.gateway.store.listSigningKeys()).length, before);
    });
  }

  async function bundle(alg: 'ES256' | 'PS256', passphrase: string, openSslArgs: string[] = []): Promise<{ file: string; kid: string }> {
    const pki = await makePartnerPki('330500', { alg });
    const { signer, pem } = await pki.issueLeaf({ subject: `CN=XR gateway 330500 ${alg},O=Huzhou,C=CN` });
    const keyFile = path.join(scratch, `${alg}.key`);
    const chainFile = path.join(scratch, `${alg}.pem`);
    const file = path.join(scratch, `${alg}.p12`);
    writeFileSync(keyFile, toPem(signer.privateKey));
    writeFileSync(chainFile, pem + pki.caPem);
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', keyFile, '-in', chainFile, '-out', file, '-passout', `pass:${passphrase}`, ...openSslArgs]);
    return { file, kid: signer.kid };
  }

  const importBundle = (file: string, passphrase: string) => harness.admin('POST', '/admin/v1/keys/import', { pkcs12: readFileSync(file).toString('base64'), passphrase });

  it('imports an EC key and its chain from a PKCS#12 bundle as OpenSSL 3 writes it (AES-256, PBKDF2), ready to activate', async function () {
    const { file, kid } = await bundle('ES256', 'p12 passphrase');
    const response = await importBundle(file, 'p12 passphrase');
    assert.equal(response.status, 201, await response.clone().text());
    const key = await response.json() as KeyView;
    assert.deepEqual([key.state, key.kid, key.alg, key.chain.length], ['ready', kid, 'ES256', 2]);
    const activated = await harness.admin('POST', `/admin/v1/keys/${key.id}/activate`, { overlapDays: 0, acceptNewAnchor: true });
    assert.equal(activated.status, 200, await activated.clone().text());
    assert.equal(harness.gateway.signer().kid, kid);
    const again = await importBundle(file, 'p12 passphrase');
    assert.equal(again.status, 400);
    assert.match((await problem(again)).detail, new RegExp(`already stored as signing key ${key.id}`));
  });

  it('imports an RSA key from a bundle in the legacy 3DES/SHA-1 encoding; it signs PS256', async function () {
    const { file, kid } = await bundle('PS256', 'legacy', ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']);
    const response = await importBundle(file, 'legacy');
    assert.equal(response.status, 201, await response.clone().text());
    const key = await response.json() as KeyView;
    assert.deepEqual([key.kid, key.alg], [kid, 'PS256']);
  });

  it('refuses a wrong passphrase and a body that is no PKCS#12, saying which', async function () {
    const { file } = await bundle('ES256', 'right one');
    const wrong = await importBundle(file, 'wrong one');
    assert.equal(wrong.status, 400);
    assert.match((await problem(wrong)).detail, /passphrase is wrong/);
    const garbage = await harness.admin('POST', '/admin/v1/keys/import', { pkcs12: Buffer.from('not a bundle').toString('base64'), passphrase: 'x' });
    assert.equal(garbage.status, 400);
    assert.match((await problem(garbage)).detail, /not a readable PKCS#12/);
  });
});

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevelopmentPki, loadIdentity, signerFromPem } from '../../certs/dev-pki.ts';
import { generateKeyPair, toPem } from '../../certs/issue.ts';
import { parseSignatureHeader, signDetached, verifyDetached } from '../../certs/jws.ts';
import { TrustStore } from '../../certs/trust-store.ts';
import { makePartnerPki } from '../support/pki.ts';

describe('Huzhou signing identity', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xr-identity-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('development PKI', () => {
    it('is a signing certificate naming the region, issued by a ten-year development CA', async () => {
      const identity = await createDevelopmentPki('330500');
      const signer = signerFromPem(identity, { key: 'k', certificate: 'c', chain: 'c' });
      assert.equal(signer.alg, 'ES256');
      const [leaf, ca] = signer.chain;
      assert.match(leaf?.subject ?? '', /330500/);
      assert.ok(ca?.ca && leaf?.checkIssued(ca));
      assert.ok(Date.parse(ca?.validTo ?? '') > Date.now() + 9 * 365 * 24 * 3600 * 1000);
      assert.doesNotMatch(identity.chainPem.join(''), /PRIVATE KEY/);
    });

    it('is made anew on each call (the caller keeps it)', async () => {
      const [a, b] = await Promise.all([createDevelopmentPki('330500'), createDevelopmentPki('330500')]);
      assert.notEqual(a.privateKeyPem, b.privateKeyPem);
    });

    it('signs messages that a partner trusting its CA accepts', async () => {
      const identity = await createDevelopmentPki('330500');
      const signer = signerFromPem(identity, { key: 'k', certificate: 'c', chain: 'c' });
      const partnerView = new TrustStore();
      partnerView.addAnchors('330500', identity.chainPem[1]!);
      const body = Buffer.from('{"applyNo":"HZ-1"}');
      const parsed = parseSignatureHeader(await signDetached(body, { iss: '330500', aud: '310000', jti: 'j' }, signer, { includeX5c: true }), ['ES256']);
      await verifyDetached(parsed, body, partnerView.resolveSigner('330500', parsed.header.kid, parsed.header.x5c, new Date()));
    });

    it('refuses a region that is not a six-digit code', async () => {
      await assert.rejects(createDevelopmentPki('3305'), /6-digit/);
    });

    it('refuses stored text whose key does not match the certificate, naming the source and not the key', async () => {
      const identity = await createDevelopmentPki('330500');
      const other = await createDevelopmentPki('330500');
      assert.throws(
        () => signerFromPem({ privateKeyPem: other.privateKeyPem, chainPem: identity.chainPem }, { key: 'the stored signing key', certificate: 'the stored certificate', chain: 'x' }),
        (error: Error) => /the stored signing key does not match the stored certificate/.test(error.message) && !/PRIVATE/.test(error.message),
      );
    });
  });

  describe('configured PEM files', () => {
    async function write(name: string, text: string): Promise<string> {
      const file = join(dir, name);
      await writeFile(file, text);
      return file;
    }

    it('loads key, certificate and chain, deriving alg from the key type', async () => {
      for (const [alg, expected] of [['PS256', 'PS256'], ['RS256', 'PS256'], ['EdDSA', 'EdDSA']] as const) {
        const pki = await makePartnerPki('330500', { alg });
        const { signer, pem } = await pki.issueLeaf();
        const loaded = await loadIdentity({
          keyFile: await write(`${alg}.key`, toPem(signer.privateKey)),
          certFile: await write(`${alg}.pem`, pem),
          chainFile: await write(`${alg}-ca.pem`, pki.caPem),
        });
        assert.equal(loaded.alg, expected);
        assert.equal(loaded.kid, signer.kid);
        assert.equal(loaded.chain.length, 2);
      }
    });

    it('refuses a key that does not match the certificate, naming the file and not the key', async () => {
      const pki = await makePartnerPki('330500');
      const stranger = toPem((await generateKeyPair('ES256')).privateKey);
      const keyFile = await write('wrong.key', stranger);
      const certFile = await write('signing.pem', (await pki.issueLeaf()).pem);
      await assert.rejects(loadIdentity({ keyFile, certFile }), (error: Error) => {
        assert.ok(error.message.includes(keyFile) && error.message.includes(certFile));
        assert.ok(!error.message.includes(stranger.split('\n')[1] ?? 'unreachable'));
        return true;
      });
    });

    it('refuses garbage, missing files and a misordered chain, naming the file', async () => {
      const pki = await makePartnerPki('330500');
      const { signer, pem } = await pki.issueLeaf();
      const keyFile = await write('signing.key', toPem(signer.privateKey));
      const certFile = await write('signing.pem', pem);
      const garbage = await write('garbage.pem', 'not a pem at all');
      const other = await makePartnerPki('320100');
      const wrongChain = await write('wrong-chain.pem', other.caPem);
      const missing = join(dir, 'absent.key');
      await assert.rejects(loadIdentity({ keyFile: garbage, certFile }), new RegExp(`signing key file ${garbage}`));
      await assert.rejects(loadIdentity({ keyFile, certFile: garbage }), new RegExp(`certificate file ${garbage}`));
      await assert.rejects(loadIdentity({ keyFile: missing, certFile }), new RegExp(`cannot read signing key file ${missing} \\(ENOENT\\)`));
      await assert.rejects(loadIdentity({ keyFile, certFile, chainFile: wrongChain }), new RegExp(wrongChain));
    });
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { generateKeyPair, issueCertificate, toPem } from '../../certs/issue.ts';
import { readKeyUsage } from '../../certs/key-usage.ts';
import { kidOf } from '../../certs/thumbprint.ts';
import { SIGNATURE_ALGORITHMS } from '../../gateway/protocol/messages.ts';

describe('certificate issuance', () => {
  it('issues a self-signed ES256 CA that verifies with its own key', async () => {
    const keys = await generateKeyPair('ES256');
    const { cert, pem } = await issueCertificate({ subject: 'CN=Huzhou XR CA,O=Huzhou,C=CN', publicKey: keys.publicKey, privateKey: keys.privateKey, isCa: true });
    assert.ok(cert.ca && cert.verify(keys.publicKey) && cert.checkIssued(cert));
    assert.equal(cert.subject, 'CN=Huzhou XR CA\nO=Huzhou\nC=CN');
    assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
    assert.deepEqual(readKeyUsage(cert.raw), { digitalSignature: false, keyCertSign: true });
  });

  for (const alg of SIGNATURE_ALGORITHMS) {
    it(`issues a ${alg} signing certificate from an ES256 CA`, async () => {
      const caKeys = await generateKeyPair('ES256');
      const ca = await issueCertificate({ subject: 'CN=CA', publicKey: caKeys.publicKey, privateKey: caKeys.privateKey, isCa: true });
      const keys = await generateKeyPair(alg);
      const { cert } = await issueCertificate({ subject: 'CN=Signer', publicKey: keys.publicKey, issuer: { cert: ca.cert, privateKey: caKeys.privateKey }, isCa: false, serial: '0a1b' });
      assert.ok(cert.checkIssued(ca.cert) && cert.verify(caKeys.publicKey) && cert.checkPrivateKey(keys.privateKey));
      assert.equal(cert.ca, false);
      assert.equal(cert.serialNumber, '0A1B');
      assert.deepEqual(readKeyUsage(cert.raw), { digitalSignature: true, keyCertSign: false });
    });
  }

  it('writes the requested key usage, or none at all', async () => {
    const keys = await generateKeyPair('EdDSA');
    const make = (keyUsage: 'none' | 'encipherOnly') =>
      issueCertificate({ subject: 'CN=Usage', publicKey: keys.publicKey, privateKey: keys.privateKey, isCa: false, keyUsage });
    assert.equal(readKeyUsage((await make('none')).cert.raw), undefined);
    assert.deepEqual(readKeyUsage((await make('encipherOnly')).cert.raw), { digitalSignature: false, keyCertSign: false });
  });

  it('keeps the requested validity period to the second', async () => {
    const keys = await generateKeyPair('ES256');
    const notBefore = new Date('2030-01-02T03:04:05Z');
    const notAfter = new Date('2031-01-02T03:04:05Z');
    const { cert } = await issueCertificate({ subject: 'CN=Later', publicKey: keys.publicKey, privateKey: keys.privateKey, isCa: false, notBefore, notAfter });
    assert.equal(Date.parse(cert.validFrom), notBefore.getTime());
    assert.equal(Date.parse(cert.validTo), notAfter.getTime());
  });

  it('refuses an issuer whose private key does not match its certificate', async () => {
    const caKeys = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const ca = await issueCertificate({ subject: 'CN=CA', publicKey: caKeys.publicKey, privateKey: caKeys.privateKey, isCa: true });
    await assert.rejects(issueCertificate({ subject: 'CN=X', publicKey: other.publicKey, issuer: { cert: ca.cert, privateKey: other.privateKey }, isCa: false }), /does not match/);
  });

  it('computes kid as the base64url SHA-256 of the DER (x5t#S256)', async () => {
    const keys = await generateKeyPair('ES256');
    const { cert } = await issueCertificate({ subject: 'CN=Kid', publicKey: keys.publicKey, privateKey: keys.privateKey, isCa: false });
    assert.equal(kidOf(cert), createHash('sha256').update(cert.raw).digest().toString('base64url'));
    assert.equal(kidOf(cert).length, 43);
  });

  it('exports private keys as PKCS#8 PEM and public keys as SPKI PEM', async () => {
    const keys = await generateKeyPair('RS256');
    assert.match(toPem(keys.privateKey), /^-----BEGIN PRIVATE KEY-----/);
    assert.match(toPem(keys.publicKey), /^-----BEGIN PUBLIC KEY-----/);
  });
});

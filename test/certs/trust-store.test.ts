import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { X509Certificate } from 'node:crypto';
import { TrustStore } from '../../certs/trust-store.ts';
import { generateKeyPair, issueCertificate, toPem } from '../../certs/issue.ts';
import { parseSignatureHeader, signDetached, verifyDetached, type Signer } from '../../certs/jws.ts';
import { kidOf } from '../../certs/thumbprint.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';
import { throwsCode } from './assert-code.ts';

const SHANGHAI = '310000';
const NANJING = '320100';
const DAY_MS = 24 * 60 * 60 * 1000;
const YEAR_MS = 365 * DAY_MS;

function x5cOf(signer: Signer): string[] {
  return signer.chain.map((cert) => cert.raw.toString('base64'));
}

function leafOf(signer: Signer) {
  const [leaf] = signer.chain;
  assert.ok(leaf);
  return leaf;
}

describe('TrustStore', () => {
  let shanghai: PartnerPki;
  let nanjing: PartnerPki;
  let store: TrustStore;
  const now = new Date();

  before(async () => {
    shanghai = await makePartnerPki(SHANGHAI);
    nanjing = await makePartnerPki(NANJING);
  });

  beforeEach(() => {
    store = new TrustStore();
    store.addAnchors(SHANGHAI, shanghai.caPem);
    store.addAnchors(NANJING, nanjing.caPem);
  });

  function resolve(signer: Signer, at = now, iss = SHANGHAI) {
    return store.resolveSigner(iss, signer.kid, x5cOf(signer), at);
  }

  describe('finding the signer key', () => {
    it('accepts a signer whose x5c leaf is issued by the CA registered for iss', () => {
      assert.ok(leafOf(shanghai.signer).publicKey.equals(resolve(shanghai.signer)));
    });

    it('builds the chain through an x5c intermediate up to the registered CA', async () => {
      const intermediate = await shanghai.issueIntermediate();
      const { signer } = await shanghai.issueLeaf({ issuer: intermediate });
      assert.equal(signer.chain.length, 2);
      const body = Buffer.from('{"status":"RECEIVED"}');
      const parsed = parseSignatureHeader(await signDetached(body, { iss: SHANGHAI, aud: '330500', jti: 'j1' }, signer, { includeX5c: true }), ['ES256']);
      const key = store.resolveSigner(parsed.header.iss, parsed.header.kid, parsed.header.x5c, now);
      await verifyDetached(parsed, body, key);
    });

    it('refuses a chain whose intermediate is missing from x5c', async () => {
      const intermediate = await shanghai.issueIntermediate();
      const { signer } = await shanghai.issueLeaf({ issuer: intermediate });
      throwsCode(() => store.resolveSigner(SHANGHAI, signer.kid, [x5cOf(signer)[0] ?? ''], now), 'XR_CERT_UNTRUSTED');
    });

    it('accepts a partner signer certificate pinned directly, without x5c', async () => {
      const { signer, pem } = await nanjing.issueLeaf();
      const pinnedOnly = new TrustStore();
      pinnedOnly.addAnchors(NANJING, pem);
      assert.ok(leafOf(signer).publicKey.equals(pinnedOnly.resolveSigner(NANJING, signer.kid, undefined, now)));
    });

    it('refuses a kid that is neither registered nor sent in x5c', () => {
      throwsCode(() => store.resolveSigner(SHANGHAI, shanghai.signer.kid, undefined, now), 'XR_CERT_UNTRUSTED');
    });

    it("refuses a certificate issued by another region's CA with XR_CERT_UNTRUSTED", async () => {
      throwsCode(() => resolve(nanjing.signer, now, SHANGHAI), 'XR_CERT_UNTRUSTED');
      const { signer, pem } = await nanjing.issueLeaf();
      store.addAnchors(NANJING, pem);
      throwsCode(() => store.resolveSigner(SHANGHAI, signer.kid, undefined, now), 'XR_CERT_UNTRUSTED');
    });

    it('refuses a region with no trust anchor', () => {
      throwsCode(() => resolve(shanghai.signer, now, '440300'), 'XR_CERT_UNTRUSTED');
    });

    it('refuses an x5c whose first certificate does not have the thumbprint named by kid', async () => {
      const { signer: other } = await shanghai.issueLeaf();
      throwsCode(() => store.resolveSigner(SHANGHAI, shanghai.signer.kid, x5cOf(other), now), 'XR_CERT_UNTRUSTED', /x5c\[0\] is not the certificate named by kid/);
    });

    it('refuses an x5c entry that is not a certificate', () => {
      const garbage = Buffer.from('not a certificate').toString('base64');
      throwsCode(() => store.resolveSigner(SHANGHAI, shanghai.signer.kid, [x5cOf(shanghai.signer)[0] ?? '', garbage], now), 'XR_CERT_UNTRUSTED', /x5c\[1\]/);
    });
  });

  describe('validity and key usage', () => {
    it('refuses an expired signer certificate with XR_CERT_EXPIRED', async () => {
      const { signer } = await shanghai.issueLeaf({ notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
      throwsCode(() => resolve(signer), 'XR_CERT_EXPIRED');
    });

    it('refuses a not-yet-valid signer certificate with XR_CERT_EXPIRED', async () => {
      const { signer } = await shanghai.issueLeaf({ notBefore: new Date(Date.now() + DAY_MS) });
      throwsCode(() => resolve(signer), 'XR_CERT_EXPIRED');
    });

    it('refuses a valid leaf whose CA has expired at the given time', async () => {
      const { signer } = await shanghai.issueLeaf({ notAfter: new Date(Date.now() + 20 * YEAR_MS) });
      resolve(signer);
      throwsCode(() => resolve(signer, new Date(Date.now() + 15 * YEAR_MS)), 'XR_CERT_EXPIRED');
    });

    it('still checks validity against now when the resolution comes from the cache', () => {
      const first = resolve(shanghai.signer);
      assert.equal(resolve(shanghai.signer), first, 'the cached KeyObject instance is handed out again');
      throwsCode(() => resolve(shanghai.signer, new Date(Date.now() + 3 * YEAR_MS)), 'XR_CERT_EXPIRED');
      throwsCode(() => resolve(shanghai.signer, new Date(Date.now() - DAY_MS)), 'XR_CERT_EXPIRED');
    });

    it('refuses a signer whose key usage lacks digitalSignature with XR_CERT_UNTRUSTED', async () => {
      const { signer } = await shanghai.issueLeaf({ keyUsage: 'encipherOnly' });
      throwsCode(() => resolve(signer), 'XR_CERT_UNTRUSTED', /digitalSignature/);
    });

    it('accepts a signer certificate without a key usage extension', async () => {
      const { signer } = await shanghai.issueLeaf({ keyUsage: 'none' });
      assert.ok(resolve(signer));
    });

    it('refuses a chain through a certificate that is not a CA', async () => {
      const keys = await generateKeyPair('ES256');
      const notCa = await issueCertificate({ subject: 'CN=Not a CA,O=Partner,C=CN', publicKey: keys.publicKey, issuer: shanghai.ca, isCa: false, keyUsage: 'none' });
      const { signer } = await shanghai.issueLeaf({ issuer: { ...notCa, privateKey: keys.privateKey } });
      throwsCode(() => resolve(signer), 'XR_CERT_UNTRUSTED', /is not a CA/);
    });

    it('reports the validity period before the key usage, and the key usage before revocation (PROTOCOL §2\'s order)', async () => {
      const expired = await shanghai.issueLeaf({ keyUsage: 'encipherOnly', notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
      throwsCode(() => resolve(expired.signer), 'XR_CERT_EXPIRED');
      const revoked = await shanghai.issueLeaf({ keyUsage: 'encipherOnly' });
      store.revoke(SHANGHAI, { kid: revoked.signer.kid });
      throwsCode(() => resolve(revoked.signer), 'XR_CERT_UNTRUSTED', /digitalSignature/);
    });

    it('reports an untrusted chain before expiry, and expiry before revocation', async () => {
      const { signer } = await shanghai.issueLeaf({ notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
      store.revoke(SHANGHAI, { kid: signer.kid });
      throwsCode(() => resolve(signer), 'XR_CERT_EXPIRED');
      throwsCode(() => resolve(signer, now, NANJING), 'XR_CERT_UNTRUSTED');
    });
  });

  describe('revocation', () => {
    it('refuses a signer revoked by kid with XR_CERT_REVOKED, also after it was cached', () => {
      resolve(shanghai.signer);
      store.revoke(SHANGHAI, { kid: shanghai.signer.kid });
      throwsCode(() => resolve(shanghai.signer), 'XR_CERT_REVOKED');
    });

    it('refuses a signer revoked by serial, however the serial is written', async () => {
      const { signer } = await shanghai.issueLeaf({ serial: '0a1b2c3d' });
      resolve(signer);
      store.revoke(SHANGHAI, { serial: '0A:1B:2C:3D' });
      throwsCode(() => resolve(signer), 'XR_CERT_REVOKED');
    });

    it('refuses every signer below a revoked intermediate', async () => {
      const intermediate = await shanghai.issueIntermediate();
      const { signer } = await shanghai.issueLeaf({ issuer: intermediate });
      resolve(signer);
      store.revoke(SHANGHAI, { serial: intermediate.cert.serialNumber });
      throwsCode(() => resolve(signer), 'XR_CERT_REVOKED');
    });

    it("leaves other regions' signers alone", () => {
      store.revoke(SHANGHAI, { kid: nanjing.signer.kid });
      assert.ok(resolve(nanjing.signer, now, NANJING));
    });

    it('refuses a revocation that names nothing usable with XR_BAD_REQUEST', () => {
      throwsCode(() => store.revoke(SHANGHAI, { kid: 'short' }), 'XR_BAD_REQUEST');
      throwsCode(() => store.revoke(SHANGHAI, { serial: 'xyz' }), 'XR_BAD_REQUEST');
      throwsCode(() => store.revoke('31', { serial: '01' }), 'XR_BAD_REQUEST');
    });
  });

  describe('registering anchors', () => {
    it('answers kid, subject and notAfter for each certificate of a bundle', async () => {
      const { pem } = await shanghai.issueLeaf();
      const infos = new TrustStore().addAnchors(SHANGHAI, `${shanghai.caPem}\n${pem}`);
      assert.equal(infos.length, 2);
      assert.deepEqual(infos[0], {
        kid: kidOf(shanghai.ca.cert),
        subject: `CN=XR CA ${SHANGHAI}, O=Partner ${SHANGHAI}, C=CN`,
        notAfter: new Date(shanghai.ca.cert.validTo).toISOString(),
      });
    });

    it('replaces the anchors of a region with setAnchors, keeping other regions', () => {
      store.setAnchors(SHANGHAI, [nanjing.caPem]);
      throwsCode(() => resolve(shanghai.signer), 'XR_CERT_UNTRUSTED');
      assert.ok(resolve(nanjing.signer, now, SHANGHAI));
      assert.ok(resolve(nanjing.signer, now, NANJING));
    });

    it('gives a region\'s anchors as PEM for TLS, made once and made again when they change', async () => {
      const pems = store.anchorPems(SHANGHAI);
      assert.deepEqual(pems.map((pem) => new X509Certificate(pem).fingerprint256), [shanghai.ca.cert.fingerprint256]);
      assert.equal(store.anchorPems(SHANGHAI), pems, 'the same array for every attempt');
      const { pem } = await shanghai.issueLeaf();
      store.addAnchors(SHANGHAI, pem);
      assert.equal(store.anchorPems(SHANGHAI).length, 2);
      store.setAnchors(SHANGHAI, [nanjing.caPem]);
      assert.deepEqual(store.anchorPems(SHANGHAI).map((text) => new X509Certificate(text).fingerprint256), [nanjing.ca.cert.fingerprint256]);
      assert.deepEqual(store.anchorPems('310117'), [], 'a region without anchors trusts nothing');
    });

    it('forgets a region entirely with removeRegion', () => {
      resolve(shanghai.signer);
      store.removeRegion(SHANGHAI);
      assert.deepEqual(store.listAnchors(SHANGHAI), []);
      throwsCode(() => resolve(shanghai.signer), 'XR_CERT_UNTRUSTED');
    });

    it('refuses text without a certificate, a private key, and a corrupted certificate with XR_BAD_REQUEST', async () => {
      const keys = await generateKeyPair('ES256');
      const corrupted = shanghai.caPem.replace(/(-----BEGIN CERTIFICATE-----\n)(....)/, '$1AAAA');
      for (const text of ['hello', '', toPem(keys.privateKey), corrupted, '-----BEGIN CERTIFICATE-----\nMIIB']) {
        throwsCode(() => store.addAnchors(SHANGHAI, text), 'XR_BAD_REQUEST');
      }
    });

    it('adds nothing from a bundle with one bad certificate', () => {
      const fresh = new TrustStore();
      throwsCode(() => fresh.addAnchors(SHANGHAI, `${shanghai.caPem}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`), 'XR_BAD_REQUEST');
      assert.deepEqual(fresh.listAnchors(SHANGHAI), []);
    });

    it('names the kind of a refused block without echoing its content', async () => {
      const keys = await generateKeyPair('ES256');
      const pem = toPem(keys.privateKey);
      assert.throws(() => store.addAnchors(SHANGHAI, pem), (error: Error) => {
        assert.match(error.message, /PRIVATE KEY block/);
        assert.ok(!error.message.includes(pem.split('\n')[1] ?? 'unreachable'));
        return true;
      });
    });
  });
});

import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config/settings.ts';
import { SimulatedBackend } from '../support/backend.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makeAuthority, partnerVerifier, tlsCertificateFrom, type Authority } from '../support/keys.ts';
import { requestHeader, signRaw } from '../support/partner-client.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';
import { httpsRequest, type TlsClientOptions } from '../support/tls-client.ts';

const PARTNER = '320500';
const PASSPHRASE = 'tls key passphrase 0123';
const STATUS = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../shared/fixtures/js-xml/application.status.request.canonical.json'), 'utf8')) as Record<string, unknown>;

describe('TLS on the partner listener, with client certificates from registered partner CAs (mutual TLS)', function () {
  let scratch: string;
  let huzhouTlsCa: Authority;
  let partner: PartnerPki;
  let partnerClient: { certPem: string; keyPem: string };
  let strangerCa: Authority;
  let strangerClient: { certPem: string; keyPem: string };
  let backend: SimulatedBackend;
  let tlsEnv: Record<string, string>;

  before(async function () {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'xr-tls-'));
    huzhouTlsCa = await makeAuthority('CN=Huzhou TLS CA,O=Huzhou,C=CN');
    const server = await huzhouTlsCa.issueTls();
    const encryptedKey = createPrivateKey(server.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }).toString();
    tlsEnv = {
      XR_TLS_CERT_FILE: path.join(scratch, 'tls.pem'), XR_TLS_KEY_FILE: path.join(scratch, 'tls.key'), XR_KEY_PASSPHRASE: PASSPHRASE,
    };
    writeFileSync(tlsEnv.XR_TLS_CERT_FILE!, server.certPem + huzhouTlsCa.pem);
    writeFileSync(tlsEnv.XR_TLS_KEY_FILE!, encryptedKey);
    partner = await makePartnerPki(PARTNER);
    partnerClient = await tlsCertificateFrom(partner.ca, { subject: 'CN=xr.suzhou.example' });
    strangerCa = await makeAuthority('CN=Unregistered CA,O=Nowhere,C=CN');
    strangerClient = await strangerCa.issueTls({ subject: 'CN=stranger' });
    backend = await SimulatedBackend.start();
  });

  after(async function () {
    await backend.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function gatewayWith(clientAuth: 'require' | 'optional'): Promise<TestGateway> {
    const harness = await startTestGateway({ ...tlsEnv, XR_TLS_CLIENT_AUTH: clientAuth, XR_LOCAL_BACKEND_URL: backend.url });
    assert.equal((await harness.admin('PUT', `/admin/v1/partners/${PARTNER}`, { name: '苏州', endpoint: 'https://127.0.0.1:9', format: 'hz-json', services: ['application.status'] })).status, 200);
    assert.equal((await harness.admin('POST', `/admin/v1/partners/${PARTNER}/trust`, partner.caPem)).status, 201);
    return harness;
  }

  function signedStatus(harness: TestGateway, client: Partial<TlsClientOptions>) {
    const header = requestHeader(partner.signer, { iss: PARTNER, messageType: 'application.status' });
    const body = Buffer.from(JSON.stringify(STATUS));
    const answer = httpsRequest(`${harness.gateway.urls.partner}/xr/v1/messages/application.status`, {
      ca: huzhouTlsCa.pem, ...client, method: 'POST', body,
      headers: { 'content-type': 'application/json', 'x-xr-signature': signRaw(header, body, partner.signer.privateKey, partner.signer.alg) },
    });
    return { jti: String(header.jti), answer };
  }

  /** Any HTTP answer at all: the TLS handshake was accepted. */
  const unsignedPost = (harness: TestGateway, client: Partial<TlsClientOptions>) => httpsRequest(`${harness.gateway.urls.partner}/xr/v1/messages/application.status`, {
    ca: huzhouTlsCa.pem, ...client, method: 'POST', body: Buffer.from('{}'), headers: { 'content-type': 'application/json' },
  });

  async function refusedInHandshake(attempt: Promise<unknown>): Promise<void> {
    await assert.rejects(attempt, (error: NodeJS.ErrnoException) => {
      assert.match(String(error.code), /^(ECONNRESET|EPIPE|ERR_SSL_.*ALERT.*)$/);
      return true;
    });
  }

  describe('XR_TLS_CLIENT_AUTH=require', function () {
    let harness: TestGateway;
    before(async function () {
      harness = await gatewayWith('require');
    });
    after(async function () {
      await harness.stop();
    });

    it('serves HTTPS with the configured certificate (its key encrypted with XR_KEY_PASSPHRASE), and answers a partner whose client certificate its registered CA issued', async function () {
      assert.match(harness.gateway.urls.partner, /^https:\/\/127\.0\.0\.1:\d+$/);
      const { jti, answer } = signedStatus(harness, partnerClient);
      const answered = await answer;
      assert.equal(answered.status, 200, answered.body.toString());
      const identity = await (await fetch(`${harness.gateway.urls.admin}/admin/v1/identity`)).json() as { chain: string[] };
      await partnerVerifier(identity.chain.at(-1)!).verify(answered, PARTNER, jti, Date.now());
    });

    it('refuses in the handshake a client certificate from a CA no partner registered, and a client without one; nothing reaches the backend', async function () {
      const calls = backend.calls.length;
      await refusedInHandshake(signedStatus(harness, strangerClient).answer);
      await refusedInHandshake(signedStatus(harness, {}).answer);
      assert.equal(backend.calls.length, calls);
    });

    it('accepts a CA registered while it runs, from the next connection on, without a restart', async function () {
      await refusedInHandshake(unsignedPost(harness, strangerClient));
      assert.equal((await harness.admin('PUT', '/admin/v1/partners/330100', { name: '杭州', endpoint: 'https://127.0.0.1:9', format: 'zj-xml', services: ['application.status'] })).status, 200);
      assert.equal((await harness.admin('POST', '/admin/v1/partners/330100/trust', strangerCa.pem)).status, 201);
      const answered = await unsignedPost(harness, strangerClient);
      assert.deepEqual([answered.status, answered.json().code], [401, 'XR_SIGNATURE_MISSING']);
    });
  });

  describe('XR_TLS_CLIENT_AUTH=optional', function () {
    let harness: TestGateway;
    before(async function () {
      harness = await gatewayWith('optional');
    });
    after(async function () {
      await harness.stop();
    });

    it('admits a client without a certificate (the XR/1 signature still decides) and one with a registered CA\'s certificate', async function () {
      assert.equal((await signedStatus(harness, {}).answer).status, 200);
      assert.equal((await signedStatus(harness, partnerClient).answer).status, 200);
    });

    it('closes the connection of a client whose certificate no registered CA issued', async function () {
      await refusedInHandshake(unsignedPost(harness, strangerClient));
    });
  });

  describe('configuration', function () {
    async function refusal(env: Record<string, string>): Promise<ConfigError> {
      try {
        const harness = await startTestGateway(env);
        await harness.stop();
      } catch (error) {
        if (error instanceof ConfigError) return error;
        throw error;
      }
      return assert.fail('the gateway started');
    }

    it('refuses client certificates without TLS, a key that is not the certificate\'s, and an encrypted key without the passphrase', async function () {
      assert.equal((await refusal({ XR_TLS_CLIENT_AUTH: 'require' })).variable, 'XR_TLS_CLIENT_AUTH');
      assert.equal((await refusal({ ...tlsEnv, XR_TLS_CLIENT_AUTH: 'sometimes' })).variable, 'XR_TLS_CLIENT_AUTH');
      assert.equal((await refusal({ XR_TLS_CERT_FILE: tlsEnv.XR_TLS_CERT_FILE! })).variable, 'XR_TLS_KEY_FILE');
      const otherKey = path.join(scratch, 'other.key');
      writeFileSync(otherKey, partnerClient.keyPem);
      const mismatch = await refusal({ ...tlsEnv, XR_TLS_KEY_FILE: otherKey });
      assert.deepEqual([mismatch.variable, /does not match/.test(mismatch.message)], ['XR_TLS_KEY_FILE', true]);
      const locked = await refusal({ XR_TLS_CERT_FILE: tlsEnv.XR_TLS_CERT_FILE!, XR_TLS_KEY_FILE: tlsEnv.XR_TLS_KEY_FILE! });
      assert.deepEqual([locked.variable, /XR_KEY_PASSPHRASE/.test(locked.message)], ['XR_TLS_KEY_FILE', true]);
    });
  });
});

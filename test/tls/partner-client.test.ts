import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { TrustStore } from '../../certs/trust-store.ts';
import { HttpClient } from '../../gateway/http/client.ts';
import { partnerTlsOptions } from '../../gateway/tls/partner-client-tls.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makeAuthority, tlsCertificateFrom, type Authority } from '../support/keys.ts';
import { outboundMessage, queue, watchSettlements } from '../support/outbound.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';
import { closeServer, listenOnLoopback } from '../support/loopback.ts';

interface Received { path: string; signature: string | undefined; clientCertificate: string | undefined }

/** A partner's HTTPS endpoint: records each request (and the client certificate it came with), answers 503. */
class HttpsPartner {
  readonly received: Received[] = [];
  private constructor(private readonly server: https.Server) {}

  static async start(certificate: { certPem: string; keyPem: string }, clientCa?: string): Promise<HttpsPartner> {
    let partner!: HttpsPartner;
    const server = https.createServer({
      cert: certificate.certPem, key: certificate.keyPem,
      ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: true }),
    }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      req.resume();
      req.on('end', () => {
        partner.received.push({ path: req.url ?? '', signature: req.headers['x-xr-signature'] as string | undefined, clientCertificate: peer.subject?.CN as string | undefined });
        const body = Buffer.from('{"code":"XR_UPSTREAM"}');
        res.writeHead(503, { 'content-type': 'application/problem+json', 'content-length': body.length }).end(body);
      });
    });
    partner = new HttpsPartner(server);
    await listenOnLoopback(server);
    return partner;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }
}

describe('TLS to partners: a partner\'s server certificate must chain to the CA registered for its region', function () {
  let suzhou: PartnerPki;
  let trust: TrustStore;
  let huzhouTlsCa: Authority;
  let huzhouClient: { certPem: string; keyPem: string };
  const started: HttpsPartner[] = [];

  before(async function () {
    suzhou = await makePartnerPki('320500');
    trust = new TrustStore();
    trust.addAnchors('320500', suzhou.caPem);
    huzhouTlsCa = await makeAuthority('CN=Huzhou TLS CA,O=Huzhou,C=CN');
    huzhouClient = await huzhouTlsCa.issueTls({ subject: 'CN=xr.huzhou.example' });
  });

  after(async function () {
    await Promise.all(started.map((partner) => partner.stop()));
  });

  async function partnerServer(certificate: Promise<{ certPem: string; keyPem: string }>, clientCa?: string): Promise<HttpsPartner> {
    const partner = await HttpsPartner.start(await certificate, clientCa);
    started.push(partner);
    return partner;
  }

  const http = new HttpClient();
  after(function () {
    http.close();
  });

  const call = (url: string, region: string, client?: { certPem: string; keyPem: string }) =>
    http.request({
      method: 'POST', url: new URL(`${url}/xr/v1/messages/application.submit`), body: '{}', timeoutMs: 10_000,
      tls: partnerTlsOptions(trust, region, client && { certificate: client.certPem, key: client.keyPem }),
    });

  it('connects to a partner whose certificate its registered CA issued for that host', async function () {
    const partner = await partnerServer(tlsCertificateFrom(suzhou.ca));
    assert.equal((await call(partner.url, '320500')).statusCode, 503);
  });

  for (const [name, certificate, region, code] of [
    ['a certificate from a CA nobody registered', async () => (await makeAuthority('CN=Public-looking CA')).issueTls(), '320500', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['a certificate from another region\'s CA', async () => tlsCertificateFrom((await makePartnerPki('330100')).ca), '320500', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['a certificate for another host', async () => tlsCertificateFrom(suzhou.ca, { ip: ['127.0.0.2'] }), '320500', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['any certificate, for a region with no registered CA', async () => tlsCertificateFrom(suzhou.ca), '310117', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  ] as const) {
    it(`refuses ${name}`, async function () {
      const partner = await partnerServer(certificate());
      await assert.rejects(call(partner.url, region), { code });
      assert.equal(partner.received.length, 0);
    });
  }

  it('never reuses a connection verified under another region\'s anchors', async function () {
    const partner = await partnerServer(tlsCertificateFrom(suzhou.ca));
    assert.equal((await call(partner.url, '320500')).statusCode, 503);
    // The same origin, kept alive — but for a region whose anchors did not issue its certificate.
    await assert.rejects(call(partner.url, '310117'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    assert.equal(partner.received.length, 1);
    assert.equal((await call(partner.url, '320500')).statusCode, 503);
  });

  it('presents Huzhou\'s TLS certificate to a partner that requires mutual TLS', async function () {
    const partner = await partnerServer(tlsCertificateFrom(suzhou.ca), huzhouTlsCa.pem);
    await assert.rejects(call(partner.url, '320500'));
    assert.equal((await call(partner.url, '320500', huzhouClient)).statusCode, 503);
    assert.equal(partner.received.at(-1)?.clientCertificate, 'xr.huzhou.example');
  });

  it('never sends a request that ended while its connection was still being made', async function () {
    // The TCP connection is accepted and held; the TLS handshake starts only after the request timed out.
    const certificate = await tlsCertificateFrom(suzhou.ca);
    const received: string[] = [];
    const tlsServer = https.createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
      received.push(req.url ?? '');
      res.end();
    });
    const held: Socket[] = [];
    const gate = net.createServer((socket) => held.push(socket)).listen(0, '127.0.0.1');
    await once(gate, 'listening');
    try {
      const url = new URL(`https://127.0.0.1:${(gate.address() as AddressInfo).port}/xr/v1/messages/application.submit`);
      await assert.rejects(http.request({ method: 'POST', url, body: '{}', timeoutMs: 50, tls: partnerTlsOptions(trust, '320500') }), { code: 'ETIMEDOUT' });
      assert.equal(held.length, 1);
      const socket = held[0]!;
      const closed = once(socket, 'close');
      tlsServer.emit('connection', socket);
      await closed;
      assert.deepEqual(received, [], 'the timed-out request was not sent once the connection was made');
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => gate.close(resolve));
    }
  });

  describe('in delivery (PROTOCOL §6)', function () {
    let harness: TestGateway;
    let scratch: string;

    before(async function () {
      scratch = mkdtempSync(path.join(os.tmpdir(), 'xr-tls-out-'));
      const server = await huzhouTlsCa.issueTls();
      writeFileSync(path.join(scratch, 'tls.pem'), server.certPem);
      writeFileSync(path.join(scratch, 'tls.key'), server.keyPem);
      harness = await startTestGateway({ XR_TLS_CERT_FILE: path.join(scratch, 'tls.pem'), XR_TLS_KEY_FILE: path.join(scratch, 'tls.key') });
    });

    after(async function () {
      await harness.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    async function register(region: string, format: string, endpoint: string, caPem: string): Promise<void> {
      assert.equal((await harness.admin('PUT', `/admin/v1/partners/${region}`, { name: region, endpoint, format, services: ['application.submit'], delivery: { maxAttempts: 1 } })).status, 200);
      assert.equal((await harness.admin('POST', `/admin/v1/partners/${region}/trust`, caPem)).status, 201);
    }

    it('sends to a partner whose certificate chains to its registered CA, with Huzhou\'s client certificate and x5c in the signature', async function () {
      const partner = await partnerServer(tlsCertificateFrom(suzhou.ca), huzhouTlsCa.pem);
      await register('320500', 'js-xml', partner.url, suzhou.caPem);
      const watch = watchSettlements(harness.gateway);
      const id = await queue(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', '320500'));
      await watch.until(id, 'dead');
      watch.stop();
      assert.equal(partner.received.length, 1);
      assert.equal(partner.received[0]!.clientCertificate, '127.0.0.1');
      const header = JSON.parse(Buffer.from(partner.received[0]!.signature!.split('.')[0]!, 'base64url').toString('utf8')) as { x5c?: string[] };
      assert.equal(header.x5c?.length, 2);
    });

    it('never sends to a partner whose certificate its registered CA did not issue, and says why', async function () {
      const impostor = await partnerServer((await makeAuthority('CN=Impostor CA')).issueTls());
      const hangzhou = await makePartnerPki('330100');
      await register('330100', 'zj-xml', impostor.url, hangzhou.caPem);
      const watch = watchSettlements(harness.gateway);
      const id = await queue(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', '330100'));
      const dead = await watch.until(id, 'dead');
      watch.stop();
      assert.match(dead.lastError ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      assert.equal(impostor.received.length, 0);
    });
  });
});

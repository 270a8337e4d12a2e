/**
 * HTTPS for the partner listener (XR_TLS_CERT_FILE / XR_TLS_KEY_FILE), optionally with client certificates
 * (XR_TLS_CLIENT_AUTH). A client certificate must chain to a CA registered as a trust anchor for some partner
 * region (POST /admin/v1/partners/{region}/trust); anything else is refused during the TLS handshake, before
 * any HTTP: `require` refuses a missing or untrusted certificate (OpenSSL's own verification), `optional`
 * admits clients without one but closes the connection of a client whose certificate does not verify.
 * Which region a message is from is still decided by its XR/1 signature (PROTOCOL §2), not by TLS.
 *
 * The accepted CA list follows the trust registered at run time: before each new connection is wrapped in
 * TLS, the listener compares the registered anchors with those of its secure context and replaces the context
 * (tls.Server#setSecureContext) when they differ — an anchor added through the admin API counts from the
 * next connection on, without a restart.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { parseCertificateBundle } from '../../certs/pem.ts';
import type { TrustStore } from '../../certs/trust-store.ts';
import { ConfigError, type TlsSettings } from '../../config/settings.ts';
import { isXrError } from '../protocol/errors.ts';

export interface PartnerTls {
  /** The listener's certificate chain, leaf first (for expiry warnings). */
  readonly chain: readonly X509Certificate[];
  /** Huzhou's TLS identity as a client, for mutual TLS with partners (partner-client-tls.ts). */
  readonly clientIdentity: { certificate: string; key: string; passphrase?: string };
  createServer(handler: http.RequestListener): https.Server;
}

function readConfigured(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(variable, `cannot read the file ${file}`);
  }
}

/** Reads and checks the configured certificate and key: a certificate chain, and a key that matches its first certificate. */
export function loadPartnerTls(settings: TlsSettings, passphrase: string | undefined, trust: () => TrustStore, log: Logger): PartnerTls {
  const certPem = readConfigured('XR_TLS_CERT_FILE', settings.certFile);
  const keyPem = readConfigured('XR_TLS_KEY_FILE', settings.keyFile);
  let chain: X509Certificate[];
  try {
    chain = parseCertificateBundle(certPem);
  } catch (error) {
    throw new ConfigError('XR_TLS_CERT_FILE', isXrError(error) ? error.detail : 'not a PEM certificate chain');
  }
  let matches: boolean;
  try {
    matches = chain[0]!.checkPrivateKey(createPrivateKey(passphrase === undefined ? keyPem : { key: keyPem, passphrase }));
  } catch {
    throw new ConfigError('XR_TLS_KEY_FILE', `${settings.keyFile} does not hold a usable PEM private key${keyPem.includes('ENCRYPTED') ? ' (encrypted: check XR_KEY_PASSPHRASE)' : ''}`);
  }
  if (!matches) throw new ConfigError('XR_TLS_KEY_FILE', `${settings.keyFile} does not match the certificate in XR_TLS_CERT_FILE`);
  const identity = { certificate: certPem, key: keyPem, ...(passphrase === undefined ? {} : { passphrase }) };

  return {
    chain,
    clientIdentity: identity,
    createServer(handler) {
      const asksForCertificates = settings.clientAuth !== 'off';
      const anchors = () => trust().anchorCertificates();
      const contextOptions = (cas: readonly X509Certificate[]) => ({
        key: identity.key,
        cert: identity.certificate,
        ...(identity.passphrase === undefined ? {} : { passphrase: identity.passphrase }),
        ...(asksForCertificates ? { ca: cas.map((cert) => cert.toString()) } : {}),
      });
      const fingerprint = (cas: readonly X509Certificate[]) => cas.map((cert) => cert.fingerprint256).sort().join();
      let inForce = fingerprint(anchors());
      const server = https.createServer({
        ...contextOptions(anchors()),
        minVersion: 'TLSv1.2',
        requestCert: asksForCertificates,
        rejectUnauthorized: settings.clientAuth === 'require',
      }, handler);
      if (asksForCertificates) {
        // Before Node's own 'connection' listener wraps the socket with the secure context in force.
        server.prependListener('connection', () => {
          const current = anchors();
          const now = fingerprint(current);
          if (now === inForce) return;
          inForce = now;
          server.setSecureContext(contextOptions(current));
        });
      }
      if (settings.clientAuth === 'optional') {
        server.prependListener('secureConnection', (socket: TLSSocket) => {
          const presented = Object.keys(socket.getPeerCertificate()).length > 0;
          if (presented && !socket.authorized) {
            log.info({ remote: socket.remoteAddress, reason: String(socket.authorizationError) }, 'TLS client certificate refused');
            socket.destroy();
          }
        });
      }
      server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
        log.info({ remote: socket.remoteAddress, code: error.code }, 'TLS handshake refused');
      });
      return server;
    },
  };
}

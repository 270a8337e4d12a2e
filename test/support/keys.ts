/**
 * For tests of Huzhou's key lifecycle and of TLS: a CA that answers CSRs as Huzhou's real CA would, CRLs
 * from a partner's CA, TLS certificates for 127.0.0.1, a partner-side verifier of Huzhou's answers that
 * applies PROTOCOL §2 with nothing but what the partner registered, and a logger whose lines the test reads.
 *
 *     const huzhouCa = await makeAuthority('CN=Huzhou XR CA,O=Huzhou,C=CN');
 *     const chainPem = await huzhouCa.issueFromCsr(csrPem);          // leaf + CA certificate, PEM
 *     const crl = await makeCrl(partner.ca, [revokedSerial]);           // DER
 *     const partnerView = partnerVerifier(identity.chain.join(''));    // trusts only that material
 *     await partnerView.verify(answer, '320500', requestJti, nowMs);
 */
import { Buffer } from 'node:buffer';
import { Writable } from 'node:stream';
import * as x509 from '@peculiar/x509';
import type { Logger } from 'pino';
import { publicKeyOfRequest } from '../../certs/csr.ts';
import { generateKeyPair, issueCertificate, pkcs8Of, toPem, webCryptoSigning } from '../../certs/issue.ts';
import { parseSignatureHeader, verifyDetached, type XrProtectedHeader } from '../../certs/jws.ts';
import { TrustStore } from '../../certs/trust-store.ts';
import { createLogger } from '../../gateway/log.ts';
import type { IssuedAuthority } from './pki.ts';
import type { SentMessage } from './partner-client.ts';

export interface Authority extends IssuedAuthority {
  /** What a CA does with a CSR: a signing certificate for its key, returned with the CA certificate (leaf first). */
  issueFromCsr(csrPem: string, options?: { notAfter?: Date; subject?: string }): Promise<string>;
  /** A key and a certificate for TLS (serverAuth + clientAuth), for 127.0.0.1 unless told otherwise. */
  issueTls(options?: { subject?: string; ip?: string[]; dns?: string[] }): Promise<{ certPem: string; keyPem: string }>;
}

export async function makeAuthority(subject: string, options: { notAfter?: Date } = {}): Promise<Authority> {
  const keys = await generateKeyPair('ES256');
  const { cert, pem } = await issueCertificate({ subject, publicKey: keys.publicKey, privateKey: keys.privateKey, isCa: true, notAfter: options.notAfter });
  const authority: IssuedAuthority = { cert, privateKey: keys.privateKey, pem };
  return {
    ...authority,
    async issueFromCsr(csrPem, leaf = {}) {
      const request = new x509.Pkcs10CertificateRequest(csrPem);
      const issued = await issueCertificate({
        subject: leaf.subject ?? request.subject, publicKey: publicKeyOfRequest(csrPem), issuer: authority, isCa: false, keyUsage: 'signing', notAfter: leaf.notAfter,
      });
      return issued.pem + pem;
    },
    issueTls: (tls) => tlsCertificateFrom(authority, tls),
  };
}

/** A TLS key and certificate (serverAuth + clientAuth) issued by `issuer`, for 127.0.0.1 unless told otherwise. */
export async function tlsCertificateFrom(issuer: IssuedAuthority, options: { subject?: string; ip?: string[]; dns?: string[] } = {}): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair('ES256');
  const issued = await issueCertificate({
    subject: options.subject ?? 'CN=127.0.0.1', publicKey: keys.publicKey, issuer, isCa: false, keyUsage: 'tls',
    subjectAltNames: { ip: options.ip ?? ['127.0.0.1'], dns: options.dns ?? [] },
  });
  return { certPem: issued.pem, keyPem: toPem(keys.privateKey) };
}

/** A CRL (RFC 5280 §5) signed by `authority`, listing `serials` (hex). */
export async function makeCrl(authority: IssuedAuthority, serials: readonly string[], options: { thisUpdate?: Date; nextUpdate?: Date } = {}): Promise<Buffer> {
  const webcrypto = globalThis.crypto;
  const signing = webCryptoSigning(authority.privateKey);
  const thisUpdate = options.thisUpdate ?? new Date(Date.now() - 60_000);
  const crl = await x509.X509CrlGenerator.create({
    issuer: new x509.X509Certificate(authority.cert.raw).subjectName,
    thisUpdate,
    nextUpdate: options.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * 86_400_000),
    entries: serials.map((serialNumber) => ({ serialNumber, revocationDate: thisUpdate })),
    signingAlgorithm: signing.algorithm,
    signingKey: await webcrypto.subtle.importKey('pkcs8', pkcs8Of(authority.privateKey), signing.importParams, false, ['sign']),
  }, webcrypto);
  return Buffer.from(crl.rawData);
}

/**
 * A partner city checking Huzhou's answers the way PROTOCOL §2 says, trusting only `huzhouPem` (whatever
 * the partner registered for region 330500: Huzhou's CA, or its whole published chain).
 */
export function partnerVerifier(huzhouPem: string) {
  const trust = new TrustStore();
  trust.addAnchors('330500', huzhouPem);
  return {
    async verify(answer: SentMessage, partnerRegion: string, requestJti: string, nowMs: number): Promise<XrProtectedHeader> {
      const parsed = parseSignatureHeader(answer.headers.get('x-xr-signature') ?? undefined, ['ES256', 'PS256', 'RS256', 'EdDSA']);
      const { header } = parsed;
      await verifyDetached(parsed, answer.body, trust.resolveSigner(header.iss, header.kid, header.x5c, new Date(nowMs)));
      if (header.iss !== '330500' || header.aud !== partnerRegion || header.irt !== requestJti) {
        throw new Error(`answer addressed ${header.iss} → ${header.aud}, irt ${String(header.irt)}`);
      }
      return header;
    },
  };
}

/** A logger at debug level whose JSON lines the test can read. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: createLogger('debug', sink), lines };
}

/**
 * Certificate issuance for the development PKI and for tests that play a partner's PKI. node-forge cannot
 * build EC certificates (shared/NOTES.md), so this uses @peculiar/x509 on WebCrypto; everything given and
 * returned is a Node KeyObject / X509Certificate. Never used in the request path.
 */
import { Buffer } from 'node:buffer';
import { generateKeyPair as generateNodeKeyPair, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import type { SignatureAlgorithm } from '../gateway/protocol/messages.ts';
import { algorithmForKey } from './algorithms.ts';
import { x509Library } from './lazy-libraries.ts';

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export interface CertificateIssuer {
  cert: X509Certificate;
  privateKey: KeyObject;
}

/**
 * signing: digitalSignature (an XR/1 signer); ca: keyCertSign + cRLSign; none: no KeyUsage extension;
 * encipherOnly: keyAgreement + encipherOnly — a usage that must not sign, for refusal tests;
 * tls: digitalSignature + keyEncipherment with extended key usage serverAuth and clientAuth (RFC 5280 §4.2.1.12).
 */
export type KeyUsageProfile = 'signing' | 'ca' | 'none' | 'encipherOnly' | 'tls';

interface CertificateFields {
  /** RFC 4514-style, most significant last as written: 'CN=Huzhou XR CA,O=Huzhou,C=CN'. */
  subject: string;
  publicKey: KeyObject;
  isCa: boolean;
  /** Default: five minutes ago, so that a peer whose clock is slightly behind accepts it at once. */
  notBefore?: Date;
  /** Default: notBefore + 10 years for a CA, + 2 years otherwise. */
  notAfter?: Date;
  /** Default: 'ca' for a CA, 'signing' otherwise. */
  keyUsage?: KeyUsageProfile;
  /** Hex; default 16 random bytes. */
  serial?: string;
  /** subjectAltName entries (RFC 5280 §4.2.1.6): what a TLS peer checks the host name against. */
  subjectAltNames?: { dns?: string[]; ip?: string[] };
}

/** Issued by `issuer`, or self-signed with `privateKey` (the subject's own key) when issuer is absent. */
export type CertificateRequest = CertificateFields &
  ({ issuer: CertificateIssuer; privateKey?: undefined } | { issuer?: undefined; privateKey: KeyObject });

export interface IssuedCertificate {
  cert: X509Certificate;
  pem: string;
}

const EARLY_START_MS = 5 * 60 * 1000;
const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

function keyUsageFlags(profile: Exclude<KeyUsageProfile, 'none'>): X509.KeyUsageFlags {
  const { KeyUsageFlags } = x509Library();
  switch (profile) {
    case 'signing':
      return KeyUsageFlags.digitalSignature;
    case 'ca':
      return KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign;
    case 'encipherOnly':
      return KeyUsageFlags.keyAgreement | KeyUsageFlags.encipherOnly;
    case 'tls':
      return KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment;
  }
}

/** A fresh key pair for `alg`: P-256 for ES256, RSA 2048 for RS256/PS256, Ed25519 for EdDSA. */
export function generateKeyPair(alg: SignatureAlgorithm): Promise<KeyPair> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject): void =>
      error === null ? resolve({ publicKey, privateKey }) : reject(error);
    switch (alg) {
      case 'ES256':
        return generateNodeKeyPair('ec', { namedCurve: 'P-256' }, done);
      case 'RS256':
      case 'PS256':
        return generateNodeKeyPair('rsa', { modulusLength: 2048 }, done);
      case 'EdDSA':
        return generateNodeKeyPair('ed25519', {}, done);
    }
  });
}

export async function issueCertificate(request: CertificateRequest): Promise<IssuedCertificate> {
  const x509 = x509Library();
  const webcrypto = globalThis.crypto;
  const signingKey = request.issuer?.privateKey ?? request.privateKey;
  if (signingKey === undefined) throw new Error('issueCertificate needs an issuer or the subject private key');
  if (request.issuer !== undefined && !request.issuer.cert.checkPrivateKey(request.issuer.privateKey)) {
    throw new Error('issuer private key does not match the issuer certificate');
  }
  const signing = webCryptoSigning(signingKey);
  const subjectSpki = spkiOf(request.publicKey);
  const issuerSpki = request.issuer === undefined ? subjectSpki : spkiOf(request.issuer.cert.publicKey);
  const notBefore = request.notBefore ?? new Date(Date.now() - EARLY_START_MS);
  const notAfter = request.notAfter ?? new Date(notBefore.getTime() + (request.isCa ? 10 : 2) * YEAR_MS);
  const keyUsage = request.keyUsage ?? (request.isCa ? 'ca' : 'signing');

  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(request.isCa, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(subjectSpki, false, webcrypto),
  ];
  if (keyUsage !== 'none') extensions.push(new x509.KeyUsagesExtension(keyUsageFlags(keyUsage), true));
  if (keyUsage === 'tls') extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]));
  const { dns = [], ip = [] } = request.subjectAltNames ?? {};
  if (dns.length + ip.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension([...dns.map((value) => ({ type: 'dns' as const, value })), ...ip.map((value) => ({ type: 'ip' as const, value }))]));
  }
  // RFC 5280 §4.2.1.1: the AKI names the issuer's key so path builders (OpenSSL's checkIssued) can match it.
  if (request.issuer !== undefined) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerSpki, false, webcrypto));

  const issued = await x509.X509CertificateGenerator.create(
    {
      serialNumber: request.serial ?? randomSerial(),
      subject: request.subject,
      // The issuer's Name copied as encoded, so that it matches the issuer certificate's subject exactly.
      issuer: request.issuer === undefined ? request.subject : new x509.X509Certificate(request.issuer.cert.raw).subjectName,
      notBefore,
      notAfter,
      publicKey: subjectSpki,
      signingKey: await webcrypto.subtle.importKey('pkcs8', pkcs8Of(signingKey), signing.importParams, false, ['sign']),
      signingAlgorithm: signing.algorithm,
      extensions,
    },
    webcrypto,
  );
  const cert = new X509Certificate(Buffer.from(issued.rawData));
  if (request.issuer === undefined && !cert.verify(request.publicKey)) {
    throw new Error('self-signed certificate: privateKey does not match publicKey');
  }
  return { cert, pem: cert.toString() };
}

/** PEM of a key: PKCS#8 for a private key, SPKI for a public one. */
export function toPem(key: KeyObject): string {
  return key.type === 'private' ? key.export({ type: 'pkcs8', format: 'pem' }).toString() : key.export({ type: 'spki', format: 'pem' }).toString();
}

/** Certificates (and requests) are signed ecdsa-with-SHA256, sha256WithRSAEncryption or Ed25519, after the signer's key. */
export function webCryptoSigning(key: KeyObject): { importParams: EcKeyImportParams | RsaHashedImportParams | Algorithm; algorithm: EcdsaParams | Algorithm } {
  switch (algorithmForKey(key)) {
    case 'ES256':
      return { importParams: { name: 'ECDSA', namedCurve: 'P-256' }, algorithm: { name: 'ECDSA', hash: 'SHA-256' } };
    case 'PS256':
    case 'RS256':
      return { importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, algorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
    case 'EdDSA':
      return { importParams: { name: 'Ed25519' }, algorithm: { name: 'Ed25519' } };
    case undefined:
      throw new Error(`cannot issue certificates with a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
}

/** Copied into a plain Uint8Array: WebCrypto's BufferSource typing refuses a pooled Node Buffer. */
export function spkiOf(key: KeyObject): Uint8Array<ArrayBuffer> {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

export function pkcs8Of(key: KeyObject): Uint8Array<ArrayBuffer> {
  return new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
}

/** Positive and of full length: the top bit clear (DER INTEGER sign), the next one set. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

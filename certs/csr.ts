/**
 * Certificate signing requests (PKCS #10, RFC 2986) for Huzhou's real CA. node-forge cannot build EC
 * requests (shared/NOTES.md), so this uses @peculiar/x509 on WebCrypto, as issue.ts does. Never in the
 * request path.
 */
import { Buffer } from 'node:buffer';
import { createPublicKey, type KeyObject } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { XrError } from '../gateway/protocol/errors.ts';
import { pkcs8Of, spkiOf, webCryptoSigning, type KeyPair } from './issue.ts';
import { x509Library } from './lazy-libraries.ts';

/**
 * Checks an RFC 4514-style subject as operators type it ('CN=XR gateway 330500,O=Huzhou,C=CN') and returns
 * it normalised. It must name a CN: CAs issue to a common name.
 */
export function readSubject(subject: string): string {
  let name: X509.Name;
  try {
    name = new (x509Library().Name)(subject);
  } catch {
    throw new XrError('XR_BAD_REQUEST', 'subject: not a distinguished name (write it as CN=...,O=...,C=CN)');
  }
  const attributes = name.toJSON();
  const commonName = attributes.flatMap((attribute) => attribute.CN ?? []);
  if (attributes.length === 0 || commonName.length === 0 || commonName.some((value) => String(value).trim() === '')) {
    throw new XrError('XR_BAD_REQUEST', 'subject: a distinguished name with a non-empty CN is needed, e.g. CN=XR gateway 330500,O=Huzhou,C=CN');
  }
  return name.toString();
}

/**
 * A PEM CSR for `keys`, signed with the private key (proof of possession) and asking for the
 * digitalSignature key usage that XR/1 signers need (PROTOCOL §2).
 */
export async function createCertificateRequest(keys: KeyPair, subject: string): Promise<string> {
  const x509 = x509Library();
  const webcrypto = globalThis.crypto;
  const signing = webCryptoSigning(keys.privateKey);
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: readSubject(subject),
    keys: {
      privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8Of(keys.privateKey), signing.importParams, false, ['sign']),
      publicKey: await webcrypto.subtle.importKey('spki', spkiOf(keys.publicKey), signing.importParams, true, ['verify']),
    },
    signingAlgorithm: signing.algorithm,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  }, webcrypto);
  return request.toString('pem');
}

/** The public key a CSR asks a certificate for. */
export function publicKeyOfRequest(csrPem: string): KeyObject {
  const request = new (x509Library().Pkcs10CertificateRequest)(csrPem);
  return createPublicKey({ key: Buffer.from(request.publicKey.rawData), format: 'der', type: 'spki' });
}

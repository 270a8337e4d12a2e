/** The XR/1 `kid`: the certificate's `x5t#S256` thumbprint (RFC 7515 §4.1.8, PROTOCOL §2). */
import { createHash, type X509Certificate } from 'node:crypto';

/** base64url SHA-256 of a certificate's DER encoding. */
export function kidOfDer(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

export function kidOf(cert: X509Certificate): string {
  return kidOfDer(cert.raw);
}

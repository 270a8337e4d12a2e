/**
 * What the trust store needs to know about a certificate, read once when the certificate is first seen so
 * that a cached signer resolution never touches the DER again.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { readKeyUsage, type KeyUsage } from './key-usage.ts';
import { kidOf } from './thumbprint.ts';

export interface CertificateFacts {
  readonly cert: X509Certificate;
  readonly kid: string;
  /** Upper-case hex without leading zeros (see normaliseSerial). */
  readonly serial: string;
  /**
   * Taken once: `X509Certificate#publicKey` builds a new KeyObject on every read, while jose caches the
   * CryptoKey it derives per KeyObject instance — one stable instance means one import per certificate.
   */
  readonly publicKey: KeyObject;
  /** Validity period as epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** basicConstraints cA. */
  readonly isCa: boolean;
  /** undefined when the certificate has no KeyUsage extension. */
  readonly keyUsage: KeyUsage | undefined;
}

/** Reads the facts, or returns undefined when the validity dates cannot be read (fail closed). */
export function factsOf(cert: X509Certificate): CertificateFacts | undefined {
  // Node 20 has no validFromDate/validToDate; validFrom is OpenSSL's "Nov 27 17:26:33 2026 GMT" form.
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) return undefined;
  return {
    cert,
    kid: kidOf(cert),
    serial: normaliseSerial(cert.serialNumber) ?? cert.serialNumber,
    publicKey: cert.publicKey,
    notBefore,
    notAfter,
    isCa: cert.ca,
    keyUsage: readKeyUsage(cert.raw),
  };
}

/**
 * Serial numbers compare as numbers, not as text: operators paste them as `0A:1B`, `0a1b` or `A1B`.
 * Returns undefined for anything that is not hex.
 */
export function normaliseSerial(serial: string): string | undefined {
  const hex = serial.replace(/[\s:]/g, '').replace(/^0x/i, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex)) return undefined;
  return hex.replace(/^0+(?=.)/, '');
}

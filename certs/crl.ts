/**
 * Certificate revocation lists (RFC 5280 §5) from a partner region's CA. Node has no CRL parser; @peculiar/x509
 * has X509Crl. A CRL counts only when its signature verifies with a CA certificate registered as a trust
 * anchor for that region — the same anchors that decide trust in PROTOCOL §2. Never in the request path:
 * the trust store keeps only the revoked serial numbers.
 */
import { Buffer } from 'node:buffer';
import type * as X509 from '@peculiar/x509';
import { XrError } from '../gateway/protocol/errors.ts';
import { normaliseSerial, type CertificateFacts } from './certificate-facts.ts';
import { x509Library } from './lazy-libraries.ts';

export interface VerifiedCrl {
  /** kid of the anchor whose key signed the CRL. */
  issuerKid: string;
  issuer: string;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** Normalised (normaliseSerial): the certificates this issuer revoked. */
  serials: string[];
  /** The CRL as DER, to keep and to verify again after a restart. */
  der: Buffer;
}

/** A CRL dated further ahead than this is refused: it would outrank every honest CRL that follows it. */
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;
const PEM_CRL = /^-----BEGIN X509 CRL-----[\s\S]+-----END X509 CRL-----\s*$/;

function refused(detail: string): XrError {
  return new XrError('XR_BAD_REQUEST', detail);
}

/** DER, or PEM (`-----BEGIN X509 CRL-----`, RFC 7468 §5). */
export function readCrl(bytes: Uint8Array): X509.X509Crl {
  const { X509Crl } = x509Library();
  const text = Buffer.from(bytes).toString('latin1').trim();
  const looksPem = text.startsWith('-----BEGIN');
  if (looksPem && !PEM_CRL.test(text)) throw refused('the PEM text is not one X509 CRL block');
  try {
    return looksPem ? new X509Crl(text) : new X509Crl(new Uint8Array(bytes));
  } catch {
    throw refused('the body is not an X.509 CRL (DER or PEM)');
  }
}

function sameName(a: X509.Name, b: X509.Name): boolean {
  return Buffer.from(a.toArrayBuffer()).equals(Buffer.from(b.toArrayBuffer()));
}

/** RFC 5280 §4.2.1.3: a CRL issuer is a CA and, when the certificate restricts key usage, may sign CRLs. */
function maySignCrls(anchor: X509.X509Certificate, facts: CertificateFacts): boolean {
  const { KeyUsagesExtension, KeyUsageFlags } = x509Library();
  const usage = anchor.getExtension(KeyUsagesExtension);
  return facts.isCa && (usage === null || (usage.usages & KeyUsageFlags.cRLSign) !== 0);
}

/**
 * Verifies `bytes` against `anchors` (the region's registered anchors) and returns what it revokes. Refuses
 * with XR_BAD_REQUEST a body that is not a CRL, a CRL whose issuer is not among the anchors or may not sign
 * CRLs, a signature that does not verify, and a CRL dated in the future.
 */
export async function verifyCrl(bytes: Uint8Array, anchors: readonly CertificateFacts[], region: string, now: Date): Promise<VerifiedCrl> {
  const crl = readCrl(bytes);
  const { X509Certificate } = x509Library();
  const candidates = anchors
    .map((facts) => ({ facts, cert: new X509Certificate(facts.cert.raw) }))
    .filter(({ cert }) => sameName(cert.subjectName, crl.issuerName));
  if (candidates.length === 0) throw refused(`the CRL's issuer (${crl.issuer}) is not a trust anchor registered for region ${region}`);
  const eligible = candidates.filter(({ cert, facts }) => maySignCrls(cert, facts));
  if (eligible.length === 0) throw refused(`the CRL's issuer (${crl.issuer}) is registered for region ${region} but is not a CA allowed to sign CRLs`);
  let signer: CertificateFacts | undefined;
  for (const { cert, facts } of eligible) {
    if (await crl.verify({ publicKey: cert }).catch(() => false)) {
      signer = facts;
      break;
    }
  }
  if (signer === undefined) throw refused(`the CRL's signature does not verify with the anchor registered for region ${region}`);
  if (crl.thisUpdate.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) throw refused('the CRL is dated in the future (thisUpdate)');
  const serials = crl.entries.map((entry) => normaliseSerial(entry.serialNumber)).filter((serial): serial is string => serial !== undefined);
  return {
    issuerKid: signer.kid,
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    serials,
    der: Buffer.from(crl.rawData),
  };
}

/**
 * How long every certificate the gateway depends on has left: Huzhou's signing chain (and the keys waiting
 * or retiring next to it), the partner regions' trust anchors, and the TLS certificate. A certificate with
 * EXPIRY_WARNING_DAYS or fewer left is a warning: logged daily (maintenance.ts), listed by /healthz, and
 * exported as the gauge xr_certificate_days_left (gateway/metrics.ts) from certificateExpiries().
 */
import { X509Certificate } from 'node:crypto';
import { kidOf } from '../../certs/thumbprint.ts';
import type { Store } from '../store/store.ts';
import { daysLeft } from './key-context.ts';
import { effectiveState } from './key-view.ts';

export const EXPIRY_WARNING_DAYS = 30;

export interface CertificateExpiry {
  /** signing: Huzhou's signing chains; partner: a region's trust anchor; tls: the partner listener's certificate chain. */
  scope: 'signing' | 'partner' | 'tls';
  /** The region whose certificate it is ('330500' for Huzhou's own). */
  region: string;
  kid: string;
  subject: string;
  notAfter: string;
  /** Whole days left, rounded down; negative once expired. */
  daysLeft: number;
}

export interface CertificateWarning extends CertificateExpiry {
  warning: 'certificate-expiring' | 'certificate-expired';
  message: string;
}

export interface ExpirySources {
  ownRegion: string;
  store: Store;
  /** The chain of the identity that signs now (configured files or the active stored key), leaf first. */
  signingChain(): readonly X509Certificate[];
  /** The TLS certificate chain of the partner listener, when it serves HTTPS. */
  tlsChain?(): readonly X509Certificate[];
}

function expiryOf(scope: CertificateExpiry['scope'], region: string, cert: X509Certificate, nowMs: number): CertificateExpiry {
  const notAfter = Date.parse(cert.validTo);
  return { scope, region, kid: kidOf(cert), subject: cert.subject.split('\n').join(', '), notAfter: new Date(notAfter).toISOString(), daysLeft: daysLeft(notAfter, nowMs) };
}

/** Every certificate, soonest expiry first; one entry per certificate and scope. */
export async function certificateExpiries(sources: ExpirySources, nowMs: number): Promise<CertificateExpiry[]> {
  const upcoming = (await sources.store.listSigningKeys())
    .filter((record) => ['ready', 'retiring'].includes(effectiveState(record, nowMs)))
    .flatMap((record) => record.chainPem.map((pem) => new X509Certificate(pem)));
  const signing = [...sources.signingChain(), ...upcoming].map((cert) => expiryOf('signing', sources.ownRegion, cert, nowMs));
  const partner = (await sources.store.listTrustAnchors()).map((anchor) => ({
    scope: 'partner' as const, region: anchor.region, kid: anchor.kid, subject: anchor.subject, notAfter: anchor.notAfter,
    daysLeft: daysLeft(Date.parse(anchor.notAfter), nowMs),
  }));
  const tls = (sources.tlsChain?.() ?? []).map((cert) => expiryOf('tls', sources.ownRegion, cert, nowMs));
  const unique = new Map<string, CertificateExpiry>();
  for (const entry of [...signing, ...partner, ...tls]) {
    const key = `${entry.scope}:${entry.region}:${entry.kid}`;
    if (!unique.has(key)) unique.set(key, entry);
  }
  return [...unique.values()].sort((a, b) => a.daysLeft - b.daysLeft || a.kid.localeCompare(b.kid));
}

/** The certificates with `withinDays` or fewer days left (expired ones included), each with a sentence saying so. */
export function expiryWarnings(expiries: readonly CertificateExpiry[], withinDays = EXPIRY_WARNING_DAYS): CertificateWarning[] {
  return expiries.filter((entry) => entry.daysLeft <= withinDays).map((entry) => {
    const whose = entry.scope === 'partner' ? `trust anchor of region ${entry.region}` : entry.scope === 'tls' ? 'TLS certificate' : 'signing certificate';
    const when = entry.daysLeft < 0 ? `expired on ${entry.notAfter}` : `expires in ${entry.daysLeft} days (${entry.notAfter})`;
    return { ...entry, warning: entry.daysLeft < 0 ? 'certificate-expired' : 'certificate-expiring', message: `${whose} ${entry.subject} ${when}` };
  });
}

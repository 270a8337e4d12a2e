/**
 * What the admin API and the CLI show of a signing key: its state, its certificate and how long that has
 * left. Built from the stored record, it never carries the private key — not even encrypted.
 */
import { X509Certificate } from 'node:crypto';
import { algorithmForKey } from '../../certs/algorithms.ts';
import { publicKeyOfRequest } from '../../certs/csr.ts';
import type { SignatureAlgorithm } from '../protocol/messages.ts';
import type { ManagedKeyRecord, SigningKeyState } from '../store/store.ts';
import { daysLeft } from './key-context.ts';
import { isSealed } from './sealing.ts';

export interface CertificateView {
  subject: string;
  issuer: string;
  /** Hex, as the certificate has it. */
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
}

export interface SigningKeyView {
  id: string;
  state: SigningKeyState;
  kid: string | null;
  alg: SignatureAlgorithm | null;
  subject: string;
  /** Whether the private key is stored encrypted (XR_KEY_PASSPHRASE); false once retired (destroyed). */
  encryptedAtRest: boolean;
  createdAt: string;
  activatedAt: string | null;
  /** While retiring: until when the certificate is still published next to the active one. */
  overlapEndsAt: string | null;
  certificate: CertificateView | null;
  /** PEM, leaf first. */
  chain: string[];
  /** While pending: the CSR to send to the CA (again). */
  csr: string | null;
}

/** A retiring key whose overlap has ended counts as retired, whether or not maintenance has recorded it yet. */
export function effectiveState(record: ManagedKeyRecord, nowMs: number): SigningKeyState {
  if (record.state === 'retiring' && record.overlapEndsAt !== null && Date.parse(record.overlapEndsAt) <= nowMs) return 'retired';
  return record.state;
}

function certificateView(cert: X509Certificate, nowMs: number): CertificateView {
  const notAfter = Date.parse(cert.validTo);
  return {
    subject: cert.subject.split('\n').join(', '),
    issuer: cert.issuer.split('\n').join(', '),
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(notAfter).toISOString(),
    daysLeft: daysLeft(notAfter, nowMs),
  };
}

function algorithmOf(record: ManagedKeyRecord, leaf: X509Certificate | undefined): SignatureAlgorithm | null {
  const publicKey = leaf?.publicKey ?? (record.csrPem === null ? undefined : publicKeyOfRequest(record.csrPem));
  return (publicKey && algorithmForKey(publicKey)) ?? null;
}

export function viewOf(record: ManagedKeyRecord, nowMs: number): SigningKeyView {
  const leafPem = record.chainPem[0];
  const leaf = leafPem === undefined ? undefined : new X509Certificate(leafPem);
  return {
    id: record.id,
    state: effectiveState(record, nowMs),
    kid: record.kid,
    alg: algorithmOf(record, leaf),
    subject: record.subject,
    encryptedAtRest: isSealed(record.privateKeyPem),
    createdAt: record.createdAt,
    activatedAt: record.activatedAt,
    overlapEndsAt: record.overlapEndsAt,
    certificate: leaf === undefined ? null : certificateView(leaf, nowMs),
    chain: record.chainPem,
    csr: record.state === 'pending' ? record.csrPem : null,
  };
}

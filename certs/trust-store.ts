/**
 * Which certificates Huzhou trusts for which partner region, and the PROTOCOL §2 decision "does the
 * certificate named by kid chain to a trust anchor registered for iss, inside its validity period, with the
 * right key usage, and unrevoked?". In memory only: the gateway persists anchors and revocations elsewhere
 * and loads them in through setAnchors/revoke.
 *
 * A registered certificate is a trust anchor for its region, whether it is a CA or a partner's signer
 * certificate pinned directly. `x5c` from a message is only a hint for finding intermediates.
 */
import { Buffer } from 'node:buffer';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { XrError } from '../gateway/protocol/errors.ts';
import { REGION_CODE } from '../gateway/protocol/messages.ts';
import { factsOf, normaliseSerial, type CertificateFacts } from './certificate-facts.ts';
import { verifyCrl, type VerifiedCrl } from './crl.ts';
import { parseCertificateBundle } from './pem.ts';
import { kidOfDer } from './thumbprint.ts';

export interface AnchorInfo {
  kid: string;
  /** The subject's attributes as encoded, comma-separated: 'CN=Shanghai XR CA, O=Shanghai, C=CN'. */
  subject: string;
  /** ISO 8601. */
  notAfter: string;
}

export type Revocation = { kid: string } | { serial: string };

/** What a successful resolution leaves in the cache: enough to re-check time without the certificates. */
interface ResolvedSigner {
  readonly publicKey: KeyObject;
  /** Latest notBefore and earliest notAfter over the whole path (epoch ms). */
  readonly notBefore: number;
  readonly notAfter: number;
}

interface RegionTrust {
  readonly anchors: Map<string, CertificateFacts>;
  readonly revokedKids: Set<string>;
  /** Normalised (normaliseSerial). Serials are unique per issuer; a region's revocation applies to its whole PKI. */
  readonly revokedSerials: Set<string>;
  /** The CRL in force per issuing anchor (kid): the serials that anchor revoked, and when it said so. */
  readonly crls: Map<string, { thisUpdate: number; serials: Set<string> }>;
  /** Keyed by kid and x5c; emptied on every change to the region. */
  readonly resolved: Map<string, ResolvedSigner>;
  /** The anchors as PEM text, made on first use and dropped when the anchors change (anchorPems). */
  pems: readonly string[] | undefined;
}

/** Leaf, intermediates and anchor; deeper partner PKIs are not expected in XR/1. */
const MAX_PATH_LENGTH = 6;
/** Bounds the cache when a partner rotates through many certificates; a full cache simply starts over. */
const MAX_CACHED_SIGNERS = 1024;
const KID = /^[A-Za-z0-9_-]{43}$/;

export class TrustStore {
  readonly #regions = new Map<string, RegionTrust>();

  /** Replaces the region's anchors (each string a PEM bundle); revocations are kept. */
  setAnchors(region: string, pems: readonly string[]): AnchorInfo[] {
    const certificates = pems.flatMap((pem) => readBundle(pem));
    const trust = this.#trustFor(region);
    trust.anchors.clear();
    for (const facts of certificates) trust.anchors.set(facts.kid, facts);
    trust.resolved.clear();
    trust.pems = undefined;
    return certificates.map(anchorInfo);
  }

  /** Adds every certificate of a PEM bundle as an anchor; a bundle with anything wrong adds nothing. */
  addAnchors(region: string, pemText: string): AnchorInfo[] {
    const certificates = readBundle(pemText);
    const trust = this.#trustFor(region);
    for (const facts of certificates) trust.anchors.set(facts.kid, facts);
    trust.resolved.clear();
    trust.pems = undefined;
    return certificates.map(anchorInfo);
  }

  /** From now on, any path through this certificate is refused with XR_CERT_REVOKED. */
  revoke(region: string, revocation: Revocation): void {
    const trust = this.#trustFor(region);
    if ('kid' in revocation) {
      if (!KID.test(revocation.kid)) throw new XrError('XR_BAD_REQUEST', 'kid must be a base64url SHA-256 thumbprint (43 characters)');
      trust.revokedKids.add(revocation.kid);
    } else {
      const serial = normaliseSerial(revocation.serial);
      if (serial === undefined) throw new XrError('XR_BAD_REQUEST', 'serial must be hexadecimal');
      trust.revokedSerials.add(serial);
    }
    trust.resolved.clear();
  }

  /**
   * Applies a CRL of one of the region's CAs (RFC 5280 §5) once its signature verifies with an anchor
   * registered for that region; it replaces that CA's earlier CRL, and an older one than in force is refused.
   * Its serials are revoked for certificates that anchor issued (serial numbers are unique per issuer).
   */
  async importCrl(region: string, crlBytes: Uint8Array, now: Date): Promise<VerifiedCrl> {
    const trust = this.#trustFor(region);
    const crl = await verifyCrl(crlBytes, [...trust.anchors.values()], region, now);
    const inForce = trust.crls.get(crl.issuerKid);
    if (inForce !== undefined && inForce.thisUpdate > crl.thisUpdate.getTime()) {
      throw new XrError('XR_BAD_REQUEST', `a newer CRL from ${crl.issuer} is already in force for region ${region}`);
    }
    trust.crls.set(crl.issuerKid, { thisUpdate: crl.thisUpdate.getTime(), serials: new Set(crl.serials) });
    trust.resolved.clear();
    return crl;
  }

  /** The registered anchors of one region, or of every region: what a TLS peer must chain to. */
  anchorCertificates(region?: string): X509Certificate[] {
    const regions = region === undefined ? [...this.#regions.values()] : [this.#regions.get(region)];
    return regions.flatMap((trust) => [...(trust?.anchors.values() ?? [])].map((facts) => facts.cert));
  }

  /** One region's anchors as PEM text (TLS to that partner: gateway/tls/partner-client-tls.ts), made once per change. */
  anchorPems(region: string): readonly string[] {
    const trust = this.#regions.get(region);
    if (trust === undefined) return [];
    trust.pems ??= [...trust.anchors.values()].map((facts) => facts.cert.toString());
    return trust.pems;
  }

  listAnchors(region: string): AnchorInfo[] {
    return [...(this.#regions.get(region)?.anchors.values() ?? [])].map(anchorInfo);
  }

  removeRegion(region: string): void {
    this.#regions.delete(region);
  }

  /**
   * The public key that verifies a message from `iss` signed by certificate `kid`. Refuses, in this order:
   * XR_CERT_UNTRUSTED (no anchor for iss; kid neither registered nor matching x5c[0]; no path from it
   * through x5c intermediates to an anchor of iss; an issuer that is not a CA with keyCertSign, where
   * KeyUsage is present), then XR_CERT_EXPIRED (some certificate of the path outside its validity at `now`,
   * either side), then XR_CERT_UNTRUSTED again for a leaf without digitalSignature where KeyUsage is present,
   * then XR_CERT_REVOKED (some certificate of the path revoked for iss by kid or serial) — PROTOCOL §2's
   * order: chain, validity period, key usage, revocation. A cached resolution only re-checks validity:
   * revocations empty the cache, and a leaf without the key usage is never cached.
   */
  resolveSigner(iss: string, kid: string, x5c: readonly string[] | undefined, now: Date): KeyObject {
    const trust = this.#regions.get(iss);
    if (trust === undefined || trust.anchors.size === 0) throw untrusted(`no trust anchor is registered for region ${iss}`);
    const cacheKey = x5c === undefined ? kid : `${kid}\n${x5c.join('\n')}`;
    const cached = trust.resolved.get(cacheKey);
    if (cached !== undefined) {
      checkValidity(cached, now);
      return cached.publicKey;
    }
    const path = buildPath(trust, iss, kid, x5c);
    const resolved: ResolvedSigner = {
      publicKey: path[0].publicKey,
      notBefore: Math.max(...path.map((facts) => facts.notBefore)),
      notAfter: Math.min(...path.map((facts) => facts.notAfter)),
    };
    checkValidity(resolved, now);
    checkLeafUsage(path[0]);
    checkNotRevoked(trust, path);
    if (trust.resolved.size >= MAX_CACHED_SIGNERS) trust.resolved.clear();
    trust.resolved.set(cacheKey, resolved);
    return resolved.publicKey;
  }

  #trustFor(region: string): RegionTrust {
    if (!REGION_CODE.test(region)) throw new XrError('XR_BAD_REQUEST', 'region must be a 6-digit region code');
    let trust = this.#regions.get(region);
    if (trust === undefined) {
      trust = { anchors: new Map(), revokedKids: new Set(), revokedSerials: new Set(), crls: new Map(), resolved: new Map(), pems: undefined };
      this.#regions.set(region, trust);
    }
    return trust;
  }
}

type Path = [CertificateFacts, ...CertificateFacts[]];

function untrusted(detail: string): XrError {
  return new XrError('XR_CERT_UNTRUSTED', detail);
}

function readBundle(pemText: string): CertificateFacts[] {
  return parseCertificateBundle(pemText).map((cert, index) => {
    const facts = factsOf(cert);
    if (facts === undefined) throw new XrError('XR_BAD_REQUEST', `certificate #${index + 1} has unreadable validity dates`);
    return facts;
  });
}

function anchorInfo(facts: CertificateFacts): AnchorInfo {
  return { kid: facts.kid, subject: facts.cert.subject.split('\n').join(', '), notAfter: new Date(facts.notAfter).toISOString() };
}

function readX5cEntry(entry: string, index: number): CertificateFacts {
  try {
    const facts = factsOf(new X509Certificate(Buffer.from(entry, 'base64')));
    if (facts !== undefined) return facts;
  } catch {
    // fall through: an unreadable hint is refused like any other
  }
  throw untrusted(`x5c[${index}] is not a usable certificate`);
}

/** RFC 5280 §6.1 in the small: names/AKI match (checkIssued) and the issuer's key verifies the signature. */
function isIssuedBy(child: CertificateFacts, issuer: CertificateFacts): boolean {
  return child.cert.checkIssued(issuer.cert) && child.cert.verify(issuer.publicKey);
}

/** Leaf first, anchor last; a registered certificate is a path of one. */
function buildPath(trust: RegionTrust, iss: string, kid: string, x5c: readonly string[] | undefined): Path {
  const registered = trust.anchors.get(kid);
  const path: Path = registered === undefined ? chainFromX5c(trust, iss, kid, x5c) : [registered];
  checkIssuers(path);
  return path;
}

/** From x5c[0] upwards through the other x5c entries until a certificate is issued by an anchor of iss. */
function chainFromX5c(trust: RegionTrust, iss: string, kid: string, x5c: readonly string[] | undefined): Path {
  let current = leafFromX5c(iss, kid, x5c);
  const path: Path = [current];
  const intermediates = (x5c ?? []).slice(1).map((entry, index) => readX5cEntry(entry, index + 1));
  while (path.length < MAX_PATH_LENGTH) {
    const child = current;
    const anchor = [...trust.anchors.values()].find((candidate) => isIssuedBy(child, candidate));
    if (anchor !== undefined) {
      path.push(anchor);
      return path;
    }
    const next = intermediates.find((candidate) => !path.includes(candidate) && isIssuedBy(child, candidate));
    if (next === undefined) break;
    path.push(next);
    current = next;
  }
  throw untrusted(`certificate ${kid} does not chain to a trust anchor registered for region ${iss}`);
}

function leafFromX5c(iss: string, kid: string, x5c: readonly string[] | undefined): CertificateFacts {
  const first = x5c?.[0];
  if (first === undefined) throw untrusted(`certificate ${kid} is not registered for region ${iss} and the message carries no x5c`);
  // Compare thumbprints on the raw DER before parsing anything: a mismatching hint costs one hash.
  if (kidOfDer(Buffer.from(first, 'base64')) !== kid) throw untrusted('x5c[0] is not the certificate named by kid');
  return readX5cEntry(first, 0);
}

/** RFC 5280 §4.2.1.3: the signer may sign. */
function checkLeafUsage(leaf: CertificateFacts): void {
  if (leaf.keyUsage !== undefined && !leaf.keyUsage.digitalSignature) {
    throw untrusted('signer certificate lacks the digitalSignature key usage');
  }
}

/** RFC 5280 §4.2.1.3 and §4.2.1.9: everything above the signer is a CA allowed to certify (part of the chain). */
function checkIssuers([, ...issuers]: Path): void {
  for (const issuer of issuers) {
    if (!issuer.isCa || (issuer.keyUsage !== undefined && !issuer.keyUsage.keyCertSign)) {
      throw untrusted(`certificate ${issuer.kid} in the chain is not a CA`);
    }
  }
}

function checkValidity(resolved: ResolvedSigner, now: Date): void {
  const time = now.getTime();
  if (time < resolved.notBefore) throw new XrError('XR_CERT_EXPIRED', 'a certificate of the signer chain is not yet valid');
  if (time > resolved.notAfter) throw new XrError('XR_CERT_EXPIRED', 'a certificate of the signer chain has expired');
}

function checkNotRevoked(trust: RegionTrust, path: Path): void {
  const revokedByCrl = (facts: CertificateFacts, index: number): boolean => {
    const issuer = path[index + 1];
    return issuer !== undefined && trust.crls.get(issuer.kid)?.serials.has(facts.serial) === true;
  };
  const revoked = path.find((facts, index) => trust.revokedKids.has(facts.kid) || trust.revokedSerials.has(facts.serial) || revokedByCrl(facts, index));
  if (revoked !== undefined) throw new XrError('XR_CERT_REVOKED', `certificate ${revoked.kid} is revoked`);
}

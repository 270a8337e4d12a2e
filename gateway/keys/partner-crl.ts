/**
 * Importing a partner region's CRL (admin API and CLI): verified against that region's trust anchors
 * (certs/crl.ts through the TrustStore), applied, and kept in the Store so it applies again after a restart
 * (Directory.reload). From then on the certificates it lists are refused with XR_CERT_REVOKED.
 */
import { TrustStore } from '../../certs/trust-store.ts';
import { XrError } from '../protocol/errors.ts';
import type { Store } from '../store/store.ts';

export interface CrlSummary {
  region: string;
  issuer: string;
  issuerKid: string;
  thisUpdate: string;
  nextUpdate: string | null;
  /** How many certificates it revokes. */
  revoked: number;
  /** Its nextUpdate has passed: the CA has (or should have) published a newer one. */
  stale: boolean;
}

export async function importPartnerCrl(deps: { store: Store; trust: TrustStore; nowMs(): number }, region: string, crlBytes: Uint8Array): Promise<CrlSummary> {
  if (!(await deps.store.getPartner(region))) throw new XrError('XR_NOT_FOUND', `no partner ${region}`);
  const now = deps.nowMs();
  // Applied before it is stored: should storing fail, the gateway refuses more until a restart, never less.
  const crl = await deps.trust.importCrl(region, crlBytes, new Date(now));
  await deps.store.putCrl({
    region, issuerKid: crl.issuerKid, thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate?.toISOString() ?? null,
    der: crl.der, addedAt: new Date(now).toISOString(),
  });
  return {
    region,
    issuer: crl.issuer,
    issuerKid: crl.issuerKid,
    thisUpdate: crl.thisUpdate.toISOString(),
    nextUpdate: crl.nextUpdate?.toISOString() ?? null,
    revoked: crl.serials.length,
    stale: crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < now,
  };
}

/**
 * One region's trust as a running gateway holds it — its anchors and the CRLs in force — for importing a
 * CRL without a running gateway (the CLI). A stored CRL that no longer verifies lost its anchor: skipped.
 */
export async function loadRegionTrust(store: Store, region: string, nowMs: number): Promise<TrustStore> {
  const trust = new TrustStore();
  for (const anchor of await store.listTrustAnchors(region)) trust.addAnchors(region, anchor.pem);
  for (const crl of await store.listCrls(region)) await trust.importCrl(region, crl.der, new Date(nowMs)).catch(() => undefined);
  return trust;
}

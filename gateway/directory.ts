/**
 * The live configuration every request reads: registered partners, their trust (certs/TrustStore) and the
 * compiled partner formats (adapters/FormatRegistry). Loaded from the Store at start; admin changes write the
 * Store first and then this, so a change takes effect at once and survives a restart.
 */
import type { FormatRegistry, PartnerFormat } from '../adapters/index.ts';
import { TrustStore } from '../certs/trust-store.ts';
import type { Partner, Store } from './store/store.ts';

export class Directory {
  private partners = new Map<string, Partner>();
  trust = new TrustStore();

  constructor(readonly formats: FormatRegistry) {}

  partner(region: string): Partner | undefined {
    return this.partners.get(region);
  }

  allPartners(): Partner[] {
    return [...this.partners.values()];
  }

  formatOf(partner: Partner): PartnerFormat | undefined {
    return this.formats.get(partner.format);
  }

  setPartner(partner: Partner): void {
    this.partners.set(partner.region, partner);
  }

  removePartner(region: string): void {
    this.partners.delete(region);
    this.trust.removeRegion(region);
  }

  /** Rebuilds everything from the Store (at start, and when another worker announces a change). */
  async reload(store: Store): Promise<void> {
    const partners = await store.listPartners();
    const anchors = await store.listTrustAnchors();
    const revocations = await store.listRevocations();
    for (const version of await store.listFormats()) {
      // A reload follows every admin change in a cluster: recompile only what changed.
      if (this.formats.source(version.name) !== version.document) this.formats.put(version.name, version.document);
    }
    const trust = new TrustStore();
    for (const anchor of anchors) trust.addAnchors(anchor.region, anchor.pem);
    for (const revocation of revocations) {
      trust.revoke(revocation.region, revocation.kid !== undefined ? { kid: revocation.kid } : { serial: revocation.serial! });
    }
    // Each CRL verified when imported; one that no longer verifies lost its anchor, and with it every certificate it lists.
    for (const crl of await store.listCrls()) await trust.importCrl(crl.region, crl.der, new Date()).catch(() => undefined);
    this.partners = new Map(partners.map((p) => [p.region, p]));
    this.trust = trust;
  }
}

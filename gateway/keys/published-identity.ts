/**
 * GET /admin/v1/identity (PROTOCOL §7): Huzhou's signing certificate and chain for partners to register.
 * `kid`, `alg` and `chain` are the certificate that signs now; `certificates` adds, during a rotation,
 * the retiring one (until its overlap ends) and any installed but not yet active one, so that partners
 * can register a new CA before it is used.
 */
import type { Signer } from '../../certs/jws.ts';
import type { SignatureAlgorithm } from '../protocol/messages.ts';
import type { KeyContext } from './key-context.ts';
import { effectiveState, viewOf } from './key-view.ts';

export interface PublishedCertificate {
  kid: string;
  state: 'active' | 'retiring' | 'ready';
  alg: SignatureAlgorithm;
  /** PEM, leaf first. */
  chain: string[];
  notAfter: string;
  /** Retiring only: until when. */
  overlapEndsAt?: string;
}

export interface PublishedIdentity {
  region: string;
  kid: string;
  alg: SignatureAlgorithm;
  chain: string[];
  certificates: PublishedCertificate[];
}

export async function publishedIdentity(context: KeyContext, region: string, signer: Signer): Promise<PublishedIdentity> {
  const chain = signer.chain.map((cert) => cert.toString());
  const active: PublishedCertificate = { kid: signer.kid, state: 'active', alg: signer.alg, chain, notAfter: new Date(signer.chain[0]!.validTo).toISOString() };
  const now = context.nowMs();
  const others = context.identityFromFiles ? [] : (await context.store.listSigningKeys())
    .filter((record) => record.kid !== signer.kid)
    .map((record) => ({ record, state: effectiveState(record, now) }))
    .filter(({ state }) => state === 'retiring' || state === 'ready')
    .sort((a, b) => (a.state === b.state ? 0 : a.state === 'retiring' ? -1 : 1))
    .map(({ record, state }): PublishedCertificate => {
      const view = viewOf(record, now);
      return {
        kid: view.kid!, state: state as 'retiring' | 'ready', alg: view.alg!, chain: view.chain, notAfter: view.certificate!.notAfter,
        ...(state === 'retiring' && record.overlapEndsAt !== null ? { overlapEndsAt: record.overlapEndsAt } : {}),
      };
    });
  return { region, kid: signer.kid, alg: signer.alg, chain, certificates: [active, ...others] };
}

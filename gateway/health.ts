/**
 * Readiness (GET /readyz), as X-Road's health check: the gateway can do its work only when
 *  - keys: Huzhou's signing key signs, and the signature verifies with the published certificate's key;
 *  - storage: the Store and the audit log answer a trivial query;
 *  - certificate: every certificate of Huzhou's own chain is inside its validity period now.
 * Liveness (GET /healthz) stays separate: a gateway that is up but not ready must not be restarted for it.
 */
import { randomUUID } from 'node:crypto';
import { parseSignatureHeader, signDetached, verifyDetached, type Signer } from '../certs/jws.ts';
import type { AuditLog } from './audit/audit-log.ts';
import type { Store } from './store/store.ts';

export interface ReadinessSources {
  ownRegion: string;
  /** False while the gateway starts or stops. */
  started(): boolean;
  signer(): Signer;
  store: Pick<Store, 'getSetting'>;
  audit: Pick<AuditLog, 'probe'>;
  nowMs(): number;
}

export interface ReadinessCheck {
  name: 'started' | 'keys' | 'storage' | 'certificate';
  ok: boolean;
  detail: string;
}

const PROBE = Buffer.from('xr-gateway readiness probe', 'ascii');

function failure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function check(name: ReadinessCheck['name'], run: () => Promise<string> | string): Promise<ReadinessCheck> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    return { name, ok: false, detail: failure(error) };
  }
}

async function keysUsable(sources: ReadinessSources): Promise<string> {
  const signer = sources.signer();
  const leaf = signer.chain[0];
  if (!leaf) throw new Error('the signing identity has no certificate');
  const signature = await signDetached(PROBE, { iss: sources.ownRegion, aud: sources.ownRegion, jti: randomUUID() }, signer);
  await verifyDetached(parseSignatureHeader(signature, [signer.alg]), PROBE, leaf.publicKey);
  return `${signer.alg} key ${signer.kid} signs and its certificate verifies`;
}

async function storageReachable(sources: ReadinessSources): Promise<string> {
  await sources.store.getSetting('readiness-probe');
  await sources.audit.probe();
  return 'store and audit log answer';
}

function certificateValid(sources: ReadinessSources): string {
  const now = sources.nowMs();
  const { chain } = sources.signer();
  for (const cert of chain) {
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    if (now < from) throw new Error(`${cert.subject.split('\n').join(', ')} is not valid before ${new Date(from).toISOString()}`);
    if (now > to) throw new Error(`${cert.subject.split('\n').join(', ')} expired at ${new Date(to).toISOString()}`);
  }
  const leafTo = Date.parse(chain[0]!.validTo);
  return `valid until ${new Date(leafTo).toISOString()}`;
}

export async function readiness(sources: ReadinessSources): Promise<{ ready: boolean; checks: ReadinessCheck[] }> {
  const checks = [
    await check('started', () => {
      if (!sources.started()) throw new Error('the gateway is starting or stopping');
      return 'listening';
    }),
    await check('keys', () => keysUsable(sources)),
    await check('storage', () => storageReachable(sources)),
    await check('certificate', () => certificateValid(sources)),
  ];
  return { ready: checks.every((c) => c.ok), checks };
}

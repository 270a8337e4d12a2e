/**
 * The state an admin change can touch, read from the Store by the call's path, for the audit trail's
 * before/after (admin-calls.ts). Certificates appear as kid, subject and expiry, formats as version and
 * digest, signing keys as id, state and kid (never the key): enough to see what changed, without copying
 * documents or secrets into the log.
 */
import type { Signer } from '../../certs/jws.ts';
import type { Store } from '../store/store.ts';
import type { JsonValue } from './canonical-json.ts';
import { sha256Hex } from './records.ts';

export interface AdminStateSources {
  store: Store;
  /** The circuit breakers as the outbound side shows them. */
  breakers(): ReadonlyArray<{ partner: string; state: string; override: string | null }>;
  signer(): Signer;
}

export interface AdminState {
  /** The partner the path names, if any. */
  partner?: string;
  state: JsonValue;
}

function segment(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

async function partnerState(store: Store, region: string): Promise<JsonValue> {
  const partner = await store.getPartner(region);
  const trust = await store.listTrustAnchors(region);
  const revocations = await store.listRevocations(region);
  const crls = await store.listCrls(region);
  return {
    partner: partner === undefined ? null : JSON.parse(JSON.stringify(partner)) as JsonValue,
    trust: trust.map(({ kid, subject, notAfter }) => ({ kid, subject, notAfter })),
    revocations: revocations.map(({ kid, serial }) => ({ kid: kid ?? null, serial: serial ?? null })),
    crls: crls.map(({ issuerKid, thisUpdate, nextUpdate }) => ({ issuerKid, thisUpdate, nextUpdate })),
  };
}

async function formatState(store: Store, name: string): Promise<JsonValue> {
  const current = await store.getFormat(name);
  return current === undefined ? { version: 0 } : { version: current.version, sha256: sha256Hex(current.document) };
}

async function keysState(store: Store, signer: Signer): Promise<JsonValue> {
  const keys = await store.listSigningKeys();
  return {
    signing: signer.kid,
    keys: keys.map(({ id, state, kid, subject, activatedAt, overlapEndsAt }) => ({ id, state, kid, subject, activatedAt, overlapEndsAt })),
  };
}

/** The resource an admin path names: `/admin/v1/{resource}/{key}/…`. */
function resourceOf(path: string): { resource: string | undefined; key: string | undefined } {
  const [, resource, name] = /^\/admin\/v1\/([a-z]+)(?:\/([^/]+))?/.exec(path) ?? [];
  return { resource, key: segment(name) };
}

/** The partner an admin path names (partners/{region}…, breakers/{region}), if any: known without reading state. */
export function partnerNamedBy(path: string): string | undefined {
  const { resource, key } = resourceOf(path);
  return (resource === 'partners' || resource === 'breakers') && key !== undefined && /^\d{6}$/.test(key) ? key : undefined;
}

export function adminStateReader(sources: AdminStateSources): (path: string) => Promise<AdminState> {
  return async (path) => {
    const { resource, key } = resourceOf(path);
    const partner = partnerNamedBy(path);
    switch (resource) {
      case 'partners':
        return partner === undefined ? { state: null } : { partner, state: await partnerState(sources.store, partner) };
      case 'formats':
        return key === undefined ? { state: null } : { state: await formatState(sources.store, key) };
      case 'breakers': {
        const view = sources.breakers().find((breaker) => breaker.partner === partner);
        return { ...(partner === undefined ? {} : { partner }), state: view ? { state: view.state, override: view.override } : null };
      }
      case 'outbox': {
        const message = key === undefined ? undefined : await sources.store.outboxGet(key);
        if (!message) return { state: null };
        return { partner: message.target, state: { status: message.status, attempts: message.attempts, sha256: sha256Hex(message.partnerBody) } };
      }
      case 'identity':
      case 'keys':
        return { state: await keysState(sources.store, sources.signer()) };
      default:
        return { state: null };
    }
  };
}

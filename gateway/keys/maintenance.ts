/**
 * What the running gateway does about keys and certificates on its own, at start and every
 * MAINTENANCE_INTERVAL_MS: retires keys whose overlap has ended (destroying their private keys), picks up
 * changes the CLI made in the same data directory (announceExternalChange), and warns in the log, once a
 * day per certificate, about certificates within EXPIRY_WARNING_DAYS of expiry.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import { certificateExpiries, expiryWarnings, type ExpirySources } from './expiry.ts';
import { DAY_MS, type KeyContext } from './key-context.ts';
import { retireEndedOverlaps } from './lifecycle.ts';

export const MAINTENANCE_INTERVAL_MS = 30_000;
const EXTERNAL_CHANGE_SETTING = 'keys.external-change';

/** Called by the CLI after every change: running gateways on the same data directory reload at their next tick. */
export async function announceExternalChange(store: Store, nowMs: number): Promise<void> {
  await store.putSetting(EXTERNAL_CHANGE_SETTING, `${new Date(nowMs).toISOString()} ${process.pid}`);
}

export interface KeyMaintenanceDeps {
  keys: KeyContext;
  expiries: ExpirySources;
  log: Logger;
  /** Rereads trust and the signing identity from the Store. */
  reload(): Promise<void>;
  /** Whether this process logs expiry warnings (in a cluster, the one serving admin). */
  warnExpiries: boolean;
}

export interface KeyMaintenance {
  tick(): Promise<void>;
  stop(): void;
}

export async function startKeyMaintenance(deps: KeyMaintenanceDeps): Promise<KeyMaintenance> {
  const { keys, log } = deps;
  let seenChange = await keys.store.getSetting(EXTERNAL_CHANGE_SETTING);
  const warnedOn = new Map<string, number>();

  async function tick(): Promise<void> {
    for (const retired of await retireEndedOverlaps(keys)) {
      log.info({ keyId: retired.id, kid: retired.kid }, 'overlap ended: signing key retired, its private key destroyed');
    }
    const change = await keys.store.getSetting(EXTERNAL_CHANGE_SETTING);
    if (change !== seenChange) {
      seenChange = change;
      await deps.reload();
      log.info('loaded keys and trust changed by the CLI');
    }
    if (!deps.warnExpiries) return;
    const now = keys.nowMs();
    const today = Math.floor(now / DAY_MS);
    for (const warning of expiryWarnings(await certificateExpiries(deps.expiries, now))) {
      const key = `${warning.scope}:${warning.region}:${warning.kid}`;
      if (warnedOn.get(key) === today) continue;
      warnedOn.set(key, today);
      log.warn({ scope: warning.scope, region: warning.region, kid: warning.kid, notAfter: warning.notAfter, daysLeft: warning.daysLeft }, warning.message);
    }
  }

  const guarded = () => tick().catch((error: unknown) => log.error({ err: error }, 'key maintenance failed'));
  await guarded();
  const timer = setInterval(guarded, MAINTENANCE_INTERVAL_MS);
  timer.unref();
  return { tick, stop: () => clearInterval(timer) };
}

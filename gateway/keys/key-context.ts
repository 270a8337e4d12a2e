/**
 * What every key operation works with, in the gateway (admin API) and in the CLI alike: the Store of the
 * data directory, the passphrase keys are sealed with, the clock, and whether configured PEM files sign
 * instead of the stored keys.
 */
import type { Settings } from '../../config/settings.ts';
import type { Store } from '../store/store.ts';

export interface KeyContext {
  store: Store;
  /** XR_KEY_PASSPHRASE: when set, private keys are stored encrypted with it. */
  passphrase: string | undefined;
  nowMs(): number;
  /** XR_SIGNING_KEY_FILE / XR_SIGNING_CERT_FILE are set: those files sign, and stored keys cannot be activated. */
  identityFromFiles: boolean;
}

export function keyContext(settings: Settings, store: Store, nowMs: () => number = Date.now): KeyContext {
  return {
    store,
    passphrase: settings.keyPassphrase,
    nowMs,
    identityFromFiles: settings.signingKeyFile !== undefined && settings.signingCertFile !== undefined,
  };
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole days from `nowMs` until `untilMs`, rounded down; negative once past. */
export function daysLeft(untilMs: number, nowMs: number): number {
  return Math.floor((untilMs - nowMs) / DAY_MS);
}

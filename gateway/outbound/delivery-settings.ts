/**
 * A partner's delivery and circuit-breaker settings (PROTOCOL §7 `delivery` and `breaker`), with the
 * defaults for whatever its registration leaves out.
 */
import type { BreakerSettings, DeliverySettings, Partner } from '../store/store.ts';

export const DEFAULT_DELIVERY: Readonly<DeliverySettings> = {
  timeoutMs: 10_000,
  maxAttempts: 10,
  backoffMs: 1_000,
  maxBackoffMs: 300_000,
};

/**
 * volumeThreshold: opossum's default is 0, which opens the breaker on the very first failure
 * (shared/NOTES.md); five attempts in the rolling window must be seen first.
 */
export const DEFAULT_BREAKER: Readonly<BreakerSettings> = {
  volumeThreshold: 5,
  errorThresholdPercentage: 50,
  resetTimeoutMs: 30_000,
};

export function deliverySettingsOf(partner: Partner): DeliverySettings {
  return { ...DEFAULT_DELIVERY, ...partner.delivery };
}

export function breakerSettingsOf(partner: Partner): BreakerSettings {
  return { ...DEFAULT_BREAKER, ...partner.breaker };
}

/**
 * One circuit breaker (opossum) per partner endpoint (PROTOCOL §6). While a partner's breaker is open nothing
 * is sent to it and its messages wait in the queue; half-open lets one trial attempt through; other partners
 * are unaffected. A breaker is rebuilt when its partner's endpoint or settings change and shut down when the
 * partner is removed. An operator can hold a breaker open (maintenance) or closed, over what opossum decides.
 *
 * opossum's own `capacity` is not used to limit concurrency: a call over capacity counts as a failure. The
 * dispatcher asks `room()` before it claims work instead.
 */
import CircuitBreaker from 'opossum';
import type { BreakerSettings, Partner } from '../store/store.ts';
import { breakerSettingsOf, deliverySettingsOf } from './delivery-settings.ts';
import { isRefusal, type Delivered } from './send-attempt.ts';

export type BreakerState = 'closed' | 'open' | 'halfOpen';
export const BREAKER_OVERRIDES = ['open', 'closed', 'auto'] as const;
export type BreakerOverride = (typeof BREAKER_OVERRIDES)[number];

/** What the breaker runs: one attempt, cancelled through `controller` when the breaker's timeout fires. */
export interface BreakerCall {
  controller: AbortController;
  run(signal: AbortSignal): Promise<Delivered>;
}

export interface BreakerView {
  partner: string;
  state: BreakerState;
  /** Set by an operator; null when opossum decides. */
  override: 'open' | 'closed' | null;
  endpoint: string;
  inFlight: number;
  settings: BreakerSettings;
  /** Over opossum's rolling window (10 s). */
  window: { fires: number; successes: number; failures: number; timeouts: number; rejects: number };
}

interface PartnerBreaker {
  /** The registration it was built from: the same object is the same settings, without a fingerprint. */
  partner: Partner;
  fingerprint: string;
  endpoint: string;
  settings: BreakerSettings;
  breaker: CircuitBreaker<[BreakerCall], Delivered>;
}

export interface PartnerBreakersOptions {
  perPartnerConcurrency: number;
  /** Called on every state change (and override): the dispatcher wakes to send what may now go. */
  onChange(partner: string, state: BreakerState): void;
}

function stateOf(breaker: CircuitBreaker): BreakerState {
  return breaker.opened ? 'open' : breaker.halfOpen ? 'halfOpen' : 'closed';
}

export class PartnerBreakers {
  readonly #breakers = new Map<string, PartnerBreaker>();
  readonly #overrides = new Map<string, 'open' | 'closed'>();
  readonly #inFlight = new Map<string, number>();

  constructor(private readonly options: PartnerBreakersOptions) {}

  /** Matches the breakers to the registered partners: new ones built, changed ones rebuilt, removed ones dropped. */
  sync(partners: readonly Partner[]): void {
    const registered = new Set<string>();
    for (const partner of partners) {
      registered.add(partner.region);
      const existing = this.#breakers.get(partner.region);
      // Called on every dispatcher pass: an unchanged registration is the same object (Directory replaces, never edits).
      if (existing?.partner === partner) continue;
      const settings = breakerSettingsOf(partner);
      const { timeoutMs } = deliverySettingsOf(partner);
      const fingerprint = JSON.stringify([partner.endpoint, settings, timeoutMs]);
      if (existing?.fingerprint === fingerprint) {
        existing.partner = partner;
        continue;
      }
      existing?.breaker.shutdown();
      this.#breakers.set(partner.region, { partner, fingerprint, endpoint: partner.endpoint, settings, breaker: this.#build(partner.region, settings, timeoutMs) });
    }
    for (const [region, entry] of this.#breakers) {
      if (registered.has(region)) continue;
      entry.breaker.shutdown();
      this.#breakers.delete(region);
    }
  }

  #build(region: string, settings: BreakerSettings, timeoutMs: number): CircuitBreaker<[BreakerCall], Delivered> {
    const breaker = new CircuitBreaker((call: BreakerCall) => call.run(call.controller.signal), {
      name: region,
      timeout: timeoutMs,
      volumeThreshold: settings.volumeThreshold,
      errorThresholdPercentage: settings.errorThresholdPercentage,
      resetTimeout: settings.resetTimeoutMs,
      errorFilter: isRefusal,
      enableSnapshots: false,
      rollingPercentilesEnabled: false,
    });
    // opossum's timeout only rejects the promise (its 'failure' follows); aborting the attempt's own signal
    // cancels the request itself. For any other failure the request has already ended and abort does nothing.
    breaker.on('failure', (_error, _latency, [call]) => call.controller.abort());
    const changed = () => this.options.onChange(region, stateOf(breaker));
    breaker.on('open', changed);
    breaker.on('halfOpen', changed);
    breaker.on('close', changed);
    this.#apply(breaker, this.#overrides.get(region));
    return breaker;
  }

  #apply(breaker: CircuitBreaker<[BreakerCall], Delivered>, override: 'open' | 'closed' | undefined): void {
    if (override === 'closed') {
      // Disabled, opossum runs every call without counting it, so nothing re-opens the breaker.
      breaker.close();
      breaker.disable();
    } else {
      breaker.enable();
    }
  }

  state(region: string): BreakerState | undefined {
    const entry = this.#breakers.get(region);
    if (!entry) return undefined;
    return this.#overrides.get(region) ?? stateOf(entry.breaker);
  }

  /** How many more attempts may start for `region` now: none while open, one trial while half-open. */
  room(region: string): number {
    const state = this.state(region);
    const inFlight = this.#inFlight.get(region) ?? 0;
    if (state === undefined || state === 'open') return 0;
    if (state === 'halfOpen') return inFlight === 0 ? 1 : 0;
    return Math.max(0, this.options.perPartnerConcurrency - inFlight);
  }

  async fire(region: string, call: BreakerCall): Promise<Delivered> {
    const entry = this.#breakers.get(region);
    if (!entry) throw new Error(`no circuit breaker for ${region}`);
    this.#inFlight.set(region, (this.#inFlight.get(region) ?? 0) + 1);
    try {
      return await entry.breaker.fire(call);
    } finally {
      this.#inFlight.set(region, (this.#inFlight.get(region) ?? 1) - 1);
    }
  }

  /** An operator's decision: hold open, hold closed, or back to automatic. Overrides outlive rebuilds. */
  force(region: string, override: BreakerOverride): void {
    if (override === 'auto') this.#overrides.delete(region);
    else this.#overrides.set(region, override);
    const entry = this.#breakers.get(region);
    if (entry) this.#apply(entry.breaker, this.#overrides.get(region));
    this.options.onChange(region, this.state(region) ?? 'closed');
  }

  view(): BreakerView[] {
    return [...this.#breakers.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([region, entry]) => {
      const { fires, successes, failures, timeouts, rejects } = entry.breaker.stats;
      return {
        partner: region,
        state: this.state(region)!,
        override: this.#overrides.get(region) ?? null,
        endpoint: entry.endpoint,
        inFlight: this.#inFlight.get(region) ?? 0,
        settings: entry.settings,
        window: { fires, successes, failures, timeouts, rejects },
      };
    });
  }

  shutdown(): void {
    for (const entry of this.#breakers.values()) entry.breaker.shutdown();
    this.#breakers.clear();
  }
}

/**
 * What happens after an attempt (PROTOCOL §6), as pure functions: a delivered message keeps its receipt; a
 * refusal (a verified 4xx other than 429) ends in `failed`; anything else is retried with exponential
 * backoff and jitter, no sooner than the partner's Retry-After, until the attempts run out (`dead`).
 */
import type { DeliverySettings, OutboundReceipt, OutboundSettlement } from '../store/store.ts';

/**
 * How an attempt ended. `reason` becomes the message's lastError (shown to local systems and operators by the
 * API); `logged`, when set, is what the log line says instead — the reason without the partner's own words (a
 * problem's detail may name the applicant, and an unverified answer may come from anyone on the way).
 */
export type AttemptOutcome =
  | { kind: 'delivered'; receipt: OutboundReceipt; note?: string }
  /** Final: the partner refused the message itself; sending it again would be refused again. */
  | { kind: 'refused'; reason: string; receipt?: OutboundReceipt; logged?: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number; logged?: string };

/** A partner's Retry-After is honoured up to a day; beyond that it is more likely a bug than a plan. */
export const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

/**
 * The wait after the `failures`-th failed attempt: backoffMs · 2^(failures−1), capped at maxBackoffMs, with
 * "equal jitter" — half of it fixed, half random — so that the messages queued during an outage do not all
 * come back at the same instant, and no retry comes sooner than half the step.
 */
export function backoffDelayMs(failures: number, delivery: DeliverySettings, random: () => number): number {
  const step = Math.min(delivery.maxBackoffMs, delivery.backoffMs * 2 ** Math.min(Math.max(failures - 1, 0), 40));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** RFC 9110 §10.2.3: `Retry-After` is delay-seconds or an HTTP-date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}

/** The Store settlement for an attempt that ended with `outcome`, the message having had `attemptsBefore`. */
/** The lastError of a message that ran out of attempts: why the last one failed, and that it was the last. */
export function gaveUp(reason: string, attempts: number): string {
  return `${reason} (gave up after ${attempts} attempts)`;
}

export function settlementOf(
  outcome: AttemptOutcome,
  attemptsBefore: number,
  delivery: DeliverySettings,
  nowMs: number,
  random: () => number,
): OutboundSettlement {
  switch (outcome.kind) {
    case 'delivered':
      return { status: 'delivered', receipt: outcome.receipt, ...(outcome.note === undefined ? {} : { lastError: outcome.note }) };
    case 'refused':
      return { status: 'failed', lastError: outcome.reason, ...(outcome.receipt === undefined ? {} : { receipt: outcome.receipt }) };
    case 'retry': {
      const attempts = attemptsBefore + 1;
      if (attempts >= delivery.maxAttempts) return { status: 'dead', lastError: gaveUp(outcome.reason, attempts) };
      const delay = Math.max(backoffDelayMs(attempts, delivery, random), outcome.retryAfterMs ?? 0);
      return { status: 'queued', nextAttemptAtMs: nowMs + delay, lastError: outcome.reason };
    }
  }
}

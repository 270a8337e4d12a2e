/**
 * The delivery side of the outbox (PROTOCOL §6): claims due messages from the Store, sends each through its
 * partner's circuit breaker, and records how the attempt ended.
 *
 *   wake (on enqueue, settle, breaker change, timer) → for each partner with due messages and room:
 *   claim (atomic in the Store) → send (breakers.ts → send-attempt.ts) → settle (retry-policy.ts)
 *
 * No polling: the dispatcher is woken by whatever can make work possible, and otherwise sleeps on one timer
 * set for the earliest next attempt. A partner's messages wait, uncounted, while its breaker is open.
 * On start, messages left in delivering by a crash go back to queued: they are sent again with the same
 * X-XR-Idempotency-Key (their id), so the partner drops a copy it already has. On stop, claiming stops,
 * attempts in flight get a bounded grace to finish, and the rest are cancelled and put back in the queue.
 */
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import type { RegionTable } from '../../adapters/regions/index.ts';
import type { Signer } from '../../certs/jws.ts';
import type { ClientIdentity } from '../tls/partner-client-tls.ts';
import type { Directory } from '../directory.ts';
import { XrError } from '../protocol/errors.ts';
import type { SignatureAlgorithm } from '../protocol/messages.ts';
import type { DeliverySettings, OutboundMessage, OutboundStatus, OutboundSummary, Partner, Store } from '../store/store.ts';
import { BREAKER_OVERRIDES, PartnerBreakers, type BreakerOverride, type BreakerState, type BreakerView } from './breakers.ts';
import type { Clock } from './clock.ts';
import { DEFAULT_DELIVERY, deliverySettingsOf } from './delivery-settings.ts';
import { partnerBodyOf } from './partner-body.ts';
import { settlementOf, type AttemptOutcome } from './retry-policy.ts';
import { DeliveryFailure, partnerHttpClient, sendAttempt, type Attempt, type AttemptWire, type Delivered } from './send-attempt.ts';

export interface DispatcherTuning {
  /** Attempts in flight at once, all partners together. */
  concurrency: number;
  /** Attempts in flight at once to one partner: a partner that hangs cannot take every slot. */
  perPartnerConcurrency: number;
  /** On stop, how long attempts in flight may take to finish before they are cancelled and requeued. */
  shutdownGraceMs: number;
  /**
   * Look for work at least this often. Unset in one process, where everything that makes work possible
   * wakes the dispatcher; set in a cluster, where other workers queue messages it is not told about.
   */
  sweepMs?: number;
}

export const DEFAULT_TUNING: Readonly<DispatcherTuning> = { concurrency: 32, perPartnerConcurrency: 8, shutdownGraceMs: 5_000 };

export interface DispatcherDeps {
  ownRegion: string;
  algorithms: readonly SignatureAlgorithm[];
  store: Store;
  directory: Directory;
  regions: RegionTable;
  signer(): Signer;
  /** Huzhou's TLS certificate for partners that require mutual TLS (gateway/tls/). */
  tlsClient?: ClientIdentity;
  clock: Clock;
  log: Logger;
  tuning?: Partial<DispatcherTuning>;
  /** One attempt; by default over HTTP (send-attempt.ts). Tests of scheduling give their own. */
  send?(attempt: Attempt): Promise<Delivered>;
  /** For the backoff jitter. */
  random?(): number;
}

export interface DispatcherEvents {
  attempt: [{ id: string; target: string; attempt: number }];
  settled: [{ id: string; target: string; status: OutboundStatus; attempts: number; lastError: string | null; wire: AttemptWire }];
  released: [{ id: string; target: string }];
  breaker: [{ partner: string; state: BreakerState }];
}

interface Flight {
  controller: AbortController;
  /** Set on stop: an attempt that has not delivered goes back to the queue uncounted. */
  cancelled: boolean;
  done: Promise<void>;
}

const OVERRIDE_SETTING = 'breaker-override:';

export class DeliveryDispatcher {
  readonly events = new EventEmitter<DispatcherEvents>();
  readonly #deps: DispatcherDeps;
  readonly #tuning: DispatcherTuning;
  readonly #breakers: PartnerBreakers;
  readonly #flights = new Map<string, Flight>();
  readonly #send: (attempt: Attempt) => Promise<Delivered>;
  #pumping: Promise<void> | undefined;
  #wokenWhilePumping = false;
  #cancelTimer: (() => void) | undefined;
  #stopping = false;

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
    this.#tuning = { ...DEFAULT_TUNING, ...deps.tuning };
    this.#breakers = new PartnerBreakers({
      perPartnerConcurrency: this.#tuning.perPartnerConcurrency,
      onChange: (partner, state) => {
        deps.log.info({ partner, state }, 'circuit breaker changed');
        this.events.emit('breaker', { partner, state });
        this.wake();
      },
    });
    const http = partnerHttpClient();
    this.#send = deps.send ?? ((attempt) => sendAttempt(attempt, {
      ownRegion: deps.ownRegion,
      algorithms: deps.algorithms,
      signer: deps.signer,
      trust: () => deps.directory.trust,
      regions: deps.regions,
      nowMs: () => deps.clock.nowMs(),
      http,
      tlsClient: deps.tlsClient,
    }));
  }

  /** Crash recovery, the operators' breaker overrides, then the first look for work. */
  async start(): Promise<void> {
    const { store, clock, log } = this.#deps;
    const released = await store.outboxRelease('all', clock.nowMs());
    if (released > 0) log.warn({ released }, 'messages left in delivering by the last run are queued again');
    for (const partner of this.#deps.directory.allPartners()) {
      const override = await store.getSetting(`${OVERRIDE_SETTING}${partner.region}`);
      if (override === 'open' || override === 'closed') this.#breakers.force(partner.region, override);
    }
    this.wake();
  }

  /** Look for work now (coalesced: a wake during a pass makes one more pass). */
  wake(): void {
    if (this.#stopping) return;
    if (this.#pumping) {
      this.#wokenWhilePumping = true;
      return;
    }
    this.#pumping = this.#pump()
      .catch((error: unknown) => this.#deps.log.error({ err: error }, 'outbox dispatch failed'))
      .finally(() => {
        this.#pumping = undefined;
        if (this.#wokenWhilePumping) {
          this.#wokenWhilePumping = false;
          this.wake();
        }
      });
  }

  async #pump(): Promise<void> {
    const { store, directory, clock } = this.#deps;
    this.#breakers.sync(directory.allPartners());
    let claimedAny = false;
    let nextDue = Number.POSITIVE_INFINITY;
    const now = clock.nowMs();
    for (const { target, nextAttemptAtMs } of await store.outboxQueuedTargets()) {
      const free = this.#tuning.concurrency - this.#flights.size;
      if (this.#stopping || free <= 0) break;
      if (nextAttemptAtMs > now) {
        nextDue = Math.min(nextDue, nextAttemptAtMs);
        continue;
      }
      const partner = directory.partner(target);
      if (!partner) {
        await this.#failUnregistered(target, now);
        claimedAny = true;
        continue;
      }
      // No room: an open breaker wakes us when it half-opens, a busy partner when an attempt settles.
      const room = Math.min(free, this.#breakers.room(target));
      if (room <= 0) continue;
      for (const message of await store.outboxClaim(target, now, room)) {
        claimedAny = true;
        this.#launch(message, partner);
      }
    }
    // After claiming, a partner's next message may be due later: one more pass sees its time.
    if (claimedAny) this.#wokenWhilePumping = true;
    else this.#scheduleAt(nextDue);
  }

  #scheduleAt(dueMs: number): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    const { sweepMs } = this.#tuning;
    const now = this.#deps.clock.nowMs();
    const wakeAt = sweepMs === undefined ? dueMs : Math.min(dueMs, now + sweepMs);
    if (this.#stopping || !Number.isFinite(wakeAt)) return;
    this.#cancelTimer = this.#deps.clock.setTimer(wakeAt - now, () => {
      this.#cancelTimer = undefined;
      this.wake();
    });
  }

  /** A partner removed from the registry: its queued messages cannot go anywhere. An operator may requeue them. */
  async #failUnregistered(target: string, now: number): Promise<void> {
    const { store } = this.#deps;
    for (const message of await store.outboxClaim(target, now, 100)) {
      await this.#settle(message, { kind: 'refused', reason: `XR_PARTNER_UNKNOWN: ${target} is no longer a registered partner` }, DEFAULT_DELIVERY);
    }
  }

  #launch(message: OutboundMessage, partner: Partner): void {
    const flight: Flight = { controller: new AbortController(), cancelled: this.#stopping, done: Promise.resolve() };
    this.#flights.set(message.id, flight);
    flight.done = this.#deliver(message, partner, flight)
      .catch((error: unknown) => this.#deps.log.error({ err: error, id: message.id }, 'delivery bookkeeping failed'))
      .finally(() => {
        this.#flights.delete(message.id);
        this.wake();
      });
  }

  async #deliver(message: OutboundMessage, partner: Partner, flight: Flight): Promise<void> {
    if (flight.cancelled) return this.#release(message);
    const delivery = deliverySettingsOf(partner);
    const wire: AttemptWire = {};
    let outcome: AttemptOutcome;
    try {
      outcome = await this.#breakers.fire(partner.region, {
        controller: flight.controller,
        run: (signal) => {
          // An attempt starts only when the breaker lets the call run: one that opened meanwhile sends nothing.
          this.events.emit('attempt', { id: message.id, target: message.target, attempt: message.attempts + 1 });
          return this.#send({ message, partner, format: this.#deps.directory.formatOf(partner), timeoutMs: delivery.timeoutMs, signal, wire });
        },
      });
    } catch (error) {
      if (flight.cancelled) return this.#release(message);
      const notSent = this.#notSent(error);
      if (notSent) return this.#release(message);
      outcome = this.#failureOutcome(error, delivery);
    }
    await this.#settle(message, outcome, delivery, wire);
  }

  /** The breaker refused before anything was sent (it opened meanwhile, or was rebuilt): not an attempt. */
  #notSent(error: unknown): boolean {
    if (!(error instanceof Error) || !CircuitBreaker.isOurError(error)) return false;
    const code = (error as { code?: string }).code;
    return code === 'EOPENBREAKER' || code === 'ESHUTDOWN';
  }

  #failureOutcome(error: unknown, delivery: DeliverySettings): AttemptOutcome {
    if (error instanceof DeliveryFailure) return error.outcome;
    if (error instanceof Error && CircuitBreaker.isOurError(error)) {
      return { kind: 'retry', reason: `XR_UPSTREAM_TIMEOUT: the partner did not answer within ${delivery.timeoutMs} ms` };
    }
    this.#deps.log.error({ err: error }, 'unexpected error in a delivery attempt');
    return { kind: 'retry', reason: 'internal error in the gateway while sending' };
  }

  async #settle(message: OutboundMessage, outcome: AttemptOutcome, delivery: DeliverySettings, wire: AttemptWire = {}): Promise<void> {
    const { store, clock, log } = this.#deps;
    const now = clock.nowMs();
    const settlement = settlementOf(outcome, message.attempts, delivery, now, this.#deps.random ?? Math.random);
    if (!(await store.outboxSettle(message.id, settlement, now))) {
      log.warn({ id: message.id }, 'an attempt ended on a message that was no longer in delivering');
      return;
    }
    const attempts = message.attempts + 1;
    const lastError = settlement.lastError ?? null;
    const fields = { id: message.id, target: message.target, messageType: message.messageType, attempts };
    if (settlement.status === 'delivered') log.info({ ...fields, status: settlement.receipt.status }, 'message delivered');
    else if (settlement.status === 'queued') log.warn({ ...fields, lastError, nextAttemptAt: new Date(settlement.nextAttemptAtMs).toISOString() }, 'delivery attempt failed, will retry');
    else log.error({ ...fields, status: settlement.status, lastError }, `message ${settlement.status}`);
    this.events.emit('settled', { id: message.id, target: message.target, status: settlement.status, attempts, lastError, wire });
  }

  async #release(message: OutboundMessage): Promise<void> {
    await this.#deps.store.outboxRelease([message.id], this.#deps.clock.nowMs());
    this.events.emit('released', { id: message.id, target: message.target });
  }

  /** Whether every attempt in flight has ended within `withinMs`. */
  async #flightsDone(withinMs: number): Promise<boolean> {
    if (this.#flights.size === 0) return true;
    const ended = Promise.allSettled([...this.#flights.values()].map((flight) => flight.done)).then(() => true);
    let cancel = () => {};
    const late = new Promise<false>((resolve) => {
      cancel = this.#deps.clock.setTimer(withinMs, () => resolve(false));
    });
    const done = await Promise.race([ended, late]);
    cancel();
    return done;
  }

  breakers(): BreakerView[] {
    this.#breakers.sync(this.#deps.directory.allPartners());
    return this.#breakers.view();
  }

  /** An operator's override; kept in the Store, so it survives a restart (PROTOCOL §7). */
  async forceBreaker(region: string, override: BreakerOverride): Promise<BreakerView> {
    if (!this.#deps.directory.partner(region)) throw new XrError('XR_NOT_FOUND', `no partner ${region}`);
    if (!BREAKER_OVERRIDES.includes(override)) throw new XrError('XR_BAD_REQUEST', `state: one of ${BREAKER_OVERRIDES.join(', ')}`);
    await this.#deps.store.putSetting(`${OVERRIDE_SETTING}${region}`, override);
    this.#breakers.sync(this.#deps.directory.allPartners());
    this.#breakers.force(region, override);
    return this.#breakers.view().find((view) => view.partner === region)!;
  }

  /**
   * An operator's retry of a failed or dead message: translated again with the partner's current format,
   * attempts from zero, due now.
   */
  async requeue(id: string): Promise<OutboundSummary> {
    const { store, directory, clock } = this.#deps;
    const message = await store.outboxGet(id);
    if (!message) throw new XrError('XR_NOT_FOUND', `no outbound message ${id}`);
    if (message.status !== 'failed' && message.status !== 'dead') {
      throw new XrError('XR_BAD_REQUEST', `message ${id} is ${message.status}; only failed or dead messages can be requeued`);
    }
    const partner = directory.partner(message.target);
    if (!partner) throw new XrError('XR_PARTNER_UNKNOWN', `${message.target} is not a registered partner: register it again first`);
    const body = await partnerBodyOf(directory, partner, message.messageType, JSON.parse(message.canonical) as object);
    const requeued = await store.outboxRequeue(id, clock.nowMs(), body);
    if (!requeued) throw new XrError('XR_BAD_REQUEST', `message ${id} changed meanwhile; look again`);
    this.wake();
    return requeued;
  }

  /** Stops claiming; waits up to the grace for attempts in flight, then cancels and requeues the rest. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#cancelTimer?.();
    await this.#pumping;
    if (!(await this.#flightsDone(this.#tuning.shutdownGraceMs))) {
      this.#deps.log.warn({ inFlight: this.#flights.size }, 'delivery attempts still running at shutdown are cancelled and requeued');
      for (const flight of this.#flights.values()) {
        flight.cancelled = true;
        flight.controller.abort();
      }
      // A cancelled attempt requeues its message itself; one that ignores the cancellation is requeued here.
      if (!(await this.#flightsDone(this.#tuning.shutdownGraceMs))) {
        await this.#deps.store.outboxRelease([...this.#flights.keys()], this.#deps.clock.nowMs());
      }
    }
    this.#breakers.shutdown();
  }
}

/**
 * The delivery side of the outbox (PROTOCOL §6): claims due messages from the Store, sends each through its
 * partner's circuit breaker, and records how the attempt ended.
 *
 *   wake (on enqueue, settle, breaker change, timer) → for each partner with due messages and room:
 *   claim (atomic in the Store) → send (breakers.ts → send-attempt.ts) → settle (retry-policy.ts)
 *
 * No polling: the dispatcher is woken by whatever can make work possible, and otherwise sleeps on one timer
 * set for the earliest next attempt. It remembers which partners have messages due (due-targets.ts), so a
 * wake does not ask the Store. It claims ahead: up to perPartnerConcurrency messages beyond a partner's free
 * send slots wait in memory (still in delivering), so a slot that frees starts the next attempt at once
 * while the finished one is settled. A partner's messages wait, uncounted, while its breaker is open.
 * On start, messages left in delivering by a crash go back to queued: they are sent again with the same
 * X-XR-Idempotency-Key (their id), so the partner drops a copy it already has. On stop, claiming stops,
 * claimed messages not yet sent go back to the queue, attempts in flight get a bounded grace to finish, and
 * the rest are cancelled and put back in the queue.
 */
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import type { RegionTable } from '../../adapters/regions/index.ts';
import type { Signer } from '../../certs/jws.ts';
import type { SignaturePlacement } from '../../certs/signature.ts';
import type { ClientIdentity } from '../tls/partner-client-tls.ts';
import type { Directory } from '../directory.ts';
import type { HttpClient } from '../http/client.ts';
import { XrError } from '../protocol/errors.ts';
import type { MessageType, SignatureAlgorithm } from '../protocol/messages.ts';
import type { DeliverySettings, OutboundMessage, OutboundStatus, OutboundSummary, Partner, Store } from '../store/store.ts';
import { BREAKER_OVERRIDES, PartnerBreakers, type BreakerOverride, type BreakerState, type BreakerView } from './breakers.ts';
import type { Clock } from './clock.ts';
import { DEFAULT_DELIVERY, deliverySettingsOf } from './delivery-settings.ts';
import { DueTargets } from './due-targets.ts';
import { partnerBodyOf } from './partner-body.ts';
import { gaveUp, settlementOf, type AttemptOutcome } from './retry-policy.ts';
import { DeliveryFailure, partnerHttpClient, sendAttempt, type Attempt, type AttemptWire, type Delivered } from './send-attempt.ts';

export interface DispatcherTuning {
  /**
   * Messages held at once, all partners together: being sent, being settled, or claimed and next in line for
   * a send slot. Bounds the memory their bodies take.
   */
  concurrency: number;
  /**
   * Attempts in flight at once to one partner (its send slots): a partner that hangs cannot take every
   * slot. As many again are claimed ahead while its breaker is closed.
   */
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
  /** Where signatures are computed (certs/signature.ts): inline or on libuv's pool. */
  signatures: SignaturePlacement;
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

/** A settled attempt, with what the audit trail records of its message (no need to read it back). */
export interface SettledAttempt {
  id: string;
  target: string;
  messageType: MessageType;
  status: OutboundStatus;
  attempts: number;
  lastError: string | null;
  /** The partner's answer's status, when delivered. */
  receiptStatus: number | undefined;
  partnerBody: Buffer;
  canonical: string;
  wire: AttemptWire;
}

export interface DispatcherEvents {
  attempt: [{ id: string; target: string; attempt: number }];
  settled: [SettledAttempt];
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
  readonly #http: HttpClient | undefined;
  /** Attempts being sent or settled. */
  readonly #flights = new Map<string, Flight>();
  /** Claimed messages next in line for one of their partner's send slots, oldest due first. */
  readonly #ready = new Map<string, OutboundMessage[]>();
  #readyCount = 0;
  readonly #due = new DueTargets();
  readonly #send: (attempt: Attempt) => Promise<Delivered>;
  #pumping: Promise<void> | undefined;
  #wokenWhilePumping = false;
  /** Read from the Store which partners have queued messages before the next pass. */
  #reseed = false;
  #seededAtMs = Number.NEGATIVE_INFINITY;
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
        this.#pass();
      },
    });
    if (deps.send) {
      this.#send = deps.send;
    } else {
      const http = partnerHttpClient();
      this.#http = http;
      this.#send = (attempt) => sendAttempt(attempt, {
        ownRegion: deps.ownRegion,
        algorithms: deps.algorithms,
        signatures: deps.signatures,
        signer: deps.signer,
        trust: () => deps.directory.trust,
        regions: deps.regions,
        nowMs: () => deps.clock.nowMs(),
        http,
        tlsClient: deps.tlsClient,
      });
    }
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

  /**
   * Look for work now, reading from the Store which partners have queued messages: for a change the
   * dispatcher was not told of (messages queued by another process or tool).
   */
  wake(): void {
    this.#reseed = true;
    this.#pass();
  }

  /** A message for `target` was committed to the outbox, due now: it is sent without asking the Store what is queued. */
  queued(target: string): void {
    this.#due.note(target, this.#deps.clock.nowMs());
    this.#pass();
  }

  /** One more pass over what is due (coalesced: a request during a pass makes one more pass). */
  #pass(): void {
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
          this.#pass();
        }
      });
  }

  async #pump(): Promise<void> {
    const { store, directory, clock } = this.#deps;
    this.#breakers.sync(directory.allPartners());
    // In a cluster, the sweep: other workers queue messages this one is not told of.
    const { sweepMs } = this.#tuning;
    if (this.#reseed || (sweepMs !== undefined && clock.nowMs() - this.#seededAtMs >= sweepMs)) {
      this.#reseed = false;
      this.#seededAtMs = clock.nowMs();
      await this.#due.seed(() => store.outboxQueuedTargets());
    }
    await this.#tendReady();
    let claimedAny = false;
    const now = clock.nowMs();
    for (const target of this.#due.dueAt(now).due) {
      const free = this.#tuning.concurrency - this.#flights.size - this.#readyCount;
      if (this.#stopping || free <= 0) break;
      if (!directory.partner(target)) {
        await this.#failUnregistered(target, now);
        claimedAny = true;
        continue;
      }
      // No room: an open breaker wakes us when it half-opens, a busy partner when an attempt ends.
      const room = Math.min(free, this.#claimRoom(target));
      if (room <= 0) continue;
      const claimed = await store.outboxClaim(target, now, room);
      // Fewer than asked: nothing more is due now, and only the Store knows when the next one is.
      if (claimed.length < room) await this.#due.refresh(target, () => store.outboxNextDue(target));
      if (claimed.length === 0) continue;
      claimedAny = true;
      this.#ready.set(target, [...(this.#ready.get(target) ?? []), ...claimed]);
      this.#readyCount += claimed.length;
      this.#startReady(target);
    }
    // After claiming, a partner's next message may be due later: one more pass sees its time.
    if (claimedAny) this.#wokenWhilePumping = true;
    else this.#scheduleAt(this.#due.dueAt(now).nextMs);
  }

  /**
   * How many more messages to claim for `target`: enough for its free send slots, and while its breaker is
   * closed as many again to wait next in line. Open: none; half-open: the one trial.
   */
  #claimRoom(target: string): number {
    const ahead = this.#breakers.state(target) === 'closed' ? this.#tuning.perPartnerConcurrency : 0;
    return this.#breakers.room(target) + ahead - (this.#ready.get(target)?.length ?? 0);
  }

  /** Starts attempts for claimed messages of `target` while it has free send slots. */
  #startReady(target: string): void {
    const ready = this.#ready.get(target);
    const partner = this.#deps.directory.partner(target);
    if (!ready || !partner || this.#stopping) return;
    const starting = ready.splice(0, this.#breakers.room(target));
    this.#readyCount -= starting.length;
    if (ready.length === 0) this.#ready.delete(target);
    for (const message of starting) this.#launch(message, partner);
  }

  /** Claimed messages that cannot go now: back to the queue if the breaker opened, failed if the partner is gone. */
  async #tendReady(): Promise<void> {
    const now = this.#deps.clock.nowMs();
    for (const target of [...this.#ready.keys()]) {
      const state = this.#breakers.state(target);
      if (state === undefined) {
        for (const message of this.#takeReady(target)) await this.#settle(message, unregistered(target), DEFAULT_DELIVERY);
      } else if (state === 'open') {
        await this.#releaseAll(this.#takeReady(target), now);
      } else {
        this.#startReady(target);
      }
    }
  }

  #takeReady(target: string): OutboundMessage[] {
    const ready = this.#ready.get(target) ?? [];
    this.#ready.delete(target);
    this.#readyCount -= ready.length;
    return ready;
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
      this.#pass();
    });
  }

  /** A partner removed from the registry: its queued messages cannot go anywhere. An operator may requeue them. */
  async #failUnregistered(target: string, now: number): Promise<void> {
    const { store } = this.#deps;
    const claimed = await store.outboxClaim(target, now, 100);
    if (claimed.length < 100) await this.#due.refresh(target, () => store.outboxNextDue(target));
    for (const message of claimed) await this.#settle(message, unregistered(target), DEFAULT_DELIVERY);
  }

  #launch(message: OutboundMessage, partner: Partner): void {
    const flight: Flight = { controller: new AbortController(), cancelled: this.#stopping, done: Promise.resolve() };
    this.#flights.set(message.id, flight);
    flight.done = this.#deliver(message, partner, flight)
      .catch((error: unknown) => this.#deps.log.error({ err: error, id: message.id }, 'delivery bookkeeping failed'))
      .finally(() => {
        this.#flights.delete(message.id);
        this.#pass();
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
      if (flight.cancelled || this.#notSent(error)) {
        this.#startReady(partner.region);
        return this.#release(message);
      }
      outcome = this.#failureOutcome(error, delivery);
    }
    // The send slot is free: the next claimed message goes out while this one is settled.
    this.#startReady(partner.region);
    this.#pass();
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
    if (settlement.status === 'queued') this.#due.note(message.target, settlement.nextAttemptAtMs);
    const attempts = message.attempts + 1;
    const lastError = settlement.lastError ?? null;
    // The log says why without the partner's own words (AttemptOutcome): the API shows them in full.
    const withheld = outcome.kind === 'delivered' || outcome.logged === undefined ? undefined
      : settlement.status === 'dead' ? gaveUp(outcome.logged, attempts) : outcome.logged;
    const logged = { lastError: withheld ?? lastError };
    const fields = { id: message.id, target: message.target, messageType: message.messageType, attempts };
    if (settlement.status === 'delivered') log.info({ ...fields, status: settlement.receipt.status }, 'message delivered');
    else if (settlement.status === 'queued') log.warn({ ...fields, ...logged, nextAttemptAt: new Date(settlement.nextAttemptAtMs).toISOString() }, 'delivery attempt failed, will retry');
    else log.error({ ...fields, status: settlement.status, ...logged }, `message ${settlement.status}`);
    this.events.emit('settled', {
      id: message.id,
      target: message.target,
      messageType: message.messageType,
      status: settlement.status,
      attempts,
      lastError,
      receiptStatus: settlement.status === 'delivered' ? settlement.receipt.status : undefined,
      partnerBody: message.partnerBody,
      canonical: message.canonical,
      wire,
    });
  }

  /** Back to the queue, uncounted: an attempt that never went out, or was cancelled on stop. */
  async #release(message: OutboundMessage): Promise<void> {
    await this.#releaseAll([message], this.#deps.clock.nowMs());
  }

  async #releaseAll(messages: readonly OutboundMessage[], now: number): Promise<void> {
    if (messages.length === 0) return;
    await this.#deps.store.outboxRelease(messages.map((message) => message.id), now);
    for (const message of messages) {
      this.#due.note(message.target, now);
      this.events.emit('released', { id: message.id, target: message.target });
    }
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
    this.#due.note(requeued.target, requeued.nextAttemptAtMs);
    this.#pass();
    return requeued;
  }

  /**
   * Stops claiming and puts claimed messages not yet sent back in the queue; waits up to the grace for
   * attempts in flight, then cancels and requeues the rest.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#cancelTimer?.();
    await this.#pumping;
    await this.#releaseAll([...this.#ready.keys()].flatMap((target) => this.#takeReady(target)), this.#deps.clock.nowMs());
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
    this.#http?.close();
  }
}

function unregistered(target: string): AttemptOutcome {
  return { kind: 'refused', reason: `XR_PARTNER_UNKNOWN: ${target} is no longer a registered partner` };
}

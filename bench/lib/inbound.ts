/**
 * Inbound runs (PROTOCOL §3): signed partner messages through a server child — the crypto floor or the
 * gateway — at maximum throughput (closed loop) or at a steady rate (open loop).
 *
 * A closed-loop run is sized by its own warm-up (POOL_MARGIN): the pool outlasts the run unless the server
 * speeds up a lot after warming up (the row then says the pool ran dry, and over how long the figure was
 * taken).
 */
import { performance } from 'node:perf_hooks';
import type { ServerChild } from './child.ts';
import type { BenchConfig } from './config.ts';
import { closedLoop, openLoop, type LoadStats, type OutgoingRequest } from './load.ts';
import { measure, type Measured } from './measure.ts';
import { MESSAGE_PATH, RequestPool, signRequests, type Sender, type SignedRequest } from './pool.ts';

/**
 * The measured run's pool: the warm-up's rate × this, capped by `ceilingPerS` (the floor: the gateway
 * cannot outrun the crypto floor by much), × the duration. Generous, because a warm-up on a noisy machine
 * can come out at half the steady rate; signing costs ≈ 0.1 ms per request before the run, not during it.
 */
const POOL_MARGIN = 2.5;

export function partnerRequest(signed: SignedRequest | undefined): OutgoingRequest | undefined {
  if (!signed) return undefined;
  return {
    method: 'POST',
    path: MESSAGE_PATH,
    headers: { 'content-type': signed.sender.contentType, 'x-xr-signature': signed.signature },
    body: signed.sender.body,
  };
}

export function loadNotes(stats: LoadStats): string[] {
  const notes: string[] = [];
  if (stats.failed > 0) notes.push(`**${stats.failed} failed** (status counts ${JSON.stringify(stats.statuses)})`);
  if (stats.exhaustedAtS !== undefined) notes.push(`**pool ran dry** at ${stats.exhaustedAtS.toFixed(1)} s: figures over that time`);
  return notes;
}

export function serverNotes(measured: Measured<unknown>): string[] {
  const notes: string[] = [`load generator ${measured.loadGeneratorCores.toFixed(2)} cores`];
  if (measured.foreignCores >= 0.05) notes.push(`**other processes on the machine used ${measured.foreignCores.toFixed(2)} cores meanwhile**`);
  if (measured.loop) notes.push(`event-loop delay p99 ${measured.loop.p99Ms.toFixed(1)} ms, max ${measured.loop.maxMs.toFixed(1)} ms`);
  if (!measured.peakIsPerRun) notes.push('peak RSS is the lifetime peak (clear_refs not allowed)');
  const answered = (measured.stats as { ok?: unknown }).ok;
  if (typeof answered === 'number' && answered > 0 && measured.threads.length > 0) {
    // Clock ticks are 10 ms: threads under a few ticks are left out.
    const shown = measured.threads.filter(([, seconds]) => seconds >= 0.05).slice(0, 12);
    const perMessage = shown.map(([key, seconds]) => `${key.endsWith(':main') ? 'main' : 't'} ${Math.round((seconds * 1e6) / answered)}`);
    const total = measured.threads.reduce((sum, [, seconds]) => sum + seconds, 0);
    notes.push(`server CPU per answered message (µs, by thread, most first): ${perMessage.join(', ')}; all threads ${Math.round((total * 1e6) / answered)}`);
  }
  return notes;
}

export interface Saturated {
  measured: Measured<LoadStats>;
  notes: string[];
}

/** Called just before the measured run; the function it returns, just after, adds notes (stage timings). */
export type Observer = () => Promise<() => Promise<string[]>>;

const noObserver: Observer = async () => async () => [];

export async function saturate(
  config: BenchConfig, server: ServerChild, url: string, senders: readonly Sender[], connections: number, estimatePerS: number,
  observe: Observer = noObserver, ceilingPerS = Number.POSITIVE_INFINITY,
): Promise<Saturated> {
  // A slow message (1 MB on a busy machine) may not be answered within a short warm-up: then a longer one.
  let warm: LoadStats | undefined;
  for (let seconds = config.warmupS; (warm?.ok ?? 0) === 0 && seconds <= config.warmupS * 4; seconds *= 2) {
    const warmPool = new RequestPool(signRequests(senders, Math.ceil(estimatePerS * seconds * 1.2) + 2 * connections));
    warm = await closedLoop({ url, connections, durationS: seconds, next: () => partnerRequest(warmPool.take()) });
  }
  if (!warm || warm.ok === 0) throw new Error(`nothing succeeded during the warm-up against ${url}: ${JSON.stringify(warm?.statuses)}`);

  const size = Math.ceil(Math.min(warm.rate * POOL_MARGIN, ceilingPerS * 1.2) * config.durationS) + 2 * connections;
  const signing = performance.now();
  const pool = new RequestPool(signRequests(senders, size));
  const signingS = (performance.now() - signing) / 1000;
  const observed = await observe();
  const measured = await measure(server, () => closedLoop({ url, connections, durationS: config.durationS, next: () => partnerRequest(pool.take()) }));
  const observations = await observed();
  return {
    measured,
    notes: [
      ...loadNotes(measured.stats),
      `pool of ${size.toLocaleString('en-US')} signed requests (made in ${signingS.toFixed(1)} s before the run; ${pool.taken.toLocaleString('en-US')} used)`,
      ...serverNotes(measured),
      ...observations,
    ],
  };
}

export async function steady(
  server: ServerChild, target: { host: string; port: number }, senders: readonly Sender[], ratePerS: number, durationS: number,
): Promise<Measured<Awaited<ReturnType<typeof openLoop>>>> {
  const pool = new RequestPool(signRequests(senders, Math.ceil(ratePerS * durationS) + 10));
  return measure(server, () => openLoop({ ...target, ratePerS, durationS, next: () => partnerRequest(pool.take()) }));
}

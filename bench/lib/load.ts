/**
 * The two ways load is applied, both from this process, over keep-alive connections to 127.0.0.1:
 *
 *  - closed loop (autocannon): N connections, each sending its next request as soon as the previous one is
 *    answered — the maximum throughput, with queueing latency at that load;
 *  - open loop (ours, node:http): requests are due at a steady rate whatever the answers do, and latency is
 *    measured from when each was *due*, not when it was sent, so a stalled server cannot hide its stall
 *    (coordinated omission). autocannon's `overallRate` is not used for this: it gives each connection a
 *    budget per second that it spends back to back at the start of each second (bursts, not a steady
 *    rate), still waits for each answer before sending on that connection, and its corrected histogram
 *    records whole milliseconds.
 *
 * Latencies are kept exactly (float milliseconds, successful answers only) and percentiles taken from them.
 */
import autocannon from 'autocannon';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long an open-loop run waits, after its last request was due, for the answers still missing. */
const GIVE_UP_AFTER_MS = 5_000;

export interface OutgoingRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Where requests come from; undefined when there are no more (the run then stops). */
export type RequestSource = () => OutgoingRequest | undefined;

export interface LoadStats {
  /** 2xx answers. */
  ok: number;
  /** Other answers and connection errors (not counting the requests sent after the source ran dry). */
  failed: number;
  statuses: Record<string, number>;
  elapsedS: number;
  /** ok per second of elapsedS. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The source ran dry before the planned duration: elapsedS is shorter than planned. */
  exhaustedAtS: number | undefined;
}

class Latencies {
  #values = new Float64Array(1 << 16);
  #count = 0;

  add(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  percentile(p: number): number {
    if (this.#count === 0) return Number.NaN;
    const sorted = this.#values.slice(0, this.#count).sort();
    return sorted[Math.min(this.#count - 1, Math.max(0, Math.ceil((p / 100) * this.#count) - 1))]!;
  }

  summary(): Pick<LoadStats, 'p50Ms' | 'p99Ms' | 'maxMs'> {
    return { p50Ms: this.percentile(50), p99Ms: this.percentile(99), maxMs: this.percentile(100) };
  }
}

/** Sent once the source is dry, until autocannon notices the stop: no signature, so nothing to replay. */
const DRY_PATH = '/bench/source-ran-dry';

export async function closedLoop(options: { url: string; connections: number; durationS: number; next: RequestSource }): Promise<LoadStats> {
  const latencies = new Latencies();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let dry = 0;
  let exhaustedAt: number | undefined;
  const started = performance.now();
  let instance: autocannon.Instance;

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon({
      url: options.url,
      connections: options.connections,
      duration: options.durationS,
      // How often autocannon looks at its stop flag (ms): a dry source stops the run within 50 ms.
      sampleInt: 50,
      timeout: 30,
      requests: [{
        setupRequest: (request) => {
          const next = options.next();
          if (next) return { ...request, method: next.method, path: next.path, headers: next.headers, body: next.body ?? '' };
          if (exhaustedAt === undefined) {
            exhaustedAt = performance.now();
            instance.stop();
          }
          dry += 1;
          return { ...request, method: 'GET', path: DRY_PATH, headers: {}, body: '' };
        },
      }],
    }, (error, finished) => (error ? reject(error) : resolve(finished)));
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) {
        ok += 1;
        latencies.add(responseTime);
      }
    });
  });

  const elapsedS = ((exhaustedAt ?? performance.now()) - started) / 1000;
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    ok,
    failed: answered - ok - Math.min(dry, answered - ok) + result.errors,
    statuses,
    elapsedS,
    rate: ok / elapsedS,
    ...latencies.summary(),
    exhaustedAtS: exhaustedAt === undefined ? undefined : elapsedS,
  };
}

export async function openLoop(options: { host: string; port: number; ratePerS: number; durationS: number; next: RequestSource }): Promise<LoadStats & { maxSendLagMs: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const latencies = new Latencies();
  const statuses: Record<string, number> = {};
  const intervalMs = 1000 / options.ratePerS;
  const planned = Math.round(options.ratePerS * options.durationS);
  let ok = 0;
  let failed = 0;
  let sent = 0;
  let maxSendLagMs = 0;
  let exhaustedAt: number | undefined;
  const inFlight = new Map<Promise<void>, { dueAt: number; abort(): void }>();
  const started = performance.now();
  const count = (status: string) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
  };

  const fire = (request: OutgoingRequest, dueAt: number): void => {
    let outgoing: http.ClientRequest | undefined;
    const done = new Promise<void>((resolve) => {
      // Settled once: by the answer, by an error, or by giving up on it (then the others are ignored).
      const settle = (status: string, latencyMs?: number) => {
        if (!inFlight.delete(done)) return;
        count(status);
        if (latencyMs === undefined) failed += 1;
        else {
          ok += 1;
          latencies.add(latencyMs);
        }
        resolve();
      };
      outgoing = http.request({
        agent, host: options.host, port: options.port, method: request.method, path: request.path,
        headers: { ...request.headers, 'content-length': String(request.body?.length ?? 0) },
      }, (response) => {
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          settle(String(status), status >= 200 && status < 300 ? performance.now() - dueAt : undefined);
        });
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => settle(`error ${error.code ?? error.message}`));
    });
    inFlight.set(done, { dueAt, abort: () => outgoing?.destroy() });
    outgoing!.end(request.body);
  };

  await new Promise<void>((resolve) => {
    const pump = (): void => {
      const now = performance.now();
      while (sent < planned && started + sent * intervalMs <= now) {
        const request = options.next();
        if (!request) {
          exhaustedAt = now;
          return resolve();
        }
        const dueAt = started + sent * intervalMs;
        maxSendLagMs = Math.max(maxSendLagMs, now - dueAt);
        fire(request, dueAt);
        sent += 1;
      }
      if (sent >= planned) return resolve();
      setTimeout(pump, Math.max(0, started + sent * intervalMs - performance.now()));
    };
    pump();
  });
  // Answers still missing a while after the last request was due are given up: counted as failed, with
  // the time they had waited as their latency (a lower bound), so an overloaded server cannot stall the run.
  await Promise.race([Promise.all(inFlight.keys()), sleep(GIVE_UP_AFTER_MS)]);
  const givenUpAt = performance.now();
  for (const [done, pending] of [...inFlight]) {
    inFlight.delete(done);
    count('unanswered');
    failed += 1;
    latencies.add(givenUpAt - pending.dueAt);
    pending.abort();
  }
  agent.destroy();

  const elapsedS = ((exhaustedAt ?? started + planned * intervalMs) - started) / 1000;
  return {
    ok,
    failed,
    statuses,
    elapsedS,
    rate: ok / elapsedS,
    ...latencies.summary(),
    exhaustedAtS: exhaustedAt === undefined ? undefined : elapsedS,
    maxSendLagMs,
  };
}

/**
 * The gateway under test, configured from the environment like `npm start` (XR_* variables, XR_WORKERS
 * included), with Huzhou's local backend replaced by one in memory (bench/servers/backends.ts) so that the
 * figures are the gateway's own.
 *
 * XR_WORKERS > 1 runs the gateway's own cluster (gateway/cluster.ts); each worker gets the in-memory backend
 * too (runWorker's `backend` option), so the 1-worker and N-worker rows measure the same work.
 *
 * BENCH_BACKEND=http: a lean HTTP backend on 127.0.0.1 instead, reached as in production (one process or
 * a cluster); the ready line says which backend is in use.
 * BENCH_OUTBOUND_TUNING (JSON) overrides the delivery dispatcher's tuning, one process only.
 *
 * Control messages over IPC (one process only): loop-reset / loop-stats (event-loop delay, perf_hooks) and
 * profile-start / profile-stop (the V8 CPU profiler through node:inspector, the profiler behind --cpu-prof,
 * here started and stopped around one scenario).
 */
import cluster from 'node:cluster';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RegionTable } from '../../adapters/regions/index.ts';
import { loadSettings } from '../../config/settings.ts';
import { runPrimary, runWorker } from '../../gateway/cluster.ts';
import { startGateway, type GatewayOptions } from '../../gateway/server.ts';
import { inMemoryBackend, startHttpBackend } from './backends.ts';

type Control =
  | { type: 'loop-reset' }
  | { type: 'loop-stats' }
  | { type: 'profile-start'; intervalMicros: number }
  | { type: 'profile-stop'; file: string };

function announce(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'ready', ...fields })}\n`);
}

/** Stops on the signal; a stop that hangs (connections that never close) is cut short. */
function stopOn(signal: NodeJS.Signals, stop: () => Promise<void>): void {
  process.once(signal, () => {
    setTimeout(() => process.exit(1), 10_000).unref();
    stop().then(() => process.exit(0), () => process.exit(1));
  });
}

/** Answers the bench's control messages for the one process that serves everything. */
function serveControl(): void {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const session = new Session();
  session.connect();
  const reply = (message: Record<string, unknown>) => process.send?.(message);
  process.on('message', (message: Control) => {
    void (async () => {
      switch (message.type) {
        case 'loop-reset':
          loop.reset();
          return reply({ type: message.type });
        case 'loop-stats':
          return reply({ type: message.type, p99Ms: loop.percentile(99) / 1e6, maxMs: loop.max / 1e6, meanMs: loop.mean / 1e6 });
        case 'profile-start':
          await session.post('Profiler.enable');
          await session.post('Profiler.setSamplingInterval', { interval: message.intervalMicros });
          await session.post('Profiler.start');
          return reply({ type: message.type });
        case 'profile-stop': {
          const { profile } = await session.post('Profiler.stop');
          writeFileSync(message.file, JSON.stringify(profile));
          return reply({ type: message.type, file: message.file });
        }
      }
    })();
  });
}

const regions = RegionTable.default();
const settings = loadSettings(process.env, (code) => regions.has(code));

// BENCH_BACKEND=http: Huzhou's backend over HTTP (served by this process, or by the cluster's primary),
// to measure the forward as production pays it; otherwise every process has the in-memory backend.
const overHttp = process.env.BENCH_BACKEND === 'http';
const backendName = overHttp ? 'http (127.0.0.1)' : 'in-memory';

if (cluster.isWorker) {
  const gateway = await runWorker(settings, overHttp ? {} : { backend: inMemoryBackend() });
  stopOn('SIGTERM', () => gateway.close());
} else if (settings.workers > 1) {
  const backend = overHttp ? await startHttpBackend() : undefined;
  // Forked workers read their settings from this environment.
  if (backend) process.env.XR_LOCAL_BACKEND_URL = backend.url;
  const primary = await runPrimary(settings, {
    onTokens: () => {},
    onReady: () => announce({
      pids: [process.pid, ...Object.values(cluster.workers ?? {}).flatMap((worker) => worker?.process.pid ?? [])],
      workers: settings.workers,
      backend: backendName,
    }),
    onFailure: (message) => {
      process.stderr.write(`bench gateway: a worker failed: ${message}\n`);
      process.exit(1);
    },
  });
  process.on('message', (message: Control) => process.send?.({ type: message.type, unsupported: true }));
  stopOn('SIGTERM', async () => {
    await primary.stop();
    backend?.close();
  });
} else {
  const httpBackend = overHttp ? await startHttpBackend() : undefined;
  if (httpBackend) settings.localBackendUrl = httpBackend.url;
  // BENCH_OUTBOUND_TUNING: the dispatcher's tuning as JSON (e.g. {"perPartnerConcurrency":32}), for
  // experiments; unset, the gateway's defaults, as in production.
  const tuning = process.env.BENCH_OUTBOUND_TUNING;
  const gateway = await startGateway({ settings, ...(httpBackend ? {} : { backend: inMemoryBackend() }), ...(tuning ? { outbound: JSON.parse(tuning) as GatewayOptions['outbound'] } : {}) });
  serveControl();
  announce({ pids: [process.pid], workers: 1, backend: backendName, control: true, ports: gateway.ports });
  stopOn('SIGTERM', async () => {
    await gateway.close();
    httpBackend?.close();
  });
}

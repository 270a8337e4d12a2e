/**
 * Micro-benchmark of replay claims from several processes on one file (not part of npm test):
 * `npx tsx bench/micro/shared-lock.ts`. With XR_WORKERS > 1 each worker's SQLite writer thread commits its
 * own claims, and the processes take turns at the file's write lock. `--processes` processes (2) claim at
 * `--rate` per second each (500: 1,000/s in all, the steady-rate target) for `--seconds` (8); latency counts
 * from when each claim was due, over all but the first two seconds (start-up: loading, JIT).
 *
 * `--baseline <dir>` runs another version's store (a checkout with node_modules linked in) first.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    baseline: { type: 'string' }, processes: { type: 'string', default: '2' }, rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '8' }, root: { type: 'string' }, file: { type: 'string' },
  },
});
const RATE = Number(options.rate);
const SECONDS = Number(options.seconds);
const WARM_UP_MS = 2000;

type StoreModule = typeof import('../../gateway/store/sqlite-store.ts');
interface Latencies { p50: number; p99: number; max: number }

async function claimer(root: string, file: string): Promise<Latencies> {
  const { SqliteStore } = await import(pathToFileURL(path.join(root, 'gateway/store/sqlite-store.ts')).href) as StoreModule;
  const store = new SqliteStore(file);
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      while (sent < (elapsed / 1000) * RATE && sent < RATE * SECONDS) {
        const dueAt = started + (sent / RATE) * 1000;
        sent += 1;
        const claim = store.replayClaim('310000', randomUUID(), 2_000_000_000, 0).then(() => {
          if (dueAt > started + WARM_UP_MS) latencies.push(performance.now() - dueAt);
          inFlight.delete(claim);
        });
        inFlight.add(claim);
      }
      if (sent >= RATE * SECONDS) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inFlight);
  await store.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
  return { p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1]! };
}

async function run(label: string, root: string): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xr-shared-lock-'));
  const file = path.join(dir, 'gateway.sqlite');
  try {
    const { SqliteStore } = await import(pathToFileURL(path.join(root, 'gateway/store/sqlite-store.ts')).href) as StoreModule;
    await new SqliteStore(file).close();
    const results = await Promise.all(Array.from({ length: Number(options.processes) }, () => new Promise<Latencies>((resolve, reject) => {
      const child = fork(import.meta.filename, ['child', '--root', root, '--file', file, '--rate', String(RATE), '--seconds', String(SECONDS)], { execArgv: ['--import', 'tsx'] });
      child.once('message', (message) => resolve(message as Latencies));
      child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`claimer exited ${code}`))));
    })));
    const ms = (value: number) => value.toFixed(2);
    console.log(`${label}: ${results.map((r) => `p50 ${ms(r.p50)} / p99 ${ms(r.p99)} / max ${ms(r.max)} ms`).join('; ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (positionals[0] === 'child') {
  process.send!(await claimer(options.root!, options.file!));
  process.exit(0);
} else {
  const here = path.resolve(import.meta.dirname, '..', '..');
  console.log(`${options.processes} processes × ${RATE} claims/s on one file, latency from when due (ms)`);
  if (options.baseline) await run(`baseline (${options.baseline})`, path.resolve(options.baseline));
  await run('this tree', here);
}

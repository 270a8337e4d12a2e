/**
 * Micro-benchmark of the replay cache's purge under load (not part of npm test): `npx tsx bench/micro/purge.ts`.
 *
 * A store holds `--rows` expired replay entries (300,000: five minutes of a partner link at 1,000 msg/s) and
 * takes fresh claims at `--rate` per second (1,000), as the partner listener does. One second in, the purge
 * runs, as the gateway's timer runs it. Printed: how long the purge took, the event loop's longest delay
 * (a purge on the thread serving requests holds every request up), and the claims' latency before and
 * during the purge — a claim is on every inbound message's path.
 *
 * `--baseline <dir>` runs another version's store (a checkout with node_modules linked in) for comparison.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({ options: { baseline: { type: 'string' }, rows: { type: 'string', default: '300000' }, rate: { type: 'string', default: '1000' } } });
const ROWS = Number(options.rows);
const RATE = Number(options.rate);
const EXPIRED_AT = 1_000;
const NOW = 2_000;

type StoreModule = typeof import('../../gateway/store/sqlite-store.ts');

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  return `${sorted.length} claims, p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${percentile(sorted, 100).toFixed(2)} ms`;
}

async function run(label: string, root: string): Promise<void> {
  const { SqliteStore } = await import(pathToFileURL(path.join(root, 'gateway/store/sqlite-store.ts')).href) as StoreModule;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xr-purge-'));
  const store = new SqliteStore(path.join(dir, 'gateway.sqlite'));
  try {
    for (let filled = 0; filled < ROWS; filled += 1000) {
      await Promise.all(Array.from({ length: Math.min(1000, ROWS - filled) }, () => store.replayClaim('310000', randomUUID(), EXPIRED_AT, 0)));
    }

    const claims: Array<{ dueAt: number; ms: number }> = [];
    let purging = false;
    let purgeStarted = 0;
    let purge: { rows: number; ms: number } | undefined;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    const started = performance.now();
    let sent = 0;
    const inFlight = new Set<Promise<void>>();
    loop.enable();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = performance.now() - started;
        while (sent < (elapsed / 1000) * RATE) {
          const dueAt = started + (sent / RATE) * 1000;
          sent += 1;
          const claim = store.replayClaim('320000', randomUUID(), NOW + 601, NOW).then(() => {
            claims.push({ dueAt, ms: performance.now() - dueAt });
            inFlight.delete(claim);
          });
          inFlight.add(claim);
        }
        if (purge === undefined && !purging && elapsed >= 1000) {
          purging = true;
          purgeStarted = performance.now();
          void store.replayPurge(NOW).then((rows) => {
            purge = { rows, ms: performance.now() - purgeStarted };
            purging = false;
          });
        }
        if (purge !== undefined && elapsed >= 1000 + purge.ms + 500) return resolve();
        setTimeout(tick, 1);
      };
      tick();
    });
    await Promise.all(inFlight);
    loop.disable();
    console.log(`${label}: purged ${purge!.rows} rows in ${purge!.ms.toFixed(0)} ms; event loop delay max ${(loop.max / 1e6).toFixed(1)} ms`);
    // Latency counts from when a claim was due (open loop): a claim due while the event loop was held up is late.
    const purgeEnded = purgeStarted + purge!.ms;
    console.log(`  claims due in the second before the purge: ${summary(claims.filter((c) => c.dueAt < purgeStarted).map((c) => c.ms))}`);
    console.log(`  claims due while it ran: ${summary(claims.filter((c) => c.dueAt >= purgeStarted && c.dueAt <= purgeEnded).map((c) => c.ms))}`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const here = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
if (options.baseline) await run(`baseline (${options.baseline})`, path.resolve(options.baseline));
await run('this tree', here);

/**
 * Micro-benchmark of the outbox counts (not part of npm test): `npx tsx bench/micro/outbox-counts.ts`.
 * /metrics (xr_outbox_depth) and GET /admin/v1/outbox/counts read them on the thread serving requests. The
 * outbox keeps every message, delivered ones too: `--rows` messages (1,000,000: about eleven minutes of
 * delivery at 1,500/s), all but a hundred delivered, then the counts read a few times.
 *
 * `--baseline <dir>` runs another version's store (a checkout with node_modules linked in) first.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({ options: { baseline: { type: 'string' }, rows: { type: 'string', default: '1000000' } } });
const ROWS = Number(options.rows);

type StoreModule = typeof import('../../gateway/store/sqlite-store.ts');

async function run(label: string, root: string): Promise<void> {
  const { SqliteStore } = await import(pathToFileURL(path.join(root, 'gateway/store/sqlite-store.ts')).href) as StoreModule;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xr-outbox-counts-'));
  const file = path.join(dir, 'gateway.sqlite');
  try {
    await new SqliteStore(file).close();
    // Rows written straight into the file (the store's own triggers, where it has them, still run).
    const db = new Database(file);
    db.pragma('temp_store = MEMORY'); // as the store's own connections
    const insert = db.prepare(`INSERT INTO outbox (id, target, message_type, status, canonical, partner_body, content_type,
      attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, 'application.submit', ?, '{}', ?, 'application/json', 1, 0, ?, ?)`);
    const body = Buffer.alloc(2048, 0x61);
    const filled = performance.now();
    db.transaction(() => {
      for (let i = 0; i < ROWS; i += 1) insert.run(`m${i}`, `3100${i % 10}`, i >= ROWS - 100 ? 'queued' : 'delivered', body, i, i);
    })();
    const fillMs = performance.now() - filled;
    db.close();

    const store = new SqliteStore(file);
    const times: number[] = [];
    let counts: unknown;
    for (let round = 0; round < 5; round += 1) {
      const started = performance.now();
      counts = await store.outboxCounts();
      times.push(performance.now() - started);
    }
    await store.close();
    console.log(`${label}: ${ROWS.toLocaleString('en-US')} rows written in ${(fillMs / 1000).toFixed(1)} s; counts ${JSON.stringify(counts)} read in ${times.map((ms) => ms.toFixed(2)).join(' / ')} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const here = path.resolve(import.meta.dirname, '..', '..');
if (options.baseline) await run(`baseline (${options.baseline})`, path.resolve(options.baseline));
await run('this tree', here);

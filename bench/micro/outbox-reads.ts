/**
 * Micro-benchmark of the outbox's reads on the thread serving requests (not part of npm test):
 * `npx tsx bench/micro/outbox-reads.ts`. The counts (/metrics' xr_outbox_depth, GET /admin/v1/outbox/counts)
 * and the list an operator asks for (GET /admin/v1/outbox?status&target). The outbox keeps every message,
 * delivered ones too: `--rows` messages (1,000,000: about eleven minutes of delivery at 1,500/s), the first
 * fifty failed (to partner 320500), the last hundred queued, the rest delivered.
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
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xr-outbox-reads-'));
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
      for (let i = 0; i < ROWS; i += 1) {
        const status = i < 50 ? 'failed' : i >= ROWS - 100 ? 'queued' : 'delivered';
        insert.run(`m${i}`, i < 50 ? '320500' : `31000${i % 10}`, status, body, i, i);
      }
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
    const lists: string[] = [];
    for (const query of [{}, { status: 'failed' }, { status: 'delivered' }, { target: '320500' }, { status: 'delivered', target: '310003' }] as const) {
      const started = performance.now();
      const rows = await store.outboxList({ ...query, limit: 100 });
      lists.push(`${JSON.stringify(query)} ${rows.length} rows in ${(performance.now() - started).toFixed(2)} ms`);
    }
    await store.close();
    console.log(`${label}: ${ROWS.toLocaleString('en-US')} rows written in ${(fillMs / 1000).toFixed(1)} s; counts ${JSON.stringify(counts)} read in ${times.map((ms) => ms.toFixed(2)).join(' / ')} ms`);
    console.log(`  list (limit 100): ${lists.join('; ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const here = path.resolve(import.meta.dirname, '..', '..');
if (options.baseline) await run(`baseline (${options.baseline})`, path.resolve(options.baseline));
await run('this tree', here);

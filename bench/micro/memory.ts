/**
 * Where the gateway's memory goes at rest (not part of npm test): `node --expose-gc --import tsx
 * bench/micro/memory.ts`. Prints RSS and heap after each start-up step of a single-process gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const mb = (bytes: number) => (bytes / 1048576).toFixed(0).padStart(4);
function show(step: string): void {
  const m = process.memoryUsage();
  process.stdout.write(`${step.padEnd(40)} rss ${mb(m.rss)} MB   heap ${mb(m.heapUsed)} MB   external ${mb(m.external)} MB\n`);
}

show('node + the tsx loader');
const { RegionTable } = await import('../../adapters/regions/index.ts');
const { loadSettings } = await import('../../config/settings.ts');
const { startGateway } = await import('../../gateway/server.ts');
const { createLogger } = await import('../../gateway/log.ts');
show('gateway modules loaded');
const regions = RegionTable.default();
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-memory-'));
const settings = loadSettings({
  XR_DATA_DIR: dataDir, XR_PARTNER_PORT: '0', XR_LOCAL_PORT: '0', XR_ADMIN_PORT: '0', XR_LOG_LEVEL: 'silent', XR_WORKERS: '1',
}, (code) => regions.has(code));
const gateway = await startGateway({ settings, log: createLogger('silent') });
show('gateway started');
await new Promise((resolve) => setTimeout(resolve, 1500));
(globalThis as { gc?: () => void }).gc?.();
show('1.5 s later (writer threads up), after GC');
await gateway.close();
rmSync(dataDir, { recursive: true, force: true });

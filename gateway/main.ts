/**
 * `npm start`: read the environment, start the gateway (one process, or XR_WORKERS workers under a primary:
 * gateway/cluster.ts), stop cleanly on SIGTERM/SIGINT. A bad setting is reported in one line naming the
 * variable, with exit code 1 — never only a stack trace.
 */
import cluster from 'node:cluster';
import { RegionTable } from '../adapters/regions/index.ts';
import { ConfigError, loadSettings, settingWarnings, type Settings } from '../config/settings.ts';
import { runPrimary, runWorker } from './cluster.ts';

function fail(message: string): never {
  process.stderr.write(`xr-gateway: ${message}\n`);
  process.exit(1);
}

function explain(error: unknown, settings: Settings): string {
  if (error instanceof ConfigError) return `configuration error: ${error.message}`;
  const { code, address, port } = error as { code?: string; address?: string; port?: number };
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return `cannot listen on ${address ?? settings.host}:${port ?? '?'} (${code}): check XR_HOST and the XR_*_PORT settings`;
  }
  return `cannot start: ${error instanceof Error ? error.message : String(error)}`;
}

function printTokens(generated: Array<{ variable: string; token: string }>): void {
  for (const { variable, token } of generated) {
    // Printed once, on the start that generated it; only its digest is kept (gateway/tokens.ts).
    process.stdout.write(`${variable} was not set: generated ${token}\n  (shown once; set ${variable} to replace it)\n`);
  }
}

function onSignals(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: string) => {
    if (stopping) return;
    stopping = true;
    stop(signal).then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => handle('SIGTERM'));
  process.on('SIGINT', () => handle('SIGINT'));
}

let settings: Settings;
try {
  const regions = RegionTable.default();
  settings = loadSettings(process.env, (code) => regions.has(code));
} catch (error) {
  if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
  throw error;
}

// Once, by the process that reads the environment first (the primary, or the only process).
if (!cluster.isWorker) for (const warning of settingWarnings(settings)) process.stderr.write(`xr-gateway: warning: ${warning}\n`);

const listening = (s: Settings) => `partner :${s.partnerPort}, local :${s.localPort}, admin :${s.adminPort} on ${s.host}`;

if (cluster.isWorker) {
  // The primary reports a worker's failure; the worker only exits.
  runWorker(settings).then((gateway) => onSignals(() => gateway.close()), () => process.exit(1));
} else if (settings.workers > 1) {
  try {
    const primary = await runPrimary(settings, {
      onTokens: printTokens,
      onReady: () => process.stdout.write(`xr-gateway ${settings.region}: ${settings.workers} workers, ${listening(settings)}\n`),
      onFailure: (message) => {
        process.stderr.write(`xr-gateway: cannot start a worker: ${message}\n`);
        primary.stop().finally(() => process.exit(1));
      },
    });
    onSignals(() => primary.stop());
  } catch (error) {
    fail(explain(error, settings));
  }
} else {
  try {
    const { startGateway } = await import('./server.ts');
    const gateway = await startGateway({ settings });
    printTokens(gateway.generatedTokens);
    process.stdout.write(`xr-gateway ${settings.region}: partner ${gateway.urls.partner}, local ${gateway.urls.local}, admin ${gateway.urls.admin}\n`);
    onSignals(async (signal) => {
      gateway.log.info({ signal }, 'stopping');
      await gateway.close();
    });
  } catch (error) {
    fail(explain(error, settings));
  }
}

/**
 * `npm start`: read the environment, start the gateway, stop cleanly on SIGTERM/SIGINT. A bad setting is
 * reported in one line naming the variable, with exit code 1 — never only a stack trace.
 */
import { RegionTable } from '../adapters/regions/index.ts';
import { ConfigError, loadSettings, type Settings } from '../config/settings.ts';
import { startGateway } from './server.ts';

function fail(message: string): never {
  process.stderr.write(`xr-gateway: ${message}\n`);
  process.exit(1);
}

let settings: Settings;
try {
  const regions = RegionTable.default();
  settings = loadSettings(process.env, (code) => regions.has(code));
} catch (error) {
  if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
  throw error;
}

try {
  const gateway = await startGateway({ settings });
  for (const { variable, token } of gateway.generatedTokens) {
    // Printed once, on the start that generated it; only its digest is kept (gateway/tokens.ts).
    process.stdout.write(`${variable} was not set: generated ${token}\n  (shown once; set ${variable} to replace it)\n`);
  }
  process.stdout.write(`xr-gateway ${settings.region}: partner ${gateway.urls.partner}, local ${gateway.urls.local}, admin ${gateway.urls.admin}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.log.info({ signal }, 'stopping');
    gateway.close().then(() => process.exit(0), (error: unknown) => {
      gateway.log.error({ err: error }, 'stop failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (error) {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    const { address, port } = error as { address?: string; port?: number };
    fail(`cannot listen on ${address ?? settings.host}:${port ?? '?'} (${code}): check XR_HOST and the XR_*_PORT settings`);
  }
  if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
  throw error;
}

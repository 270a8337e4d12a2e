/**
 * Starts a real gateway for a test: a scratch XR_DATA_DIR, ports chosen by the OS on 127.0.0.1, known
 * tokens, logs kept quiet. `restart()` reopens the same data directory, as after a crash or a deploy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RegionTable } from '../../adapters/regions/index.ts';
import { loadSettings } from '../../config/settings.ts';
import { createLogger } from '../../gateway/log.ts';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/server.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const AUDITOR_TOKEN = 'test-auditor-token-0123456789';
export const LOCAL_TOKEN = 'test-local-token-0123456789';

export interface TestGateway {
  gateway: RunningGateway;
  dataDir: string;
  restart(): Promise<RunningGateway>;
  stop(): Promise<void>;
  /** An admin call with the operator token. */
  admin(method: string, pathname: string, body?: unknown, contentType?: string): Promise<Response>;
}

export async function startTestGateway(env: Record<string, string> = {}, options: Omit<GatewayOptions, 'settings'> = {}): Promise<TestGateway> {
  const dataDir = env.XR_DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'xr-test-'));
  const regions = RegionTable.default();
  const settings = loadSettings({
    XR_PARTNER_PORT: '0', XR_LOCAL_PORT: '0', XR_ADMIN_PORT: '0',
    XR_ADMIN_TOKEN: ADMIN_TOKEN, XR_AUDITOR_TOKEN: AUDITOR_TOKEN, XR_LOCAL_TOKEN: LOCAL_TOKEN,
    XR_LOG_LEVEL: 'silent',
    ...env,
    XR_DATA_DIR: dataDir,
  }, (code) => regions.has(code));
  const log = createLogger(settings.logLevel);
  const start = () => startGateway({ settings, log, ...options });
  const harness: TestGateway = {
    gateway: await start(),
    dataDir,
    async restart() {
      await harness.gateway.close();
      harness.gateway = await start();
      return harness.gateway;
    },
    async stop() {
      await harness.gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    admin(method, pathname, body, contentType) {
      const isText = typeof body === 'string';
      return fetch(`${harness.gateway.urls.admin}${pathname}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': contentType ?? (isText ? 'application/x-pem-file' : 'application/json') }),
        },
        ...(body === undefined ? {} : { body: isText ? body : JSON.stringify(body) }),
      });
    },
  };
  return harness;
}

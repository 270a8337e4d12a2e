/**
 * Starts the real gateway as `npm start` would, with XR_WORKERS worker processes, on free ports of
 * 127.0.0.1, and resolves once the primary reports every worker ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { ADMIN_TOKEN, LOCAL_TOKEN } from './gateway.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ClusterGateway {
  child: ChildProcess;
  partnerUrl: string;
  adminUrl: string;
  /** An admin call with the operator token. */
  admin(method: string, pathname: string, body: string, contentType: string): Promise<Response>;
  /** SIGTERM unless it has exited already; resolves with its exit code. */
  stop(): Promise<number | null>;
}

export interface ClusterOptions {
  dataDir: string;
  backendUrl: string;
  workers: number;
  /** Run dist/gateway/main.js, as `npm start` does after `npm run build`, instead of the TypeScript through tsx. */
  compiled?: boolean;
}

export async function startClusterGateway(options: ClusterOptions): Promise<ClusterGateway> {
  const [partnerPort, localPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const entry = options.compiled ? ['dist/gateway/main.js'] : ['--import', 'tsx', 'gateway/main.ts'];
  const child = spawn(process.execPath, entry, {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '', XR_DATA_DIR: options.dataDir, XR_WORKERS: String(options.workers), XR_LOG_LEVEL: 'warn',
      XR_PARTNER_PORT: String(partnerPort), XR_LOCAL_PORT: String(localPort), XR_ADMIN_PORT: String(adminPort),
      XR_ADMIN_TOKEN: ADMIN_TOKEN, XR_LOCAL_TOKEN: LOCAL_TOKEN, XR_LOCAL_BACKEND_URL: options.backendUrl,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes(`${options.workers} workers`)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${output}`)));
  });
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  return {
    child,
    partnerUrl: `http://127.0.0.1:${partnerPort}`,
    adminUrl,
    admin: (method, pathname, body, contentType) =>
      fetch(`${adminUrl}${pathname}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': contentType }, body }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill('SIGTERM');
      return (await exited)[0];
    },
  };
}

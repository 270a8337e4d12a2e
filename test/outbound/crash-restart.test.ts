import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ADMIN_TOKEN, LOCAL_TOKEN } from '../support/gateway.ts';
import { outboundMessage, queue, registerPartner, statusOf } from '../support/outbound.ts';
import { PartnerGateway } from '../support/partner-gateway.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const SUZHOU = '320500';
const MESSAGES = 20;

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A real gateway process (npm start's entry point), whose JSON log lines the test reads as events. */
class GatewayProcess {
  readonly delivered = new Set<string>();
  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as { msg?: string; id?: string };
      if (entry.msg === 'message delivered' && entry.id) {
        this.delivered.add(entry.id);
        child.emit('delivered');
      }
    });
  }

  static async start(env: Record<string, string>): Promise<GatewayProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const gateway = new GatewayProcess(child);
    await new Promise<void>((resolve, reject) => {
      const ready = (line: string) => {
        if (line.startsWith('xr-gateway ')) resolve();
      };
      createInterface({ input: child.stdout! }).on('line', ready);
      child.once('exit', (code) => reject(new Error(`the gateway exited with ${code} before it was ready`)));
    });
    return gateway;
  }

  async allDelivered(ids: readonly string[]): Promise<void> {
    while (!ids.every((id) => this.delivered.has(id))) await once(this.child, 'delivered');
  }

  async signal(signal: NodeJS.Signals): Promise<number | null> {
    const exited = once(this.child, 'exit') as Promise<[number | null]>;
    this.child.kill(signal);
    return (await exited)[0];
  }
}

describe('crash safety: every message answered 202 is delivered, across a SIGKILL and a restart', function () {
  this.timeout(30_000);
  let dataDir: string;
  let env: Record<string, string>;
  let partner: PartnerGateway | undefined;
  let gateway: GatewayProcess | undefined;

  before(async function () {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-crash-'));
    env = {
      XR_DATA_DIR: dataDir, XR_WORKERS: '1', XR_LOG_LEVEL: 'info',
      XR_PARTNER_PORT: String(await freePort()), XR_LOCAL_PORT: String(await freePort()), XR_ADMIN_PORT: String(await freePort()),
      XR_ADMIN_TOKEN: ADMIN_TOKEN, XR_LOCAL_TOKEN: LOCAL_TOKEN,
    };
  });

  after(async function () {
    if (gateway && gateway.child.exitCode === null) await gateway.signal('SIGKILL');
    await partner?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resends what was in flight with the same idempotency key, loses nothing, and the partner has each message once', async function () {
    const adminUrl = `http://127.0.0.1:${env.XR_ADMIN_PORT}`;
    const localUrl = `http://127.0.0.1:${env.XR_LOCAL_PORT}`;
    const admin = (method: string, pathname: string, body?: unknown, contentType?: string) => fetch(`${adminUrl}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': contentType ?? (typeof body === 'string' ? 'application/x-pem-file' : 'application/json') },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

    gateway = await GatewayProcess.start(env);
    partner = await PartnerGateway.start({ region: SUZHOU, format: 'js-xml', huzhouAdminUrl: adminUrl });
    await registerPartner({ admin }, partner, { delivery: { timeoutMs: 60_000 } });

    // The partner takes each message and never answers: the gateway dies with them in delivering.
    partner.behaviour = { kind: 'accept-then-hang' };
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i += 1) ids.push(await queue(localUrl, 'application.submit', outboundMessage('application.submit', SUZHOU)));
    await partner.acceptedCount(8);
    assert.equal(await gateway.signal('SIGKILL'), null);
    const inFlightAtKill = partner.messages.size;

    partner.behaviour = { kind: 'answer' };
    partner.releaseHanging();
    gateway = await GatewayProcess.start(env);
    await gateway.allDelivered(ids);

    assert.equal(partner.messages.size, MESSAGES, 'every message reached the partner');
    for (const id of ids) {
      assert.ok(partner.messages.has(id), `${id} is at the partner under its own idempotency key`);
      const status = await statusOf(localUrl, id);
      assert.equal(status.status, 'delivered');
      assert.equal((status.receipt as { verified: boolean }).verified, true);
    }
    assert.equal(partner.duplicates, inFlightAtKill, 'the messages in flight at the kill were sent again, and dropped as copies');

    assert.equal(await gateway.signal('SIGTERM'), 0, 'SIGTERM stops the gateway cleanly');
  });
});

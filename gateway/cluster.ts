/**
 * XR_WORKERS=N: N worker processes share the listeners (node:cluster hands each new connection to a
 * worker). What must be one is one:
 *  - state is in the shared SQLite file: the replay claim and the outbox claim are atomic there, so no copy
 *    slips through on another worker;
 *  - the primary prepares what a first start creates (tokens, development PKI) before forking, so workers
 *    never race to create two — in a process that then ends (data-dir-child.ts), since it never serves;
 *  - worker 1 alone serves the admin listener, so breakers and admin state live in one process;
 *  - an admin change is answered only after every worker has reloaded it from the Store ("at once").
 */
import cluster, { type Worker } from 'node:cluster';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, type Settings } from '../config/settings.ts';
import { createLogger } from './log.ts';
import type { PreparationReply, PreparationRequest } from './data-dir-child.ts';
import type { GatewayOptions, RunningGateway } from './server.ts';
import type { Tokens } from './tokens.ts';
import { clusterAggregator } from './cluster-metrics.ts';

type ClusterMessage =
  | { type: 'xr:changed'; id: number }
  | { type: 'xr:reload'; id: number }
  | { type: 'xr:reloaded'; id: number }
  | { type: 'xr:synced'; id: number }
  | { type: 'xr:metrics'; id: number }
  | { type: 'xr:metrics-text'; id: number; text: string; error?: string }
  | { type: 'xr:ready' }
  | { type: 'xr:failed'; message: string };

function isClusterMessage(value: unknown): value is ClusterMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
    && (value as { type: string }).type.startsWith('xr:');
}

export interface PrimaryHandlers {
  onTokens(generated: Array<{ variable: string; token: string }>): void;
  onReady(): void;
  onFailure(message: string): void;
}

const INSPECTOR_FLAG = /^--(?:inspect|inspect-brk|inspect-wait|inspect-port|debug-port)(?:=|$)/;

/**
 * The primary's execArgv without its inspector flags (`node --inspect …`), for the preparation process: it
 * would try to open the primary's own inspector port and print that the address is in use. Cluster workers
 * are given ports of their own by node:cluster; a plain fork is not.
 */
export function withoutInspector(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index += 1) {
    const argument = execArgv[index]!;
    if (!INSPECTOR_FLAG.test(argument)) kept.push(argument);
    // --inspect-port and --debug-port may take their value as the next argument.
    else if ((argument === '--inspect-port' || argument === '--debug-port') && index + 1 < execArgv.length) index += 1;
  }
  return kept;
}

/**
 * NODE_OPTIONS without its inspector flags, for the same reason (`NODE_OPTIONS=--inspect npm start`);
 * undefined when nothing is left. Node separates the options by spaces and lets a double-quoted value hold
 * spaces: both kept as written.
 */
export function nodeOptionsWithoutInspector(nodeOptions: string | undefined): string | undefined {
  if (nodeOptions === undefined) return undefined;
  const kept = withoutInspector(nodeOptions.match(/(?:[^\s"]+|"(?:\\.|[^"\\])*")+/g) ?? []);
  return kept.length === 0 ? undefined : kept.join(' ');
}

/**
 * Prepares the data directory in a process of its own (data-dir-child.ts) and resolves with the tokens it
 * generated once that process has ended; rejects as the preparation failed (a ConfigError as one).
 */
async function prepareDataDirectory(settings: Settings): Promise<Tokens['generated']> {
  // Compiled (dist/, `npm start`) the body is JavaScript; from TypeScript the child inherits tsx's loader
  // with this process's execArgv, as cluster workers do.
  const body = new URL(import.meta.url.endsWith('.js') ? './data-dir-child.js' : './data-dir-child.ts', import.meta.url);
  const { NODE_OPTIONS: nodeOptions, ...env } = process.env;
  const childOptions = nodeOptionsWithoutInspector(nodeOptions);
  const child = fork(fileURLToPath(body), {
    serialization: 'advanced',
    execArgv: withoutInspector(process.execArgv),
    env: childOptions === undefined ? env : { ...env, NODE_OPTIONS: childOptions },
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal === null ? `exit code ${code}` : signal)));
  const reply = await new Promise<PreparationReply>((resolve, reject) => {
    child.once('message', (message) => resolve(message as PreparationReply));
    child.once('error', (error) => reject(new Error(`preparing the data directory failed: ${error.message}`)));
    void exited.then((how) => reject(new Error(`preparing the data directory ended (${how}) without an answer`)));
    child.send({ settings } satisfies PreparationRequest);
  });
  await exited;
  if ('failure' in reply) throw reply.variable === undefined ? new Error(reply.failure) : new ConfigError(reply.variable, reply.failure);
  return reply.generated;
}

/** The primary: prepares the data directory, forks the workers, relays configuration changes. */
export async function runPrimary(settings: Settings, handlers: PrimaryHandlers): Promise<{ stop(): Promise<void> }> {
  handlers.onTokens(await prepareDataDirectory(settings));
  const log = createLogger(settings.logLevel);

  let stopping = false;
  let readyCount = 0;
  const clusterMetrics = clusterAggregator();
  const pending = new Map<number, { origin: Worker; waiting: Set<number> }>();
  const spawn = (index: number): Worker => {
    const worker = cluster.fork({ XR_WORKER_INDEX: String(index) });
    worker.on('message', (message: unknown) => {
      if (!isClusterMessage(message)) return;
      if (message.type === 'xr:ready' && ++readyCount === settings.workers) handlers.onReady();
      if (message.type === 'xr:failed') handlers.onFailure(message.message);
      if (message.type === 'xr:changed') relayChange(worker, message.id);
      if (message.type === 'xr:reloaded') acknowledge(worker, message.id);
      if (message.type === 'xr:metrics') {
        const reply = (text: string, error?: string) => {
          if (worker.isConnected()) worker.send({ type: 'xr:metrics-text', id: message.id, text, ...(error ? { error } : {}) } satisfies ClusterMessage);
        };
        clusterMetrics().then((text) => reply(text), (error: unknown) => reply('', error instanceof Error ? error.message : String(error)));
      }
    });
    worker.on('exit', (code, signal) => {
      for (const [id, change] of pending) acknowledge(worker, id, change);
      if (stopping) return;
      log.error({ worker: index, code, signal }, 'worker died; starting another');
      spawn(index);
    });
    return worker;
  };

  function others(origin: Worker): Worker[] {
    return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w !== origin && w.isConnected());
  }

  function relayChange(origin: Worker, id: number): void {
    const targets = others(origin);
    pending.set(id, { origin, waiting: new Set(targets.map((w) => w.id)) });
    for (const worker of targets) worker.send({ type: 'xr:reload', id } satisfies ClusterMessage);
    acknowledge(origin, id);
  }

  function acknowledge(worker: Worker, id: number, change = pending.get(id)): void {
    if (!change) return;
    change.waiting.delete(worker.id);
    if (change.waiting.size > 0) return;
    pending.delete(id);
    if (change.origin.isConnected()) change.origin.send({ type: 'xr:synced', id } satisfies ClusterMessage);
  }

  for (let index = 1; index <= settings.workers; index += 1) spawn(index);

  return {
    async stop() {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      await Promise.all(workers.map((worker) => new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.kill('SIGTERM');
      })));
    },
  };
}

/** A worker: the gateway with its cluster role; reloads when another worker announces a change. */
export async function runWorker(settings: Settings, options: Pick<GatewayOptions, 'backend'> = {}): Promise<RunningGateway> {
  const index = Number(process.env.XR_WORKER_INDEX ?? '1');
  let nextId = 0;
  // Unique across workers: the primary keys pending requests by this id.
  const messageId = () => process.pid * 1_000_000 + (nextId += 1);
  const waiting = new Map<number, () => void>();
  const metricsWaiting = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();
  const send = (message: ClusterMessage) => process.send?.(message);
  let gateway: RunningGateway | undefined;

  process.on('message', (message: unknown) => {
    if (!isClusterMessage(message)) return;
    if (message.type === 'xr:metrics-text') {
      const pending = metricsWaiting.get(message.id);
      metricsWaiting.delete(message.id);
      if (message.error === undefined) pending?.resolve(message.text);
      else pending?.reject(new Error(`metrics from the other workers: ${message.error}`));
    }
    if (message.type === 'xr:synced') {
      waiting.get(message.id)?.();
      waiting.delete(message.id);
    }
    if (message.type === 'xr:reload') {
      const done = () => send({ type: 'xr:reloaded', id: message.id });
      (gateway ? gateway.reload() : Promise.resolve()).then(done, (error: unknown) => {
        gateway?.log.error({ err: error }, 'reload failed');
        done();
      });
    }
  });
  // The primary is gone (killed): stop serving rather than run on unsupervised.
  process.on('disconnect', () => process.exit(1));

  try {
    // Loaded here, not at the top: the primary never serves, and need not hold the listeners' modules.
    const { startGateway } = await import('./server.ts');
    gateway = await startGateway({
      settings,
      ...options,
      cluster: {
        admin: index === 1,
        announceChange: () => new Promise<void>((resolve) => {
          const id = messageId();
          waiting.set(id, resolve);
          send({ type: 'xr:changed', id });
        }),
        clusterMetrics: () => new Promise<string>((resolve, reject) => {
          const id = messageId();
          metricsWaiting.set(id, { resolve, reject });
          send({ type: 'xr:metrics', id });
        }),
      },
    });
  } catch (error) {
    send({ type: 'xr:failed', message: error instanceof Error ? error.message : String(error) });
    throw error;
  }
  send({ type: 'xr:ready' });
  return gateway;
}

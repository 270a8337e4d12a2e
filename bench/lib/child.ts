/**
 * Servers under test run in child processes (bench/servers/*.ts, compiled to dist/), so the load generator in this process
 * never shares their event loop. A child announces itself with one JSON line on stdout,
 * `{"bench":"ready", ...}`; everything else it prints (the gateway's pino lines) is read and dropped, as a
 * log collector would. An IPC channel carries the few control messages (profiling, loop-delay figures).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const BENCH_DIR = path.resolve(import.meta.dirname, '..');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ReadyLine {
  bench: 'ready';
  /** Every process of the server: [pid] for one process, primary then workers in a cluster. */
  pids: number[];
  [field: string]: unknown;
}

export interface ServerChild {
  ready: ReadyLine;
  pids: number[];
  /** Sends a control message and waits for the answer of the same type. */
  ask<T>(message: { type: string; [field: string]: unknown }): Promise<T>;
  stop(): Promise<void>;
}

const live = new Map<ChildProcess, number[]>();

// However the benchmark ends (an error included), no server it started outlives it: cluster workers too.
process.once('exit', () => {
  for (const pid of [...live.values()].flat()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** The processes of every server child still running: what the benchmark runs, apart from the rest of the machine. */
export function liveChildPids(): number[] {
  return [...live.values()].flat();
}

let built = false;

/**
 * The servers run compiled, as `npm start` runs the gateway (bin/build.mjs --bench): through tsx they would
 * carry its loader thread and transform caches, ≈ 40–80 MB of resident memory that production does not have.
 */
function buildServers(): void {
  if (built) return;
  execFileSync(process.execPath, [path.resolve(BENCH_DIR, '..', 'bin', 'build.mjs'), '--bench'], { stdio: 'inherit' });
  built = true;
}

export async function startChild(script: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<ServerChild> {
  buildServers();
  const compiled = path.resolve(BENCH_DIR, '..', 'dist', 'bench', 'servers', script.replace(/\.ts$/, '.js'));
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, compiled], {
    cwd: path.resolve(BENCH_DIR, '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.set(child, child.pid === undefined ? [] : [child.pid]);
  child.once('exit', () => live.delete(child));
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr.push(text);
    if (stderr.length > 50) stderr.shift();
  });

  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error(`${script} was not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    const onExit = (code: number | null) => fail(new Error(`${script} exited (${code}) before it was ready:\n${stderr.join('')}`));
    function fail(error: Error): void {
      clearTimeout(timer);
      lines.close();
      child.off('exit', onExit);
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(error);
    }
    child.once('exit', onExit);
    lines.on('line', (line) => {
      if (!line.startsWith('{"bench":"ready"')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.close();
      // From here on the output is only drained, never parsed: the logs cost the server, not us. readline's
      // close() paused the stream, and a 'data' listener does not undo an explicit pause: resume, or the pipe
      // fills and the server's log writes back off (EAGAIN) while its unwritten lines pile up in memory.
      child.stdout!.on('data', () => {});
      child.stdout!.resume();
      resolve(JSON.parse(line) as ReadyLine);
    });
  });

  live.set(child, ready.pids);
  child.once('exit', () => {
    // A cluster primary killed before its workers: they are ours to end.
    for (const pid of ready.pids.slice(1)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  return {
    ready,
    pids: ready.pids,
    async ask<T>(message: { type: string }): Promise<T> {
      const answer = new Promise<T>((resolve) => {
        const onMessage = (reply: { type?: string }) => {
          if (reply.type !== message.type) return;
          child.off('message', onMessage);
          resolve(reply as T);
        };
        child.on('message', onMessage);
      });
      child.send(message);
      return answer;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

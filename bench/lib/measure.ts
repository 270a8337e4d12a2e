/**
 * One measured run against a server child: the load's own figures, plus what the server spent meanwhile —
 * its peak RSS (reset first), its peak resident memory with shared pages counted once (sampled), CPU cores
 * (main threads apart from the rest) and, when the child can tell, its event-loop delay.
 */
import { performance } from 'node:perf_hooks';
import { liveChildPids, type ServerChild } from './child.ts';
import { cpuSeconds, machineBusySeconds, peakRssBytes, residentOnceBytes, resetPeakRss, splitMainOther, threadSeconds } from './proc.ts';

export interface Measured<T> {
  stats: T;
  peakRssMb: number;
  /** The highest residentOnceBytes read during the run (every RESIDENT_ONCE_SAMPLE_MS), or undefined where it cannot be read. */
  peakResidentOnceMb: number | undefined;
  /** False when the peak could not be reset: then it is the process's lifetime peak. */
  peakIsPerRun: boolean;
  cpu: { main: number; other: number };
  /** CPU seconds of each of the server's threads that worked during the run, most first (pid:main or pid:tid). */
  threads: Array<[string, number]>;
  loop: { p99Ms: number; maxMs: number } | undefined;
  /** Cores the load generator (this process) used, and everything else on the machine that is not ours. */
  loadGeneratorCores: number;
  foreignCores: number;
}

function oursSeconds(): number {
  const children = cpuSeconds(liveChildPids());
  const self = process.cpuUsage();
  return children.main + children.other + (self.user + self.system) / 1e6;
}

/**
 * How often the server's resident memory (file pages once) is read during a run: three small /proc reads,
 * ≈ 25 µs each. A peak shorter than this may be missed, which VmHWM (peak RSS) does not.
 */
const RESIDENT_ONCE_SAMPLE_MS = 100;

/** Reads residentOnceBytes every RESIDENT_ONCE_SAMPLE_MS until stopped; stop returns the highest reading in MB. */
function sampleResidentOnce(pids: readonly number[]): () => number | undefined {
  let peak = residentOnceBytes(pids);
  const read = () => {
    const now = residentOnceBytes(pids);
    peak = now === undefined || peak === undefined ? undefined : Math.max(peak, now);
  };
  const timer = setInterval(read, RESIDENT_ONCE_SAMPLE_MS);
  return () => {
    clearInterval(timer);
    read();
    return peak === undefined ? undefined : peak / 2 ** 20;
  };
}

interface LoopStats { p99Ms?: number; maxMs?: number; unsupported?: boolean }

export async function measure<T>(server: ServerChild, run: () => Promise<T>): Promise<Measured<T>> {
  const controllable = server.ready.control === true;
  const peakIsPerRun = resetPeakRss(server.pids);
  if (controllable) await server.ask({ type: 'loop-reset' });
  const threadsBefore = threadSeconds(server.pids);
  const machineBefore = machineBusySeconds();
  const oursBefore = oursSeconds();
  const selfBefore = process.cpuUsage();
  const stopResidentOnce = sampleResidentOnce(server.pids);
  const started = performance.now();
  let stats: T;
  let peakResidentOnceMb: number | undefined;
  try {
    stats = await run();
  } finally {
    peakResidentOnceMb = stopResidentOnce();
  }
  const wallS = (performance.now() - started) / 1000;
  const threads = [...threadSeconds(server.pids)]
    .map(([key, seconds]): [string, number] => [key, seconds - (threadsBefore.get(key) ?? 0)])
    .filter(([, seconds]) => seconds > 0)
    .sort((a, b) => b[1] - a[1]);
  const cpu = splitMainOther(threads);
  const self = process.cpuUsage(selfBefore);
  const foreignCores = (machineBusySeconds() - machineBefore - (oursSeconds() - oursBefore)) / wallS;
  const loop = controllable ? await server.ask<LoopStats>({ type: 'loop-stats' }) : undefined;
  return {
    stats,
    peakRssMb: peakRssBytes(server.pids) / 2 ** 20,
    peakResidentOnceMb,
    peakIsPerRun,
    cpu: { main: cpu.main / wallS, other: cpu.other / wallS },
    threads,
    loadGeneratorCores: (self.user + self.system) / 1e6 / wallS,
    foreignCores: Math.max(0, foreignCores),
    loop: loop && loop.p99Ms !== undefined && loop.maxMs !== undefined ? { p99Ms: loop.p99Ms, maxMs: loop.maxMs } : undefined,
  };
}

/**
 * What the benchmark reads about a server process from /proc (Linux): its peak resident memory and the CPU
 * time its threads used. A server may be several processes (XR_WORKERS): figures are summed over them.
 *
 * Peak RSS is VmHWM, reset before each scenario by writing 5 to /proc/<pid>/clear_refs (proc(5)), so each
 * row shows the peak of its own scenario, not of everything the process did before.
 *
 * Summed over several processes (XR_WORKERS), RSS counts a page each process maps once per process: the
 * `node` binary's ≈ 45 MB of code above all. residentOnceBytes counts it once — what the processes hold
 * together, as a container's memory limit sees it. (PSS would not do: it divides a shared page among every
 * process that maps it, the load generator's `node` too, and so undercounts even a single process; and
 * smaps_rollup, which has it, walks the page tables under the process's mmap lock: 5 ms for 340 MB.) The
 * kernel keeps no peak of it: it is read while a run goes (measure.ts).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/task/<tid>/stat (100 on Linux, whatever the kernel's HZ). */
const CLOCK_TICKS_PER_SECOND = 100;

type StatusField = 'VmHWM' | 'VmRSS' | 'RssAnon' | 'RssFile' | 'RssShmem';

/** A memory figure of /proc/<pid>/status, in bytes; undefined when the text does not have it. */
function statusBytes(status: string, field: StatusField): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

function statusField(pid: number, field: StatusField): number {
  return statusBytes(readFileSync(`/proc/${pid}/status`, 'utf8'), field) ?? 0;
}

/** Resets the peak-RSS marks; false where the kernel does not allow it (then the peak is the lifetime peak). */
export function resetPeakRss(pids: readonly number[]): boolean {
  try {
    for (const pid of pids) writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function currentRssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + statusField(pid, 'VmRSS'), 0);
}

export function peakRssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + statusField(pid, 'VmHWM'), 0);
}

/**
 * Resident memory of the processes with the pages of files they map counted once: their anonymous pages
 * summed (cluster workers are spawned, not forked, so they share none), plus the file-backed and shared-memory
 * pages of the one that has most (RssAnon, RssFile, RssShmem of /proc/<pid>/status: the kernel's own counters,
 * read in microseconds). Exact when the processes' file pages are the same ones — the `node` binary, its
 * libraries, SQLite's -shm file, as cluster workers map them; for one process it is its RSS. Undefined when a
 * process cannot be read (it is gone).
 */
export function residentOnceBytes(pids: readonly number[]): number | undefined {
  let anon = 0;
  let files = 0;
  for (const pid of pids) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return undefined;
    }
    const [ownAnon, ownFile, ownShmem] = (['RssAnon', 'RssFile', 'RssShmem'] as const).map((field) => statusBytes(status, field));
    if (ownAnon === undefined || ownFile === undefined || ownShmem === undefined) return undefined;
    anon += ownAnon;
    files = Math.max(files, ownFile + ownShmem);
  }
  return anon + files;
}

/** CPU seconds used so far: the main (JavaScript) thread of each process apart from all its other threads. */
export interface CpuSeconds {
  main: number;
  other: number;
}

export function cpuSeconds(pids: readonly number[]): CpuSeconds {
  return splitMainOther(threadSeconds(pids));
}

/** Per-thread CPU seconds (threadSeconds, or differences of two readings) summed into main and other. */
export function splitMainOther(threads: Iterable<[string, number]>): CpuSeconds {
  const total = { main: 0, other: 0 };
  for (const [key, seconds] of threads) {
    if (key.endsWith(':main')) total.main += seconds;
    else total.other += seconds;
  }
  return total;
}

/**
 * CPU seconds used so far by each thread of the processes, keyed `pid:main` for a main thread and
 * `pid:tid` for the others (Node names every thread "node": which one is which shows in its share).
 */
export function threadSeconds(pids: readonly number[]): Map<string, number> {
  const threads = new Map<string, number>();
  for (const pid of pids) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      } catch {
        continue; // the thread ended meanwhile
      }
      // Fields after the parenthesised command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(`${pid}:${tid === String(pid) ? 'main' : tid}`, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND);
    }
  }
  return threads;
}

/**
 * Resolves once the machine has been nearly idle (under `cores` busy) for a whole `windowMs`, or after
 * `maxMs`: so that work a server deferred (batched commits, GC) lands in its own run, not in the next one's.
 */
export async function settled(cores = 0.15, windowMs = 100, maxMs = 3000): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    const before = machineBusySeconds();
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if ((machineBusySeconds() - before) / ((performance.now() - start) / 1000) < cores) return;
  }
}

/** CPU seconds the whole machine has been busy (all cores; /proc/stat: everything but idle and iowait). */
export function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND;
}

export function cpuModel(): string {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const cores = cpuinfo.split('\n').filter((line) => line.startsWith('processor')).length;
  return `${model} × ${cores}`;
}

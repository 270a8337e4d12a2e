/**
 * `npm run bench`: the gateway's throughput, latency and memory, every figure measured side by side in one
 * run on this machine so that ratios hold when the machine is noisy. Prints the table and writes it, with
 * the run's context and the CPU profiles' summaries, to bench/results.md. Not part of `npm test`.
 *
 * Settings (environment): BENCH_DURATION (s per run, default 10), BENCH_WARMUP (2), BENCH_CONNECTIONS (50),
 * BENCH_WORKERS (XR_WORKERS values, default "1"; e.g. "1,2"), BENCH_PARTNERS (100), BENCH_LOG_LEVEL (info),
 * BENCH_STEADY_RATE (1000), BENCH_FAMILIES / BENCH_LARGE_FAMILIES / BENCH_MIX_FAMILIES, BENCH_OUTBOUND_FORMAT
 * (hz-json), BENCH_PROFILE (1; 0 skips the profiles), BENCH_ONLY (scenario groups, e.g. "outbound": a partial
 * run prints its table and profile summaries but leaves bench/results.md as it is), BENCH_GATEWAY_NODE_FLAGS (Node
 * flags for the gateway's process only, for experiments). bench/README.md says what
 * each row measures.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_DIR } from './lib/child.ts';
import { loadBenchConfig } from './lib/config.ts';
import { cpuModel, machineBusySeconds } from './lib/proc.ts';
import { summariseProfile } from './lib/profile.ts';
import { markdownTable, notesList, profileSection, writeReport, type Row } from './lib/report.ts';
import { prepareFixtures, runSuite } from './lib/suite.ts';

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

const config = loadBenchConfig(process.env);
const started = performance.now();
const startedAt = new Date();
mkdirSync(path.join(BENCH_DIR, 'profiles'), { recursive: true });

/** How busy the machine is before we start: other processes' cores over two seconds. */
async function machineLoad(): Promise<number> {
  const before = machineBusySeconds() - process.cpuUsage().user / 1e6 - process.cpuUsage().system / 1e6;
  await sleep(2000);
  return (machineBusySeconds() - process.cpuUsage().user / 1e6 - process.cpuUsage().system / 1e6 - before) / 2;
}
const loadAtStart = await machineLoad();
if (loadAtStart > 0.2) log(`other processes are using ${loadAtStart.toFixed(2)} cores: the figures will carry their noise`);

log(`making ${config.partners} partner PKIs and the messages`);
const fixtures = await prepareFixtures(config);

const rows: Row[] = [];
const profiles: string[] = [];
for (const workers of config.workers) {
  const result = await runSuite(config, fixtures, workers, log);
  rows.push(...result.rows);
  for (const run of result.profiles) {
    profiles.push(profileSection(run.name, summariseProfile(run.file), `${run.context} File: \`${path.relative(path.resolve(BENCH_DIR, '..'), run.file)}\`.`, run.messages));
  }
}

/** Which code was measured: the commit, and how many files differed from it (read-only git commands). */
function codeState(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: path.resolve(BENCH_DIR, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changed = git('status', '--porcelain').split('\n').filter((line) => line !== '' && !line.endsWith(' bench/') && !line.includes(' bench/'));
    return `commit ${git('rev-parse', '--short', 'HEAD')}${changed.length > 0 ? ` + ${changed.length} changed or new files outside bench/ (working tree)` : ''}`;
  } catch {
    return 'commit unknown';
  }
}

/**
 * One XR_WORKERS value's rows after another's would put the figures to compare far apart: each scenario's
 * rows go together, in the order the suite ran them (names differ only in their numbers).
 */
function sideBySide(all: readonly Row[]): Row[] {
  const keyOf = (row: Row) => row.scenario.replace(/[\d,.]+/g, '#');
  const order = [...new Set(all.map(keyOf))];
  return [...all].sort((a, b) => order.indexOf(keyOf(a)) - order.indexOf(keyOf(b)) || a.workers - b.workers);
}

const settings = Object.entries(process.env).filter(([name]) => name.startsWith('BENCH_')).map(([name, value]) => `${name}=${value}`);
const header = [
  `- date: ${startedAt.toISOString()}, whole run ${((performance.now() - started) / 1000).toFixed(0)} s`,
  `- code: ${codeState()}`,
  `- node ${process.version}, ${os.type()} ${os.release()}, CPU ${cpuModel()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
  `- command: \`${[...settings, 'npm run bench'].join(' ')}\` (duration ${config.durationS} s per run, warm-up ${config.warmupS} s, ` +
    `closed loop c=${config.connections}, ${config.partners} partners registered, XR_LOG_LEVEL=${config.logLevel})`,
  `- other processes used ${loadAtStart.toFixed(2)} cores in the 2 s before the run (each row's notes say how many during it)`,
  '- the load generator runs in this process on the same 2 cores as the server under test; the simulated partner (outbound) too.',
  '- msg/s: 2xx answers (inbound), 202s (accept) or distinct messages the partner answered (delivered), per second.',
  '  p50/p99: closed loop from send to answer; open loop from when the request was due. Peak RSS: VmHWM of the server',
  '  process(es), summed, reset before each run; "shared pages once": the processes\' anonymous pages plus the file',
  '  pages (the node binary) once, read every 100 ms — what they hold together; the targets are judged on peak RSS.',
  '  Server CPU: cores used by the main (JavaScript) threads + all other threads',
  '  (the libuv pool, where signatures run with fewer processes than cores; the writer threads, GC helpers, I/O).',
];
const ordered = sideBySide(rows);
process.stdout.write(`\n${markdownTable(ordered)}\n\n${notesList(ordered)}\n`);
if (config.only === undefined) {
  writeReport(path.join(BENCH_DIR, 'results.md'), { header, rows: ordered, profiles });
  log(`written to bench/results.md (${((performance.now() - started) / 1000).toFixed(0)} s)`);
} else {
  // results.md holds whole runs only: a partial run's figures are printed, with their context, and nothing more.
  process.stdout.write(`\n${header.join('\n')}\n${profiles.map((section) => `\n${section}\n`).join('')}`);
  log(`BENCH_ONLY=${[...config.only].join(',')}: bench/results.md left as it is (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

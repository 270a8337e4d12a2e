/**
 * The results table: one row per measured figure, printed and written to bench/results.md with what is
 * needed to read it later (date, Node, CPU, the command and its settings) and the profile summaries.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ProfileSummary } from './profile.ts';

export interface Row {
  scenario: string;
  workers: number;
  /** Messages per second (answered 2xx, accepted 202, or delivered). */
  rate?: number;
  p50Ms?: number;
  p99Ms?: number;
  peakRssMb?: number;
  /** The processes' resident memory with shared pages (the node binary) counted once, at its highest reading. */
  peakResidentOnceMb?: number;
  /** CPU cores used by the server during the run: main threads + other threads (libuv pool, GC, I/O). */
  cpu?: { main: number; other: number };
  ratioToFloor?: number;
  target: string;
  met?: boolean;
  /** What a reader needs to trust the row: failures, a short pool, the event-loop delay. */
  notes: string[];
}

const fixed = (value: number | undefined, digits: number) => (value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits));

function cells(row: Row): string[] {
  return [
    row.scenario,
    String(row.workers),
    row.rate === undefined ? '—' : Math.round(row.rate).toLocaleString('en-US'),
    fixed(row.p50Ms, 2),
    fixed(row.p99Ms, 2),
    fixed(row.peakRssMb, 0),
    fixed(row.peakResidentOnceMb, 0),
    row.cpu ? `${row.cpu.main.toFixed(2)} + ${row.cpu.other.toFixed(2)}` : '—',
    row.ratioToFloor === undefined ? '—' : `${(100 * row.ratioToFloor).toFixed(0)}%`,
    row.target,
    row.met === undefined ? '—' : row.met ? 'yes' : '**NO**',
  ];
}

const HEADER = ['scenario', 'workers', 'msg/s', 'p50 ms', 'p99 ms', 'peak RSS MB', 'peak RSS MB, shared pages once', 'server CPU (main + other threads)', 'of floor', 'target', 'met?'];

export function markdownTable(rows: readonly Row[]): string {
  const lines = [HEADER, HEADER.map(() => '---'), ...rows.map(cells)];
  return lines.map((line) => `| ${line.join(' | ')} |`).join('\n');
}

export function notesList(rows: readonly Row[]): string {
  return rows
    .filter((row) => row.notes.length > 0)
    .map((row) => `- **${row.scenario}** (${row.workers} worker${row.workers > 1 ? 's' : ''}): ${row.notes.join('; ')}`)
    .join('\n');
}

function share(rows: ProfileSummary['topSelf'], messages: number): string {
  return [
    '| ms | % of wall | µs per message | |',
    '| ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.ms.toFixed(0)} | ${r.percent.toFixed(1)}% | ${messages > 0 ? ((r.ms * 1000) / messages).toFixed(0) : '—'} | \`${r.name}\` |`),
  ].join('\n');
}

export function profileSection(name: string, summary: ProfileSummary, context: string, messages: number): string {
  return [
    `### ${name}`,
    '',
    `${context} Profile wall time ${summary.wallMs.toFixed(0)} ms, main thread busy ${summary.busyMs.toFixed(0)} ms ` +
      `(${((100 * summary.busyMs) / summary.wallMs).toFixed(0)}%). V8 samples the main thread by wall time: where other ` +
      'processes shared the cores, a function\'s time includes moments the OS ran something else while it was on the stack.',
    '',
    'Self time by area:',
    '',
    share(summary.byArea, messages),
    '',
    'Top functions by self time:',
    '',
    share(summary.topSelf, messages),
    '',
    'Project functions by inclusive time (synchronous stretches only, for async functions):',
    '',
    share(summary.projectInclusive, messages),
    '',
  ].join('\n');
}

export interface Report {
  header: string[];
  rows: Row[];
  profiles: string[];
}

/**
 * Everything from this line to the end of results.md is written by people (comparisons across runs,
 * conclusions) and kept when the generated part above it is rewritten.
 */
export const KEPT_MARKER = '<!-- written by hand below this line: kept by npm run bench -->';

function keptSection(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const previous = readFileSync(file, 'utf8');
  const at = previous.indexOf(KEPT_MARKER);
  return at === -1 ? undefined : previous.slice(at).trimEnd();
}

export function writeReport(file: string, report: Report): string {
  const kept = keptSection(file);
  const text = [
    '# Benchmark results',
    '',
    ...report.header,
    '',
    markdownTable(report.rows),
    '',
    'Notes per row:',
    '',
    notesList(report.rows) || '- none',
    '',
    ...(report.profiles.length > 0 ? ['## Profile', '', ...report.profiles] : []),
    ...(kept ? ['', kept] : []),
  ].join('\n');
  writeFileSync(file, `${text}\n`);
  return text;
}

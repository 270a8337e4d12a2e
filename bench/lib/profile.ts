/**
 * Reads a V8 CPU profile (.cpuprofile, as written by --cpu-prof or the inspector's Profiler.stop) and says
 * where the main thread's time went: self time per function, the same grouped by where the code lives
 * (jose, SQLite, pino, xml2js, …), and inclusive time of the gateway's own functions (the sample's stack
 * contains the function: for async functions, only their synchronous stretches between awaits count).
 *
 * Work done off the main thread — ES256 sign/verify on libuv's thread pool when the gateway has fewer
 * processes than cores, the writer threads — is not in a CPU profile at all; the benchmark reports that CPU
 * separately, thread by thread (bench/lib/proc.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface TimeShare {
  name: string;
  ms: number;
  /** Of the profile's wall time. */
  percent: number;
}

export interface ProfileSummary {
  wallMs: number;
  /** Wall time minus (idle): what the main thread was busy with. */
  busyMs: number;
  topSelf: TimeShare[];
  byArea: TimeShare[];
  projectInclusive: TimeShare[];
}

const REPO = path.resolve(import.meta.dirname, '../..');

/** file:line; the line only where it means something (tsx-compiled files report most functions on line 1). */
function location(url: string, line: number): string {
  if (url === '') return '';
  const file = url.replace(/^file:\/\//, '');
  const relative = (file.startsWith(REPO) ? path.relative(REPO, file) : file).replace(/^node_modules\//, '');
  return line > 0 ? `${relative}:${line + 1}` : relative;
}

const AREAS: Array<[string, RegExp]> = [
  ['jose (JWS)', /node_modules\/jose\//],
  ['better-sqlite3', /node_modules\/better-sqlite3\//],
  ['pino / sonic-boom (logs)', /node_modules\/(pino|sonic-boom|pino-std-serializers|fast-redact|thread-stream|quick-format-unescaped)\//],
  ['xml2js / sax / xmlbuilder', /node_modules\/(xml2js|sax|xmlbuilder)\//],
  ['iconv-lite', /node_modules\/iconv-lite\//],
  ['koa / @koa', /node_modules\/(koa|@koa|koa-compose|http-errors|statuses|on-finished|accepts|content-type|type-is|vary|cookies|delegates|encodeurl|escape-html|negotiator|mime-types|mime-db|only|fresh|depd)\//],
  ['jsonata', /node_modules\/jsonata\//],
  ['other node_modules', /node_modules\//],
  ['adapters/ (formats, validation)', /\/adapters\//],
  ['certs/', /\/certs\//],
  ['gateway/', /\/gateway\//],
  ['bench/ (the in-memory backend)', /\/bench\//],
  ['node: crypto (WebCrypto glue, hashes)', /^node:internal\/crypto/],
  ['node: http / net / streams', /^node:(internal\/)?(_http|http|net|stream|internal\/streams|internal\/http)/],
  ['node: other', /^node:/],
];

const SQLITE_CALLS = new Set(['run', 'all', 'get', 'iterate', 'exec', 'pragma', 'prepare', 'transaction']);

function areaOfUrl(url: string): string {
  return AREAS.find(([, pattern]) => pattern.test(url))?.[0] ?? 'other';
}

/**
 * Where a sample's time goes. Native code (V8 builtins such as JSON.parse, C++ bindings such as
 * better-sqlite3's Statement#run or a socket write) has no script of its own: it is charged to the nearest
 * JavaScript frame that called it, and named with it ("run ← replayClaim gateway/store/sqlite-store.ts").
 */
function attribute(node: ProfileNode, caller: ProfileNode | undefined): { area: string; name: string } {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${location(url, lineNumber)}`.trim();
  if (url !== '') return { area: areaOfUrl(url), name };
  if (functionName.startsWith('(') || !caller) return { area: functionName || 'native', name };
  const callerName = `${caller.callFrame.functionName || '(anonymous)'} ${location(caller.callFrame.url, caller.callFrame.lineNumber)}`;
  const area = SQLITE_CALLS.has(functionName) && /better-sqlite3|sqlite/.test(caller.callFrame.url)
    ? 'better-sqlite3 (SQLite, native: statements, commits, fsync)'
    : `native code called from ${areaOfUrl(caller.callFrame.url)}`;
  return { area, name: `${name} ← ${callerName}` };
}

function top(map: Map<string, number>, wallMs: number, limit: number): TimeShare[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, micros]) => ({ name, ms: micros / 1000, percent: (100 * micros) / 1000 / wallMs }));
}

export function summariseProfile(file: string, limit = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  // timeDeltas[i] is the time since the previous sample; charge each sample the time until the next one.
  for (let i = 0; i < profile.samples.length; i += 1) {
    const micros = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!)!;
    if (node.callFrame.functionName === '(idle)') idle += micros;
    let caller: ProfileNode | undefined;
    for (let id = parent.get(node.id); id !== undefined && !caller; id = parent.get(id)) {
      const frame = byId.get(id)!;
      if (frame.callFrame.url !== '') caller = frame;
    }
    const { area: where, name } = attribute(node, caller);
    self.set(name, (self.get(name) ?? 0) + micros);
    area.set(where, (area.get(where) ?? 0) + micros);

    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (!/\/(gateway|adapters|certs)\//.test(frame.url) || frame.url.includes('node_modules')) continue;
      const key = `${frame.functionName || '(anonymous)'} ${location(frame.url, frame.lineNumber)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
    }
  }
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  return {
    wallMs,
    busyMs: wallMs - idle / 1000,
    topSelf: top(self, wallMs, limit),
    byArea: top(area, wallMs, limit),
    projectInclusive: top(inclusive, wallMs, limit),
  };
}

/**
 * The benchmark's settings, from the environment (`BENCH_DURATION=20 npm run bench`), with defaults that
 * keep a whole run around five minutes on the 2-core machine.
 */
import { FAMILIES, type Family } from './messages.ts';

/**
 * The suite's scenario groups, in the order they run (BENCH_ONLY picks some): the crypto floor, the idle
 * RSS row, inbound per family (its ratios alternate floor and gateway runs, so it runs the floor too), the steady rate, the
 * 1 MB materials, 1 MB alongside small messages, outbound accept and delivery.
 */
export const SCENARIO_GROUPS = ['floor', 'idle', 'inbound', 'steady', 'large', 'mix', 'outbound'] as const;
export type ScenarioGroup = (typeof SCENARIO_GROUPS)[number];

export interface BenchConfig {
  /** Seconds per measured run (BENCH_DURATION). */
  durationS: number;
  /** Seconds of unmeasured load before each closed-loop run (BENCH_WARMUP): JIT, caches, pool sizing. */
  warmupS: number;
  /** Connections of the closed-loop runs (BENCH_CONNECTIONS). */
  connections: number;
  /** Connections of the closed-loop 1 MB runs (BENCH_LARGE_CONNECTIONS). */
  largeConnections: number;
  /** XR_WORKERS values to run the whole suite with (BENCH_WORKERS, e.g. "1,2"). */
  workers: number[];
  /** Partners registered before any run (BENCH_PARTNERS). */
  partners: number;
  /** The gateway's XR_LOG_LEVEL (BENCH_LOG_LEVEL): info, as in production. */
  logLevel: string;
  /** The open-loop rate for the latency target (BENCH_STEADY_RATE). */
  steadyRate: number;
  /** Families of the inbound runs (BENCH_FAMILIES; an empty value runs none). */
  families: Family[];
  /** Families sent with a 1 MB material, alone and alongside small messages (BENCH_LARGE_FAMILIES, BENCH_MIX_FAMILIES). */
  largeFamilies: Family[];
  mixFamilies: Family[];
  /** The outbound target partner's format (BENCH_OUTBOUND_FORMAT). */
  outboundFormat: Family;
  /** CPU profiles of inbound hz-json and zj-xml and of outbound, one worker (BENCH_PROFILE=0 skips). */
  profile: boolean;
  /**
   * The scenario groups to run (BENCH_ONLY, a comma list), or undefined for the whole suite. A partial run
   * prints its table and leaves bench/results.md as it is: that file holds whole runs only.
   */
  only: ReadonlySet<ScenarioGroup> | undefined;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name}: "${raw}" is not a number from ${min} to ${max}`);
  return value;
}

function families(env: NodeJS.ProcessEnv, name: string, fallback: readonly Family[]): Family[] {
  const raw = env[name];
  if (raw === undefined) return [...fallback];
  const list = raw.split(',').map((family) => family.trim()).filter(Boolean);
  for (const family of list) {
    if (!(FAMILIES as readonly string[]).includes(family)) throw new Error(`${name}: ${family} is not one of ${FAMILIES.join(', ')}`);
  }
  return list as Family[];
}

function scenarioGroups(raw: string | undefined): ReadonlySet<ScenarioGroup> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const list = raw.split(',').map((group) => group.trim()).filter(Boolean);
  for (const group of list) {
    if (!(SCENARIO_GROUPS as readonly string[]).includes(group)) throw new Error(`BENCH_ONLY: ${group} is not one of ${SCENARIO_GROUPS.join(', ')}`);
  }
  const groups = new Set(list as ScenarioGroup[]);
  // Inbound rows are ratios to floor runs alternated with gateway runs, and the steady row has the floor at
  // the same rate beside it: the floor server must be up.
  if (groups.has('inbound') || groups.has('steady')) groups.add('floor');
  return groups;
}

export function loadBenchConfig(env: NodeJS.ProcessEnv): BenchConfig {
  const workers = (env.BENCH_WORKERS ?? '1').split(',').map((n) => Number(n.trim()));
  if (workers.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) throw new Error(`BENCH_WORKERS: "${env.BENCH_WORKERS}" is not a list of worker counts`);
  const all = families(env, 'BENCH_FAMILIES', FAMILIES);
  const outbound = families(env, 'BENCH_OUTBOUND_FORMAT', ['hz-json']);
  return {
    durationS: number(env, 'BENCH_DURATION', 10, 1, 3600),
    warmupS: number(env, 'BENCH_WARMUP', 2, 0.5, 600),
    connections: number(env, 'BENCH_CONNECTIONS', 50, 1, 1000),
    largeConnections: number(env, 'BENCH_LARGE_CONNECTIONS', 4, 1, 100),
    workers,
    partners: number(env, 'BENCH_PARTNERS', 100, 5, 1000),
    logLevel: env.BENCH_LOG_LEVEL ?? 'info',
    steadyRate: number(env, 'BENCH_STEADY_RATE', 1000, 1, 100_000),
    families: all,
    largeFamilies: families(env, 'BENCH_LARGE_FAMILIES', all),
    mixFamilies: families(env, 'BENCH_MIX_FAMILIES', ['hz-json', 'zj-xml']),
    outboundFormat: outbound[0]!,
    profile: env.BENCH_PROFILE !== '0',
    only: scenarioGroups(env.BENCH_ONLY),
  };
}

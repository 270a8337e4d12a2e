/**
 * One full suite for one XR_WORKERS value, every figure from the same run on the same machine:
 *
 *   crypto floor → gateway up, 100 partners registered → inbound per family (closed loop)
 *   → hz-json at a steady rate (open loop) → 1 MB materials per family, alone, then alongside small
 *   messages → outbound accept and delivery → (one worker) CPU profiles, the drain's included
 *
 * BENCH_ONLY runs some of these groups (config.ts, SCENARIO_GROUPS); the gateway is started only when a
 * group needs it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { toPem } from '../../certs/issue.ts';
import { BENCH_DIR, startChild, type ServerChild } from './child.ts';
import type { BenchConfig, ScenarioGroup } from './config.ts';
import { loadNotes, partnerRequest, saturate, serverNotes, steady, type Observer } from './inbound.ts';
import { closedLoop, openLoop, type LoadStats } from './load.ts';
import { measure, type Measured } from './measure.ts';
import { FAMILIES, partnerMessage, type Family } from './messages.ts';
import { drainFor, localSubmission, runOutbound, type OutboundTarget } from './outbound.ts';
import { makePartners, registerPartners, type BenchPartner } from './partners.ts';
import { RequestPool, signRequests, type Sender } from './pool.ts';
import { currentRssBytes, residentOnceBytes, settled } from './proc.ts';
import type { Row } from './report.ts';
import { stageTimer } from './stages.ts';

const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const LOCAL_TOKEN = 'bench-local-token-0123456789';
const HOST = '127.0.0.1';
/** Floor and gateway runs, alternated, behind each inbound row's ratio to the floor. */
const ALTERNATING_ROUNDS = 3;
/** What the floor is expected to reach at most, to size its warm-up pool (shared/NOTES.md: ≈ 7,700/s). */
const FLOOR_ESTIMATE_PER_S = 12_000;
const LARGE_ESTIMATE_PER_S = 200;
/** Large senders per family: each 1 MB body is kept in memory. */
const LARGE_SENDERS = 4;
const RSS_LIMIT_MB = 200;
const P99_LIMIT_MS = 10;
/** The 1 MB flow alongside small messages runs at this fraction of its own closed-loop throughput. */
const MIX_LARGE_SHARE = 0.25;

export interface Fixtures {
  partners: BenchPartner[];
  senders: Map<Family, { realistic: Sender[]; large: Sender[] }>;
  bodyBytes: Map<Family, { realistic: number; large: number }>;
}

export async function prepareFixtures(config: BenchConfig): Promise<Fixtures> {
  const partners = await makePartners(config.partners);
  const senders = new Map<Family, { realistic: Sender[]; large: Sender[] }>();
  const bodyBytes = new Map<Family, { realistic: number; large: number }>();
  for (const family of FAMILIES) {
    const own = partners.filter((partner) => partner.family === family);
    const sender = async (partner: BenchPartner, size: 'realistic' | 'large'): Promise<Sender> => {
      const message = await partnerMessage(family, partner.region, size);
      return { region: partner.region, signer: partner.pki.signer, body: message.body, contentType: message.contentType };
    };
    const realistic = await Promise.all(own.map((partner) => sender(partner, 'realistic')));
    const large = config.largeFamilies.includes(family) ? await Promise.all(own.slice(0, LARGE_SENDERS).map((partner) => sender(partner, 'large'))) : [];
    senders.set(family, { realistic, large });
    bodyBytes.set(family, { realistic: realistic[0]!.body.length, large: large[0]?.body.length ?? 0 });
  }
  return { partners, senders, bodyBytes };
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const isXml = (family: Family) => family.endsWith('-xml');
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
/** The gateway's steady-rate row: the baseline the rows with 1 MB materials beside are read against. */
const steadyScenario = (rate: number) => `inbound hz-json 2 KB at a steady ${rate.toLocaleString('en-US')} msg/s (open loop, latency from when each was due)`;

export interface ProfileRun {
  name: string;
  file: string;
  context: string;
  /** Messages answered during the profile, to express the times per message. */
  messages: number;
}

export interface SuiteResult {
  rows: Row[];
  profiles: ProfileRun[];
}


/** A row's measured columns: the load's throughput and latency, the server's peak RSS and CPU over the same run. */
function figures(stats: LoadStats, run: Pick<Measured<unknown>, 'peakRssMb' | 'peakResidentOnceMb' | 'cpu'>): Pick<Row, 'rate' | 'p50Ms' | 'p99Ms' | 'peakRssMb' | 'peakResidentOnceMb' | 'cpu'> {
  return { rate: stats.rate, p50Ms: stats.p50Ms, p99Ms: stats.p99Ms, peakRssMb: run.peakRssMb, peakResidentOnceMb: run.peakResidentOnceMb, cpu: run.cpu };
}
class Suite {
  readonly rows: Row[] = [];
  readonly profiles: ProfileRun[] = [];

  /** Runs one scenario; a failure becomes a row saying so, and the suite goes on with the next. */
  async guarded(scenario: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.rows.push({ scenario, workers: this.workers, target: '—', notes: [`**not measured**: ${(error as Error).message}`] });
    }
  }
  floorRate = 0;
  floorUrl = '';
  floorChild: ServerChild | undefined;
  /** The gateway's stage timings around a run (set once the gateway is up). */
  stages: Observer = async () => async () => [];
  readonly rates = new Map<string, number>();

  constructor(readonly config: BenchConfig, readonly fixtures: Fixtures, readonly workers: number, readonly scratch: string) {}

  senders(family: Family, size: 'realistic' | 'large'): Sender[] {
    return this.fixtures.senders.get(family)![size];
  }

  /** Starts the floor and measures it in full; it stays up for the alternating ratio runs until stopFloor(). */
  async floor(): Promise<void> {
    const certsFile = path.join(this.scratch, 'floor-certs.json');
    writeFileSync(certsFile, JSON.stringify(this.fixtures.partners.map((partner) => partner.pki.signer.chain[0]!.toString())));
    const port = await freePort();
    this.floorUrl = `http://${HOST}:${port}`;
    this.floorChild = await startChild('floor.ts', { BENCH_PORT: String(port), BENCH_FLOOR_CERTS: certsFile, BENCH_FLOOR_WORKERS: String(this.workers) });
    const senders = this.senders('hz-json', 'realistic');
    const { measured, notes } = await saturate(this.config, this.floorChild, this.floorUrl, senders, this.config.connections, FLOOR_ESTIMATE_PER_S);
    this.floorRate = measured.stats.rate;
    this.rows.push({
      scenario: `crypto floor: bare Koa, 1 ES256 verify + 1 ES256 sign (hz-json ${kb(senders[0]!.body.length)} body, c=${this.config.connections})`,
      workers: this.workers,
      ...figures(measured.stats, measured),
      ratioToFloor: 1,
      target: '(reference)',
      notes,
    });
  }

  /**
   * The ratio of a gateway run to the floor, taken in ALTERNATING_ROUNDS short rounds — floor, gateway, floor,
   * gateway, … — each pair seconds apart, so a change in the machine's speed (neighbours on the host; a run
   * on this VM drifted by 25 % within minutes) weighs on both sides of the ratio rather than on one. The ratio
   * is the gateway's answers over the floor's in the same total time. Each run starts once the machine is
   * idle again, so what the gateway defers (audit batches, commits, GC) is not charged to the floor's run.
   */
  async alternatingRatio(url: string, senders: readonly Sender[], expectedRate: number): Promise<{ ratio: number; note: string }> {
    const seconds = Math.max(1.5, this.config.durationS / 5);
    const floorSenders = this.senders('hz-json', 'realistic');
    const sizeFor = (rate: number) => Math.ceil(rate * seconds * 1.5) + 2 * this.config.connections;
    const floorRuns: LoadStats[] = [];
    const gatewayRuns: LoadStats[] = [];
    for (let round = 0; round < ALTERNATING_ROUNDS; round += 1) {
      const floorPool = new RequestPool(signRequests(floorSenders, sizeFor(this.floorRate)));
      const gatewayPool = new RequestPool(signRequests(senders, sizeFor(expectedRate)));
      await settled();
      floorRuns.push(await closedLoop({ url: this.floorUrl, connections: this.config.connections, durationS: seconds, next: () => partnerRequest(floorPool.take()) }));
      await settled();
      gatewayRuns.push(await closedLoop({ url, connections: this.config.connections, durationS: seconds, next: () => partnerRequest(gatewayPool.take()) }));
    }
    // Answers over time, all rounds together.
    const rateOf = (runs: LoadStats[]) => runs.reduce((n, run) => n + run.ok, 0) / runs.reduce((s, run) => s + run.elapsedS, 0);
    const floorRate = rateOf(floorRuns);
    const gatewayRate = rateOf(gatewayRuns);
    const failed = [...floorRuns, ...gatewayRuns].reduce((n, run) => n + run.failed, 0);
    const each = gatewayRuns.map((run, round) => `${Math.round((100 * run.rate) / floorRuns[round]!.rate)} %`).join(', ');
    return {
      ratio: gatewayRate / floorRate,
      note: `of floor: ${ALTERNATING_ROUNDS} alternating rounds of ${seconds.toFixed(1)} s, floor ${Math.round(floorRate)}/s, gateway ${Math.round(gatewayRate)}/s (rounds: ${each})${failed > 0 ? ` (**${failed} failed**)` : ''}`,
    };
  }

  async stopFloor(): Promise<void> {
    await this.floorChild?.stop();
    this.floorChild = undefined;
  }

  async inbound(gateway: ServerChild, partnerUrl: string): Promise<void> {
    for (const family of this.config.families) await this.guarded(`inbound ${family} 2 KB`, async () => {
      const senders = this.senders(family, 'realistic');
      const { measured, notes } = await saturate(this.config, gateway, partnerUrl, senders, this.config.connections, this.floorRate, this.stages, this.floorRate);
      const { ratio, note } = await this.alternatingRatio(partnerUrl, senders, measured.stats.rate);
      notes.unshift(note);
      const needed = family === 'hz-json' ? 0.6 : isXml(family) ? 0.4 : undefined;
      this.rates.set(`${family} realistic`, measured.stats.rate);
      this.rows.push({
        scenario: `inbound ${family} ${kb(senders[0]!.body.length)} (c=${this.config.connections})`,
        workers: this.workers,
        ...figures(measured.stats, measured),
        ratioToFloor: ratio,
        target: `${needed === undefined ? '' : `≥ ${needed * 100}% of floor; `}RSS ≤ ${RSS_LIMIT_MB} MB`,
        met: (needed === undefined || ratio >= needed) && measured.peakRssMb <= RSS_LIMIT_MB && measured.stats.failed === 0,
        notes,
      });
    });
  }

  /**
   * The floor at the steady rate: what the p99 target can be held against on this machine, where the load
   * generator and the server share the cores. Run while the floor server is up (after floor()).
   */
  async steadyFloor(): Promise<void> {
    const rate = this.config.steadyRate;
    const port = Number(new URL(this.floorUrl).port);
    const measured = await this.warmSteady(this.floorChild!, port);
    const { stats } = measured;
    this.rows.push({
      scenario: `crypto floor at a steady ${rate.toLocaleString('en-US')} msg/s (open loop, latency from when each was due)`,
      workers: this.workers,
      ...figures(stats, measured),
      target: '(reference)',
      notes: [...loadNotes(stats), `max ${stats.maxMs.toFixed(1)} ms`, `load generator lagged at most ${stats.maxSendLagMs.toFixed(1)} ms`, ...serverNotes(measured)],
    });
  }

  /** A closed-loop warm-up (a cold process answers its first seconds slowly), the machine idle again, then the steady run. */
  private async warmSteady(server: ServerChild, port: number, observe: Observer = async () => async () => []) {
    const senders = this.senders('hz-json', 'realistic');
    const ceiling = this.floorRate > 0 ? this.floorRate * 1.2 : FLOOR_ESTIMATE_PER_S;
    const warmPool = new RequestPool(signRequests(senders, Math.ceil(ceiling * this.config.warmupS) + 2 * this.config.connections));
    await closedLoop({ url: `http://${HOST}:${port}`, connections: this.config.connections, durationS: this.config.warmupS, next: () => partnerRequest(warmPool.take()) });
    await settled();
    const observed = await observe();
    const measured = await steady(server, { host: HOST, port }, senders, this.config.steadyRate, this.config.durationS);
    return { ...measured, observations: await observed() };
  }

  async steadyRate(gateway: ServerChild, port: number): Promise<void> {
    const rate = this.config.steadyRate;
    const measured = await this.warmSteady(gateway, port, this.stages);
    const { stats } = measured;
    const capacity = this.rates.get('hz-json realistic');
    const overload = capacity !== undefined && capacity < rate
      ? [`**the offered ${rate}/s is over the ${Math.round(capacity)}/s this gateway reached in the closed-loop run: the latency is the queue's**`]
      : [];
    this.rows.push({
      scenario: steadyScenario(rate),
      workers: this.workers,
      ...figures(stats, measured),
      target: `p99 ≤ ${P99_LIMIT_MS} ms; RSS ≤ ${RSS_LIMIT_MB} MB`,
      met: stats.p99Ms <= P99_LIMIT_MS && stats.failed === 0 && measured.peakRssMb <= RSS_LIMIT_MB,
      notes: [...overload, ...loadNotes(stats), `max ${stats.maxMs.toFixed(1)} ms`, `load generator lagged at most ${stats.maxSendLagMs.toFixed(1)} ms`, ...serverNotes(measured), ...measured.observations],
    });
  }

  async large(gateway: ServerChild, partnerUrl: string): Promise<void> {
    for (const family of this.config.largeFamilies) await this.guarded(`inbound ${family} 1 MB`, async () => {
      const senders = this.senders(family, 'large');
      const shorter = { ...this.config, durationS: Math.max(2, this.config.durationS / 2) };
      const { measured, notes } = await saturate(shorter, gateway, partnerUrl, senders, this.config.largeConnections, LARGE_ESTIMATE_PER_S, this.stages);
      this.rates.set(`${family} large`, measured.stats.rate);
      this.rows.push({
        scenario: `inbound ${family} with a 1 MB material (${kb(senders[0]!.body.length)} body, c=${this.config.largeConnections})`,
        workers: this.workers,
        ...figures(measured.stats, measured),
        target: `RSS ≤ ${RSS_LIMIT_MB} MB`,
        met: measured.peakRssMb <= RSS_LIMIT_MB && measured.stats.failed === 0,
        notes: [...notes, `${((measured.stats.rate * senders[0]!.body.length) / 2 ** 20).toFixed(1)} MB/s of bodies`],
      });
    });
  }

  /**
   * Small messages at a steady rate while 1 MB messages flow: does a large body hold the others up? The
   * small rate is the steady rate, or half of what hz-json reached where that is less (an overloaded server
   * would show its queue, not the effect of the large bodies); the 1 MB messages come at a quarter of their
   * own closed-loop rate. The same small rate alone is measured just before, as the baseline.
   */
  async mix(gateway: ServerChild, port: number): Promise<void> {
    const small = Math.min(this.config.steadyRate, Math.round((this.rates.get('hz-json realistic') ?? this.config.steadyRate * 2) / 2));
    const { durationS } = this.config;
    const smallLoad = (seconds: number) => {
      const pool = new RequestPool(signRequests(this.senders('hz-json', 'realistic'), Math.ceil(small * seconds) + 10));
      return openLoop({ host: HOST, port, ratePerS: small, durationS: seconds, next: () => partnerRequest(pool.take()) });
    };
    let baseline = small === this.config.steadyRate ? this.rows.find((row) => row.scenario === steadyScenario(small)) : undefined;
    if (!baseline && this.config.mixFamilies.length > 0) {
      const alone = await measure(gateway, () => smallLoad(durationS / 2));
      baseline = {
        scenario: `inbound hz-json 2 KB at ${small.toLocaleString('en-US')} msg/s alone (open loop; baseline of the rows below)`,
        workers: this.workers,
        ...figures(alone.stats, alone),
        target: '—',
        notes: [...loadNotes(alone.stats), `max ${alone.stats.maxMs.toFixed(1)} ms`, ...serverNotes(alone)],
      };
      this.rows.push(baseline);
    }
    for (const family of this.config.mixFamilies) {
      const largeRate = Math.max(1, Math.round((this.rates.get(`${family} large`) ?? 4) * MIX_LARGE_SHARE));
      const largePool = new RequestPool(signRequests(this.senders(family, 'large'), Math.ceil(largeRate * durationS) + 10));
      const measured = await measure(gateway, () => Promise.all([
        smallLoad(durationS),
        openLoop({ host: HOST, port, ratePerS: largeRate, durationS, next: () => partnerRequest(largePool.take()) }),
      ]));
      const [smallStats, largeStats] = measured.stats;
      this.rows.push({
        scenario: `inbound hz-json 2 KB at ${small.toLocaleString('en-US')} msg/s while ${family} 1 MB messages flow at ${largeRate}/s (open loop)`,
        workers: this.workers,
        ...figures(smallStats, measured),
        target: `small p99 ≤ ${P99_LIMIT_MS} ms; RSS ≤ ${RSS_LIMIT_MB} MB`,
        met: smallStats.p99Ms <= P99_LIMIT_MS && smallStats.failed === 0 && largeStats.failed === 0 && measured.peakRssMb <= RSS_LIMIT_MB,
        notes: [
          ...loadNotes(smallStats),
          `small max ${smallStats.maxMs.toFixed(1)} ms (alone: p99 ${baseline?.p99Ms?.toFixed(1) ?? '?'} ms)`,
          `the 1 MB messages: ${largeStats.rate.toFixed(1)}/s, p50 ${largeStats.p50Ms.toFixed(1)} ms, p99 ${largeStats.p99Ms.toFixed(1)} ms${largeStats.failed > 0 ? `, **${largeStats.failed} failed** ${JSON.stringify(largeStats.statuses)}` : ''}`,
          ...serverNotes(measured),
        ],
      });
    }
  }

  async outbound(gateway: ServerChild, target: OutboundTarget): Promise<void> {
    await this.guarded('outbound accept and delivery', async () => {
      this.rows.push(...await runOutbound(this.config, gateway, target, this.workers));
    });
  }

  /** A CPU profile (V8 sampling profiler in the gateway child) of one load, for the findings. */
  async profiled(gateway: ServerChild, name: string, context: string, load: () => Promise<LoadStats>): Promise<void> {
    // A partial run (BENCH_ONLY) keeps its profiles apart: bench/profiles/ goes with results.md, a whole run's.
    const directory = this.config.only === undefined ? path.join(BENCH_DIR, 'profiles') : path.join(os.tmpdir(), 'xr-bench-profiles');
    mkdirSync(directory, { recursive: true });
    const file = path.join(directory, `${name}.cpuprofile`);
    await gateway.ask({ type: 'profile-start', intervalMicros: 250 });
    const stats = await load();
    await gateway.ask({ type: 'profile-stop', file });
    this.profiles.push({ name, file, context: `${context} ${stats.ok} messages answered (${Math.round(stats.rate)}/s while profiled).`, messages: stats.ok });
  }

  get profileSeconds(): number {
    return Math.min(5, this.config.durationS);
  }

  async profileInbound(gateway: ServerChild, partnerUrl: string): Promise<void> {
    const seconds = this.profileSeconds;
    const closed = (family: Family, size: 'realistic' | 'large', connections: number, estimate: number) => {
      const pool = new RequestPool(signRequests(this.senders(family, size), Math.ceil(estimate * seconds * 1.5) + 2 * connections));
      return () => closedLoop({ url: partnerUrl, connections, durationS: seconds, next: () => partnerRequest(pool.take()) });
    };
    const setting = `one worker, in-memory backend, XR_LOG_LEVEL=${this.config.logLevel}`;
    for (const family of ['hz-json', 'zj-xml'] as const) {
      if (!this.config.families.includes(family)) continue;
      await this.profiled(gateway, `inbound-${family}`,
        `Inbound ${family} ${kb(this.fixtures.bodyBytes.get(family)!.realistic)}, closed loop c=${this.config.connections}, ${seconds} s, ${setting}.`,
        closed(family, 'realistic', this.config.connections, this.rates.get(`${family} realistic`) ?? 2000));
    }
    if (this.config.largeFamilies.includes('zj-xml')) {
      await this.profiled(gateway, 'inbound-zj-xml-1MB', `Inbound zj-xml with a 1 MB material, closed loop c=${this.config.largeConnections}, ${seconds} s, ${setting}.`,
        closed('zj-xml', 'large', this.config.largeConnections, this.rates.get('zj-xml large') ?? 50));
    }
  }

  async profileOutbound(gateway: ServerChild, target: OutboundTarget): Promise<void> {
    const seconds = this.profileSeconds;
    const submission = localSubmission(target);
    await this.profiled(gateway, 'outbound-accept-deliver',
      `Outbound: local POSTs (closed loop c=${this.config.connections}, ${seconds} s) while the dispatcher delivers to the simulated partner, one worker.`,
      () => closedLoop({ url: target.localUrl, connections: this.config.connections, durationS: seconds, next: () => submission }));
  }

  /** The backlog the accept profile left, worked off with no new accepts: the drain row's own profile. */
  async profileDrain(gateway: ServerChild, target: OutboundTarget): Promise<void> {
    const seconds = this.profileSeconds;
    await this.profiled(gateway, 'outbound-drain',
      `Outbound: the backlog left by the profile above delivered to the simulated partner with no new accepts (${seconds} s), one worker; "answered" here means delivered.`,
      () => drainFor(target, seconds));
  }
}

async function adminIdentity(adminUrl: string): Promise<string> {
  const identity = await (await fetch(`${adminUrl}/admin/v1/identity`)).json() as { chain: string[] };
  return identity.chain[0]!;
}

export async function runSuite(config: BenchConfig, fixtures: Fixtures, workers: number, log: (line: string) => void): Promise<SuiteResult> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'xr-bench-'));
  const suite = new Suite(config, fixtures, workers, scratch);
  const children: ServerChild[] = [];
  const runs = (group: ScenarioGroup) => config.only === undefined || config.only.has(group);
  try {
    if (runs('floor')) {
      log(`[${workers} worker(s)] crypto floor`);
      await suite.floor();
      if (runs('steady')) {
        log(`[${workers} worker(s)] crypto floor at a steady ${config.steadyRate}/s`);
        await suite.guarded('crypto floor at a steady rate', () => suite.steadyFloor());
      }
    }
    if (!(['idle', 'inbound', 'steady', 'large', 'mix', 'outbound'] as const).some(runs)) return { rows: suite.rows, profiles: suite.profiles };

    const ports = { partner: await freePort(), local: await freePort(), admin: await freePort() };
    const gateway = await startChild('gateway.ts', {
      XR_DATA_DIR: path.join(scratch, 'data'),
      XR_HOST: HOST,
      XR_PARTNER_PORT: String(ports.partner),
      XR_LOCAL_PORT: String(ports.local),
      XR_ADMIN_PORT: String(ports.admin),
      XR_ADMIN_TOKEN: ADMIN_TOKEN,
      XR_LOCAL_TOKEN: LOCAL_TOKEN,
      XR_LOG_LEVEL: config.logLevel,
      XR_WORKERS: String(workers),
      ...(process.env.BENCH_OUTBOUND_TUNING ? { BENCH_OUTBOUND_TUNING: process.env.BENCH_OUTBOUND_TUNING } : {}),
      ...(process.env.BENCH_BACKEND ? { BENCH_BACKEND: process.env.BENCH_BACKEND } : {}),
    }, process.env.BENCH_GATEWAY_NODE_FLAGS ? process.env.BENCH_GATEWAY_NODE_FLAGS.split(' ') : []);
    children.push(gateway);
    const url = (port: number) => `http://${HOST}:${port}`;
    const backendNote = gateway.ready.backend === 'in-memory' ? [] : [`backend: ${String(gateway.ready.backend)}`];

    const outboundPartner = fixtures.partners.find((partner) => partner.family === config.outboundFormat)!;
    const partnerConfig = path.join(scratch, 'partner.json');
    writeFileSync(partnerConfig, JSON.stringify({
      region: outboundPartner.region,
      format: outboundPartner.family,
      privateKeyPem: toPem(outboundPartner.pki.signer.privateKey),
      chainPem: [outboundPartner.pki.signer.chain[0]!.toString()],
      huzhouLeafPem: await adminIdentity(url(ports.admin)),
    }));
    const partner = await startChild('partner.ts', { BENCH_PARTNER_CONFIG: partnerConfig });
    children.push(partner);
    log(`[${workers} worker(s)] registering ${fixtures.partners.length} partners`);
    await registerPartners(url(ports.admin), ADMIN_TOKEN, fixtures.partners, String(partner.ready.url));
    suite.stages = () => stageTimer(url(ports.admin), workers === 1);
    const target: OutboundTarget = {
      region: outboundPartner.region, partnerUrl: String(partner.ready.url), localUrl: url(ports.local), adminUrl: url(ports.admin),
      localToken: LOCAL_TOKEN, adminToken: ADMIN_TOKEN, partnerPids: partner.pids,
    };

    const firstGatewayRow = suite.rows.length;
    if (runs('idle')) {
      const rssMb = currentRssBytes(gateway.pids) / 2 ** 20;
      const residentOnce = residentOnceBytes(gateway.pids);
      suite.rows.push({
        scenario: `gateway idle, ${fixtures.partners.length} partners registered (RSS now)`,
        workers,
        peakRssMb: rssMb,
        peakResidentOnceMb: residentOnce === undefined ? undefined : residentOnce / 2 ** 20,
        target: `RSS ≤ ${RSS_LIMIT_MB} MB`,
        met: rssMb <= RSS_LIMIT_MB,
        notes: [],
      });
    }
    const profiling = config.profile && gateway.ready.control === true;
    if (runs('inbound')) {
      log(`[${workers} worker(s)] inbound, each family, then floor and gateway alternated for its ratio`);
      await suite.inbound(gateway, url(ports.partner));
    }
    await suite.stopFloor();
    if (runs('steady')) {
      log(`[${workers} worker(s)] steady ${config.steadyRate}/s`);
      await suite.guarded('inbound hz-json at a steady rate', () => suite.steadyRate(gateway, ports.partner));
    }
    if (runs('large')) {
      log(`[${workers} worker(s)] 1 MB materials`);
      await suite.large(gateway, url(ports.partner));
    }
    if (runs('mix')) await suite.guarded('1 MB alongside small messages', () => suite.mix(gateway, ports.partner));
    if (profiling && runs('inbound')) {
      log(`[${workers} worker(s)] CPU profiles, inbound`);
      await suite.profileInbound(gateway, url(ports.partner));
    }
    if (runs('outbound')) {
      log(`[${workers} worker(s)] outbound`);
      await suite.outbound(gateway, target);
      if (profiling) {
        log(`[${workers} worker(s)] CPU profile, outbound`);
        await suite.profileOutbound(gateway, target);
        await suite.profileDrain(gateway, target);
      }
    }
    for (const row of suite.rows.slice(firstGatewayRow)) row.notes.push(...backendNote);
  } finally {
    await suite.stopFloor();
    for (const child of children.reverse()) await child.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return { rows: suite.rows, profiles: suite.profiles };
}

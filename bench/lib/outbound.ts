/**
 * Outbound runs (PROTOCOL §6): Huzhou's local systems POST canonical messages to the local listener, the
 * gateway stores each durably and answers 202, and its dispatcher delivers them, signed, to a healthy
 * simulated partner (bench/servers/partner.ts), which counts every distinct message it answered.
 *
 *  1. accept: a closed-loop run of POSTs for the run's duration, the dispatcher delivering meanwhile —
 *     accepted/s (202) and delivered/s while accepting;
 *  2. drain: no more POSTs; delivered/s while the backlog left by (1) is worked off, for at most the run's
 *     duration (the row says when the backlog ran out first).
 *
 * Accepted and delivered counts are checked against the gateway's own (GET /admin/v1/outbox/counts).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerChild } from './child.ts';
import type { BenchConfig } from './config.ts';
import { loadNotes, serverNotes } from './inbound.ts';
import { closedLoop, type LoadStats, type OutgoingRequest } from './load.ts';
import { measure } from './measure.ts';
import { cpuSeconds } from './proc.ts';
import { applicationSubmit, REALISTIC_BYTES } from './messages.ts';
import type { Row } from './report.ts';

export interface OutboundTarget {
  region: string;
  partnerUrl: string;
  localUrl: string;
  adminUrl: string;
  localToken: string;
  adminToken: string;
  /** The simulated partner's process, whose CPU is reported beside the gateway's. */
  partnerPids: number[];
}

interface PartnerStats { requests: number; delivered: number; repeats: number; refused: number }

const POLL_MS = 200;

/** A canonical application of about 2 KB, accepted in Huzhou (330502) and handled by the target. */
export function localSubmission(target: OutboundTarget): OutgoingRequest {
  const document = applicationSubmit('330502', Math.floor((REALISTIC_BYTES - 700) * 0.75), target.region);
  return {
    method: 'POST',
    path: '/local/v1/messages/application.submit',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.localToken}`, 'x-xr-target-region': target.region },
    body: Buffer.from(JSON.stringify(document)),
  };
}

async function partnerStats(target: OutboundTarget): Promise<PartnerStats> {
  return await (await fetch(`${target.partnerUrl}/stats`)).json() as PartnerStats;
}

async function outboxCounts(target: OutboundTarget): Promise<Record<string, number>> {
  const response = await fetch(`${target.adminUrl}/admin/v1/outbox/counts`, { headers: { authorization: `Bearer ${target.adminToken}` } });
  if (!response.ok) throw new Error(`GET /admin/v1/outbox/counts: ${response.status}`);
  return await response.json() as Record<string, number>;
}

/** Waits until the partner has `expected` messages or `limitS` passed; when it last saw progress. */
async function deliveredBy(target: OutboundTarget, expected: number, limitS: number): Promise<{ delivered: number; lastProgressS: number }> {
  const started = performance.now();
  let delivered = (await partnerStats(target)).delivered;
  let lastProgressS = 0;
  while (delivered < expected && performance.now() - started < limitS * 1000) {
    await sleep(POLL_MS);
    const now = (await partnerStats(target)).delivered;
    if (now > delivered) lastProgressS = (performance.now() - started) / 1000;
    delivered = now;
  }
  return { delivered, lastProgressS };
}

/** Delivered/s over `seconds` with no new accepts, as load statistics (no latencies: nothing is sent). */
export async function drainFor(target: OutboundTarget, seconds: number): Promise<LoadStats> {
  const before = (await partnerStats(target)).delivered;
  const started = performance.now();
  await sleep(seconds * 1000);
  const delivered = (await partnerStats(target)).delivered - before;
  const elapsedS = (performance.now() - started) / 1000;
  return { ok: delivered, failed: 0, statuses: {}, elapsedS, rate: delivered / elapsedS, p50Ms: 0, p99Ms: 0, maxMs: 0, exhaustedAtS: undefined };
}

export async function runOutbound(config: BenchConfig, gateway: ServerChild, target: OutboundTarget, workers: number): Promise<Row[]> {
  const submission = localSubmission(target);
  const warm = await closedLoop({ url: target.localUrl, connections: 10, durationS: config.warmupS, next: () => submission });
  if (warm.ok === 0) throw new Error(`the local listener accepted nothing during the warm-up: ${JSON.stringify(warm.statuses)}`);
  await deliveredBy(target, warm.ok, 30);

  const before = await partnerStats(target);
  const accept = await measure(gateway, () => closedLoop({ url: target.localUrl, connections: config.connections, durationS: config.durationS, next: () => submission }));
  const afterAccept = await partnerStats(target);
  const expected = warm.ok + accept.stats.ok;

  const partnerCpuBefore = cpuSeconds(target.partnerPids);
  const drainStarted = performance.now();
  const drain = await measure(gateway, async () => {
    const result = await deliveredBy(target, expected, config.durationS);
    return { ...result, elapsedS: result.lastProgressS };
  });
  const partnerCpu = cpuSeconds(target.partnerPids);
  const partnerCores = (partnerCpu.main + partnerCpu.other - partnerCpuBefore.main - partnerCpuBefore.other) / ((performance.now() - drainStarted) / 1000);
  const counts = await outboxCounts(target);
  const after = await partnerStats(target);

  const deliveredWhileAccepting = (afterAccept.delivered - before.delivered) / accept.stats.elapsedS;
  const drained = drain.stats.delivered - afterAccept.delivered;
  const drainRate = drain.stats.elapsedS > 0 ? drained / drain.stats.elapsedS : undefined;
  const backlogLeft = expected - drain.stats.delivered;
  const check = `gateway outbox counts after the run ${JSON.stringify(counts)}; partner saw ${after.requests} requests, ${after.delivered} distinct messages, ${after.repeats} repeats, ${after.refused} refused`;
  const tuningNote = process.env.BENCH_OUTBOUND_TUNING ? [`dispatcher tuning ${process.env.BENCH_OUTBOUND_TUNING}`] : [];
  const acceptMet = accept.stats.rate >= 3000 && accept.stats.failed === 0 && accept.peakRssMb <= 200;
  return [
    {
      scenario: 'outbound accept: POST /local/v1/messages → durable 202 (delivery running)',
      workers,
      rate: accept.stats.rate,
      p50Ms: accept.stats.p50Ms,
      p99Ms: accept.stats.p99Ms,
      peakRssMb: accept.peakRssMb,
      peakResidentOnceMb: accept.peakResidentOnceMb,
      cpu: accept.cpu,
      target: '≥ 3,000/s; RSS ≤ 200 MB',
      met: acceptMet,
      notes: [...loadNotes(accept.stats), `c=${config.connections}`, ...serverNotes(accept), ...tuningNote],
    },
    {
      scenario: 'outbound delivered/s while accepting (same run)',
      workers,
      rate: deliveredWhileAccepting,
      target: '—',
      notes: [`${afterAccept.delivered - before.delivered} delivered during the ${accept.stats.elapsedS.toFixed(1)} s accept run`],
    },
    {
      scenario: 'outbound delivered/s draining the backlog (no new accepts)',
      workers,
      rate: drainRate,
      peakRssMb: drain.peakRssMb,
      peakResidentOnceMb: drain.peakResidentOnceMb,
      cpu: drain.cpu,
      target: '≥ 1,500/s; RSS ≤ 200 MB',
      met: drainRate !== undefined && drainRate >= 1500 && drain.peakRssMb <= 200 && after.refused === 0,
      notes: [
        `the simulated partner used ${partnerCores.toFixed(2)} cores`,
        `${drained} delivered in ${drain.stats.elapsedS.toFixed(1)} s; ${backlogLeft > 0 ? `${backlogLeft} still queued when the window closed` : 'the backlog ran out within the window'}`,
        check,
        ...serverNotes(drain),
      ],
    },
  ];
}

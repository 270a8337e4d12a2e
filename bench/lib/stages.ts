/**
 * The gateway's own stage timings (GET /metrics on the admin listener, xr_stage_duration_seconds): the mean
 * wall time each pipeline stage took during a run — verify, translate (in and back together), forward, sign.
 * Wall time, so under load it includes the wait for the event loop and the thread pool. With several
 * workers only the admin worker's figures are there; then the notes say nothing.
 */
type StageTotals = Map<string, { sum: number; count: number; within10ms: number }>;

const SAMPLE = /^xr_stage_duration_seconds_(sum|count)\{stage="([^"]+)"\} ([0-9.e+-]+)$/;
/** The cumulative bucket at 10 ms: the calls within it (the steady-rate p99 target); count minus it took longer. */
const BUCKET_10MS = /^xr_stage_duration_seconds_bucket\{le="0.01",stage="([^"]+)"\} ([0-9.e+-]+)$/;

async function scrape(adminUrl: string): Promise<StageTotals | undefined> {
  try {
    const response = await fetch(`${adminUrl}/metrics`);
    if (!response.ok) return undefined;
    const totals: StageTotals = new Map();
    for (const line of (await response.text()).split('\n')) {
      const bucket = BUCKET_10MS.exec(line);
      const match = SAMPLE.exec(line);
      if (!match && !bucket) continue;
      const stage = (match?.[2] ?? bucket?.[1])!;
      const entry = totals.get(stage) ?? { sum: 0, count: 0, within10ms: 0 };
      if (match) entry[match[1] as 'sum' | 'count'] = Number(match[3]);
      else entry.within10ms = Number(bucket![2]);
      totals.set(stage, entry);
    }
    return totals.size > 0 ? totals : undefined;
  } catch {
    return undefined;
  }
}

/** Call before a run; the function it returns, called after, gives the stage means as a note. */
export async function stageTimer(adminUrl: string, enabled: boolean): Promise<() => Promise<string[]>> {
  const before = enabled ? await scrape(adminUrl) : undefined;
  return async () => {
    const after = before ? await scrape(adminUrl) : undefined;
    if (!before || !after) return [];
    const means = [...after].flatMap(([stage, { sum, count, within10ms }]) => {
      const earlier = before.get(stage) ?? { sum: 0, count: 0, within10ms: 0 };
      const n = count - earlier.count;
      const slow = n - (within10ms - earlier.within10ms);
      return n > 0 ? [`${stage} ${((1000 * (sum - earlier.sum)) / n).toFixed(2)} (${((100 * slow) / n).toFixed(2)} % over 10 ms)`] : [];
    });
    return means.length > 0 ? [`gateway stage means (ms, wall, per stage call; share of calls over 10 ms): ${means.join(', ')}`] : [];
  };
}

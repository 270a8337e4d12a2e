/**
 * The gateway's own stage timings (GET /metrics on the admin listener, xr_stage_duration_seconds): the mean
 * wall time each pipeline stage took during a run — verify, translate (in and back together), forward, sign.
 * Wall time, so under load it includes the wait for the event loop and the thread pool. With several
 * workers only the admin worker's figures are there; then the notes say nothing.
 */
type StageTotals = Map<string, { sum: number; count: number }>;

const SAMPLE = /^xr_stage_duration_seconds_(sum|count)\{stage="([^"]+)"\} ([0-9.e+-]+)$/;

async function scrape(adminUrl: string): Promise<StageTotals | undefined> {
  try {
    const response = await fetch(`${adminUrl}/metrics`);
    if (!response.ok) return undefined;
    const totals: StageTotals = new Map();
    for (const line of (await response.text()).split('\n')) {
      const match = SAMPLE.exec(line);
      if (!match) continue;
      const [, kind, stage, value] = match;
      const entry = totals.get(stage!) ?? { sum: 0, count: 0 };
      entry[kind as 'sum' | 'count'] = Number(value);
      totals.set(stage!, entry);
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
    const means = [...after].flatMap(([stage, { sum, count }]) => {
      const earlier = before.get(stage) ?? { sum: 0, count: 0 };
      const n = count - earlier.count;
      return n > 0 ? [`${stage} ${((1000 * (sum - earlier.sum)) / n).toFixed(2)}`] : [];
    });
    return means.length > 0 ? [`gateway stage means (ms, wall, per stage call): ${means.join(', ')}`] : [];
  };
}

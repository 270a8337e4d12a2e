/**
 * The dispatcher's memory of the outbox: which partners have queued messages, and when the earliest of each
 * is due. A wake looks here instead of asking the Store (a GROUP BY over the whole queue, which grows with the
 * backlog) for what the dispatcher already knows.
 *
 * Kept up to date by what the dispatcher sees — a message queued, a retry settled, a message released or
 * requeued (note) — and corrected from the Store where only the Store can tell: after a claim that took all
 * of a target's due messages, when its next one is due (refresh: one index lookup); and when seeded, at start
 * and, in a cluster, on every sweep, for messages other workers queued (seed).
 *
 * A Store read may predate a note made while it was under way: such a note wins over the read.
 */
export interface QueuedTarget {
  target: string;
  nextAttemptAtMs: number;
}

interface Entry {
  atMs: number;
  /** Which note (or read) set it: a read applies only if no note came meanwhile. */
  stamp: number;
}

export class DueTargets {
  #entries = new Map<string, Entry>();
  #stamp = 0;

  /** A message of `target` is due at `atMs`. */
  note(target: string, atMs: number): void {
    const entry = this.#entries.get(target);
    this.#stamp += 1;
    this.#entries.set(target, { atMs: entry === undefined ? atMs : Math.min(entry.atMs, atMs), stamp: this.#stamp });
  }

  /** Replaces what is known with the Store's list (Store.outboxQueuedTargets), keeping the notes made while it read. */
  async seed(read: () => Promise<readonly QueuedTarget[]>): Promise<void> {
    const before = this.#stamp;
    const targets = await read();
    const fresh = new Map<string, Entry>(targets.map(({ target, nextAttemptAtMs }) => [target, { atMs: nextAttemptAtMs, stamp: before }]));
    for (const [target, entry] of this.#entries) {
      if (entry.stamp <= before) continue;
      const read = fresh.get(target);
      fresh.set(target, read === undefined ? entry : { atMs: Math.min(read.atMs, entry.atMs), stamp: entry.stamp });
    }
    this.#entries = fresh;
  }

  /** Corrects one target with its earliest due time in the Store (Store.outboxNextDue), unless it was noted meanwhile. */
  async refresh(target: string, read: () => Promise<number | undefined>): Promise<void> {
    const stamp = this.#entries.get(target)?.stamp;
    const atMs = await read();
    if (this.#entries.get(target)?.stamp !== stamp) return;
    if (atMs === undefined) this.#entries.delete(target);
    else this.#entries.set(target, { atMs, stamp: stamp ?? this.#stamp });
  }

  /** The targets with a message due at `nowMs`, earliest first, and when the first of the others is due (Infinity: none). */
  dueAt(nowMs: number): { due: string[]; nextMs: number } {
    const due: Array<[string, number]> = [];
    let nextMs = Number.POSITIVE_INFINITY;
    for (const [target, { atMs }] of this.#entries) {
      if (atMs <= nowMs) due.push([target, atMs]);
      else nextMs = Math.min(nextMs, atMs);
    }
    return { due: due.sort((a, b) => a[1] - b[1]).map(([target]) => target), nextMs };
  }
}

/**
 * Group commit for the writes on the request path (the replay claim, inbound idempotency, the outbox).
 * better-sqlite3 is synchronous, and a commit with synchronous=FULL waits for the disk (≈1.4 ms here):
 * done on the main thread, every message would stall the event loop for an fsync. Instead one writer
 * thread holds its own connection; writes queue up while a batch is being committed and go together in the
 * next transaction. A caller's promise resolves only after its batch is on disk, so anything acknowledged
 * is still durable before the acknowledgement.
 *
 * One kind of write may skip that wait (allUncommitted): a change that a crash may undo without harm, such
 * as claiming outbox messages for delivery (a restart puts whatever is in delivering back in the queue).
 * Its caller gets the rows as soon as the statement has run; the batch commits as usual after.
 */
import type Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';

export type SqlValue = string | number | bigint | Buffer | null;

export interface Write {
  sql: string;
  params: SqlValue[];
  /** Return the rows (an UPDATE … RETURNING) rather than the count of changes. */
  rows?: boolean;
  /** Answer as soon as the statement has run, before the batch is committed (allUncommitted). */
  early?: boolean;
}

export interface WriteBatch {
  id: number;
  writes: Write[];
}

export type WriteOutcome = { changes: number; rows?: unknown[] } | { error: string };

interface Queued {
  write: Write;
  resolve(outcome: { changes: number; rows?: unknown[] }): void;
  reject(error: Error): void;
  /** Set once an early write has been answered: the batch's final reply leaves it alone. */
  answered?: boolean;
}

/** The writer thread's replies: one per batch, after its commit, and one per early write before that. */
type Reply = { id: number; outcomes?: WriteOutcome[]; failure?: string } | { id: number; early: number; outcome: WriteOutcome };

/**
 * A writer thread's young generation is held small (this one's and the audit writer's): what it allocates (a
 * batch, its statements' results, records' text) is dead by the next batch, and V8's default lets each
 * thread's young generation grow to tens of MB under load.
 */
export const WRITER_THREAD_LIMITS = { maxYoungGenerationSizeMb: 8 };

/**
 * Every SQLite connection's page cache: 2 MiB (`PRAGMA cache_size` in KiB when negative) instead of
 * better-sqlite3's 16 MB. A gateway process holds four connections (the store, its writer thread, the audit
 * log's reader and writer) and each cache fills as the files grow: under steady load RSS climbed by their fill.
 * The writes touch few pages (the B-trees' upper levels, the pages being filled), the OS page cache keeps the
 * rest, and throughput did not change (bench/results.md, "2 MiB page caches").
 */
export const SQLITE_CACHE_PRAGMA = 'cache_size = -2048';

/** Whether the file has this table: for schema added by a later version, to an existing file. */
export function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare<[string]>("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Caps one transaction, so one huge burst does not hold the write lock for long. */
const MAX_BATCH = 512;

/**
 * Adaptive batching. A commit takes ≈ 0.3 ms here, so below a few thousand writes a second each batch holds
 * one or two writes, and every write pays a transaction, its WAL frames and an fsync alone. When writes
 * arrive faster than BUSY_WRITES_PER_S (measured over the last ≈ 100 ms), a batch is sent no sooner than
 * COALESCE_MS after the previous one was: batches of 3 and more at saturation, CPU per write about a third
 * less on the writer thread and on this one (bench/results.md, "Adaptive group commit"), for at most
 * COALESCE_MS more latency — and none at all at lower rates, where latency is what counts.
 */
const BUSY_WRITES_PER_S = 2000;
const COALESCE_MS = 1;
const RATE_WINDOW_MS = 100;

/** Where the Store's request-path writes go: run and all commit before they resolve. */
export interface DurableWriter {
  run(sql: string, params: SqlValue[]): Promise<number>;
  all<Row>(sql: string, params: SqlValue[]): Promise<Row[]>;
  /**
   * Like all, but resolves as soon as the statement has run, before its batch is committed: only for a
   * change a crash may undo without harm. Writes issued after it resolves go into later batches, so they
   * see its change; if its batch failed to commit, the change is simply not there.
   */
  allUncommitted<Row>(sql: string, params: SqlValue[]): Promise<Row[]>;
  close(): Promise<void>;
}

/**
 * The same writes on the caller's own connection, one commit each: for tools that write little (the CLI)
 * and for tests that drive time by hand, where a thread's real I/O would not follow a fake clock.
 */
export class InlineWriter implements DurableWriter {
  private readonly prepared = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private statement(sql: string): Database.Statement {
    let found = this.prepared.get(sql);
    if (!found) {
      found = this.db.prepare(sql);
      this.prepared.set(sql, found);
    }
    return found;
  }

  async run(sql: string, params: SqlValue[]): Promise<number> {
    return this.statement(sql).run(...params).changes;
  }

  async all<Row>(sql: string, params: SqlValue[]): Promise<Row[]> {
    return this.statement(sql).all(...params) as Row[];
  }

  async allUncommitted<Row>(sql: string, params: SqlValue[]): Promise<Row[]> {
    return this.all<Row>(sql, params);
  }

  async close(): Promise<void> {}
}

export class GroupCommitWriter implements DurableWriter {
  private readonly worker: Worker;
  private queue: Queued[] = [];
  private inFlight: Queued[] | undefined;
  private nextId = 0;
  private closed = false;
  private lastFlushMs = Number.NEGATIVE_INFINITY;
  private held: NodeJS.Timeout | undefined;
  private busy = false;
  private windowStartMs = 0;
  private windowWrites = 0;

  constructor(file: string) {
    this.worker = new Worker(new URL('./group-commit-worker.mjs', import.meta.url), { workerData: { file, cachePragma: SQLITE_CACHE_PRAGMA }, resourceLimits: WRITER_THREAD_LIMITS });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => ('early' in reply ? this.answerEarly(reply.early, reply.outcome) : this.settle(reply)));
    this.worker.on('error', (error) => this.failAll(error));
  }

  /** Runs one statement durably; resolves with the number of rows it changed. */
  async run(sql: string, params: SqlValue[]): Promise<number> {
    return (await this.enqueue({ sql, params })).changes;
  }

  /** Runs one statement that returns rows (UPDATE … RETURNING) durably; resolves with the rows. */
  async all<Row>(sql: string, params: SqlValue[]): Promise<Row[]> {
    return withBuffers<Row>((await this.enqueue({ sql, params, rows: true })).rows ?? []);
  }

  /** Runs one statement that returns rows in the next batch; resolves with them before the batch commits. */
  async allUncommitted<Row>(sql: string, params: SqlValue[]): Promise<Row[]> {
    return withBuffers<Row>((await this.enqueue({ sql, params, rows: true, early: true })).rows ?? []);
  }

  private enqueue(write: Write): Promise<{ changes: number; rows?: unknown[] }> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    this.countWrite();
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (!this.inFlight) this.flush();
    });
  }

  private countWrite(): void {
    const now = performance.now();
    const elapsed = now - this.windowStartMs;
    if (elapsed >= RATE_WINDOW_MS) {
      this.busy = (this.windowWrites * 1000) / elapsed >= BUSY_WRITES_PER_S;
      this.windowStartMs = now;
      this.windowWrites = 0;
    }
    this.windowWrites += 1;
  }

  private flush(): void {
    if (this.queue.length === 0 || this.held !== undefined) return;
    const wait = this.lastFlushMs + COALESCE_MS - performance.now();
    if (this.busy && wait > 0 && this.queue.length < MAX_BATCH) {
      this.held = setTimeout(() => {
        this.held = undefined;
        if (!this.inFlight) this.flush();
      }, wait);
      return;
    }
    this.lastFlushMs = performance.now();
    const batch = this.queue.slice(0, MAX_BATCH);
    this.queue = this.queue.slice(batch.length);
    this.inFlight = batch;
    this.worker.ref();
    this.worker.postMessage({ id: (this.nextId += 1), writes: batch.map((q) => q.write) } satisfies WriteBatch);
  }

  private answerEarly(index: number, outcome: WriteOutcome): void {
    const queued = this.inFlight?.[index];
    if (!queued) return;
    queued.answered = true;
    if ('changes' in outcome) queued.resolve(outcome);
    else queued.reject(new Error(outcome.error));
  }

  private settle(reply: { outcomes?: WriteOutcome[]; failure?: string }): void {
    const batch = this.inFlight ?? [];
    this.inFlight = undefined;
    batch.forEach((queued, index) => {
      if (queued.answered) return;
      const outcome = reply.outcomes?.[index];
      if (outcome && 'changes' in outcome) queued.resolve(outcome);
      else queued.reject(new Error(outcome?.error ?? reply.failure ?? 'write failed'));
    });
    if (this.queue.length > 0) this.flush();
    else this.worker.unref();
  }

  private failAll(error: Error): void {
    for (const queued of [...(this.inFlight ?? []), ...this.queue]) if (!queued.answered) queued.reject(error);
    this.inFlight = undefined;
    this.queue = [];
  }

  /** Waits for queued writes, then stops the writer thread. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight || this.queue.length > 0) {
      await new Promise<void>((resolve) => this.worker.once('message', () => setImmediate(resolve)));
    }
    await this.worker.terminate();
  }
}

/** A BLOB crosses the thread boundary as a Uint8Array (structured clone): give callers their Buffer back. */
function withBuffers<Row>(rows: unknown[]): Row[] {
  return rows.map((row) => Object.fromEntries(Object.entries(row as Record<string, unknown>).map(([column, value]) => [
    column, value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value,
  ]))) as Row[];
}

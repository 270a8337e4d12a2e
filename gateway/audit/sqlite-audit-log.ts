/**
 * The audit log (audit-log.ts) on audit.sqlite (audit-store.ts), written off the request path:
 *
 *   append   queues the record (or a message's evidence, made into its record by the writer thread: digests
 *            and all, records.ts) in memory and returns — all the request path ever pays;
 *   batch    every `flushMs`, or at once when the records waiting hold `sendAtBytes` or number `batchSize`,
 *            the queue goes to the writer thread (audit-writer-thread.ts), which chains and commits it in one
 *            transaction with one fsync;
 *   flush    resolves once everything appended before it is committed (queries, tests and close use it).
 *
 * One batch is in flight at a time, so records are chained in the order they were appended. A batch that
 * fails stays queued, in order, and is retried with backoff; until it is written /readyz reports storage
 * unready. Reads (queries, verify) use a connection of their own on this thread: WAL lets them run while
 * the writer commits. A crash loses at most the records appended since the last batch (≤ flushMs).
 */
import { EventEmitter, once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { AuditFields, AuditKind, AuditLog, AuditQuery, ChainedAuditRecord, ChainVerdict } from './audit-log.ts';
import { heldBytes, type AuditEvidence } from './records.ts';
import { WRITER_THREAD_LIMITS } from '../store/group-commit.ts';
import { AuditStore, type QueuedAuditRecord } from './audit-store.ts';
import type { WriterReply, WriterRequest } from './audit-writer-thread.ts';

export { AUDIT_FILE, verifyAuditFile } from './audit-store.ts';

export interface AuditWriterTuning {
  /** Write at the latest this long after a record is appended. */
  flushMs: number;
  /**
   * Write at once when the records waiting hold this many bytes of bodies and signatures (records.ts,
   * heldBytes). Under load this, not the timer, sends the queue: records kept on the serving thread past two
   * young-generation collections (≈ 60 ms at 3,000 messages/s) are moved to the old generation, where they
   * wait, dead, for the next full collection — 40–60 MB of a worker's peak RSS with a 100 ms timer alone
   * (bench/results.md, "The audit queue and the old generation").
   */
  sendAtBytes: number;
  /** Write at once when this many records wait; also the most records one transaction takes. */
  batchSize: number;
}

/** 256 KiB: ≈ 30 records of 2 KB messages (each with its answer and both signatures), a batch per 10 ms at 3,000/s. */
export const DEFAULT_AUDIT_TUNING: Readonly<AuditWriterTuning> = { flushMs: 100, sendAtBytes: 256 * 1024, batchSize: 500 };

/** A record made from its fields (admin calls) is small; counted at this. */
const FIELDS_RECORD_BYTES = 512;

function bytesOf(record: QueuedAuditRecord): number {
  return 'evidence' in record ? heldBytes(record.evidence) : FIELDS_RECORD_BYTES;
}

function bytesOfAll(records: readonly QueuedAuditRecord[]): number {
  let bytes = 0;
  for (const record of records) bytes += bytesOf(record);
  return bytes;
}

export interface SqliteAuditLogOptions {
  nowMs?(): number;
  tuning?: Partial<AuditWriterTuning>;
  /** Told about a failed batch (it stays queued and is retried). */
  onWriteError?(error: Error, pending: number): void;
}

interface FlushWaiter {
  /** Resolved once this many records (counted from the start) are written. */
  upTo: number;
  resolve(): void;
  reject(error: Error): void;
}

const MAX_RETRY_MS = 5_000;

export class SqliteAuditLog extends EventEmitter<{ written: [{ lastSeq: number; records: number }] }> implements AuditLog {
  readonly #file: string;
  readonly #reader: AuditStore;
  readonly #tuning: AuditWriterTuning;
  readonly #nowMs: () => number;
  readonly #onWriteError: (error: Error, pending: number) => void;
  #worker: Worker | undefined;
  #queue: QueuedAuditRecord[] = [];
  /** What the queued records hold (bytesOf), against sendAtBytes. */
  #queuedBytes = 0;
  #inFlight: { id: number; records: QueuedAuditRecord[] } | undefined;
  #waiters: FlushWaiter[] = [];
  #appended = 0;
  #written = 0;
  #lastSeq: number;
  #nextId = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerDelayMs = 0;
  #failures = 0;
  #lastError: string | undefined;
  #closed = false;

  constructor(file: string, options: SqliteAuditLogOptions = {}) {
    super();
    this.#file = file;
    // Opened first: it creates the file and its schema before the writer thread connects.
    this.#reader = new AuditStore(file);
    this.#lastSeq = this.#reader.lastSeq();
    this.#tuning = { ...DEFAULT_AUDIT_TUNING, ...options.tuning };
    this.#nowMs = options.nowMs ?? Date.now;
    this.#onWriteError = options.onWriteError ?? (() => {});
    this.#worker = this.#startWriter();
  }

  append(kind: AuditKind, fields: AuditFields): void {
    this.#enqueue({ time: new Date(this.#nowMs()).toISOString(), kind, fields });
  }

  appendEvidence(evidence: AuditEvidence): void {
    this.#enqueue({ time: new Date(this.#nowMs()).toISOString(), kind: evidence.kind, evidence });
  }

  #enqueue(record: QueuedAuditRecord): void {
    if (this.#closed) throw new Error('the audit log is closed');
    this.#queue.push(record);
    this.#queuedBytes += bytesOf(record);
    this.#appended += 1;
    // Full while a batch is in flight, #settle sends the queue when the writer answers; after a failed batch
    // the retry's backoff timer does.
    if (!this.#full()) this.#schedule(this.#tuning.flushMs);
    else if (this.#inFlight === undefined && this.#failures === 0) this.#schedule(0);
  }

  /** Whether the queue is to go now rather than when the timer fires. */
  #full(): boolean {
    return this.#queue.length >= this.#tuning.batchSize || this.#queuedBytes >= this.#tuning.sendAtBytes;
  }

  flush(): Promise<void> {
    if (this.#written >= this.#appended) return Promise.resolve();
    const written = new Promise<void>((resolve, reject) => this.#waiters.push({ upTo: this.#appended, resolve, reject }));
    this.#send();
    return written;
  }

  async query(query: AuditQuery): Promise<ChainedAuditRecord[]> {
    await this.flush();
    return this.#reader.query(query);
  }

  async verify(): Promise<ChainVerdict> {
    await this.flush();
    return this.#reader.verify();
  }

  pending(): number {
    return this.#appended - this.#written;
  }

  lastSeq(): number {
    return this.#lastSeq;
  }

  async probe(): Promise<void> {
    if (this.#closed) throw new Error('the audit log is closed');
    this.#reader.lastSeq();
    if (this.#lastError !== undefined) throw new Error(`audit records cannot be written (${this.pending()} waiting): ${this.#lastError}`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      clearTimeout(this.#timer);
      const worker = this.#worker;
      if (worker) {
        const exited = once(worker, 'exit');
        worker.postMessage({ type: 'close' } satisfies WriterRequest);
        await exited;
      }
      this.#reader.close();
    }
  }

  #startWriter(): Worker {
    // Compiled (dist/, `npm start`) the thread's body is plain JavaScript; run from TypeScript (tests, tsx)
    // the .mjs shim registers tsx in the thread first.
    const body = import.meta.url.endsWith('.js') ? './audit-writer-thread.js' : './audit-writer-thread.mjs';
    const worker = new Worker(new URL(body, import.meta.url), { workerData: { file: this.#file }, resourceLimits: WRITER_THREAD_LIMITS });
    worker.unref();
    worker.on('message', (reply: WriterReply) => this.#settle(reply));
    worker.on('error', (error) => {
      // The thread is gone: what it had in hand is retried by a new one.
      this.#worker = undefined;
      if (this.#inFlight) this.#failed(this.#inFlight.records, error);
    });
    return worker;
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined) {
      // A timer already set stays, unless this one is to send at once and that one is not.
      if (delayMs > 0 || this.#timerDelayMs === 0) return;
      clearTimeout(this.#timer);
    }
    this.#timerDelayMs = delayMs;
    this.#timer = setTimeout(() => this.#send(), delayMs);
    this.#timer.unref();
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#inFlight || this.#queue.length === 0 || this.#closed) return;
    this.#worker ??= this.#startWriter();
    const records = this.#queue.splice(0, this.#tuning.batchSize);
    this.#queuedBytes = this.#queue.length === 0 ? 0 : this.#queuedBytes - bytesOfAll(records);
    this.#nextId += 1;
    this.#inFlight = { id: this.#nextId, records };
    this.#worker.postMessage({ type: 'append', id: this.#nextId, records } satisfies WriterRequest);
  }

  #settle(reply: WriterReply): void {
    const batch = this.#inFlight;
    if (!batch || batch.id !== reply.id) return;
    this.#inFlight = undefined;
    if ('error' in reply) {
      this.#failed(batch.records, new Error(reply.error));
      return;
    }
    this.#written += batch.records.length;
    this.#lastSeq = reply.lastSeq;
    this.#failures = 0;
    this.#lastError = undefined;
    this.#waiters = this.#waiters.filter((waiter) => {
      if (waiter.upTo > this.#written) return true;
      waiter.resolve();
      return false;
    });
    this.emit('written', { lastSeq: reply.lastSeq, records: batch.records.length });
    if (this.#waiters.length > 0 || this.#full()) this.#send();
    else if (this.#queue.length > 0) this.#schedule(this.#tuning.flushMs);
  }

  /** The batch goes back to the front of the queue; whoever waits for it hears why; a retry is scheduled. */
  #failed(records: QueuedAuditRecord[], error: Error): void {
    this.#inFlight = undefined;
    this.#queue = records.concat(this.#queue);
    this.#queuedBytes += bytesOfAll(records);
    this.#failures += 1;
    this.#lastError = error.message;
    this.#onWriteError(error, this.pending());
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
    if (!this.#closed) this.#schedule(Math.min(MAX_RETRY_MS, this.#tuning.flushMs * 2 ** this.#failures));
  }
}

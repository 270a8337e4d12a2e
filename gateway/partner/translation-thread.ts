/**
 * Large partner bodies are translated off the thread that serves requests (issue 6: a 1 MB material must not
 * block other requests). Decoding, parsing and validating a 1 MB material costs 10 ms (JSON) to 30–120 ms
 * (GB18030 XML) of CPU; on the main thread every request behind it would wait that long. From
 * `thresholdBytes` up, the body goes to one translation thread (translation-worker.ts), started on the first
 * large body; smaller bodies are translated in place, where a thread hop would cost more than it saves.
 *
 * Same inputs, same outcome: the thread runs the same format document (by its text) and the same
 * validation, and a refusal comes back as the same XrError (code, detail, status).
 */
import { Worker } from 'node:worker_threads';
import type { PartnerFormat, ReceivedAs } from '../../adapters/index.ts';
import type { RegionTable } from '../../adapters/regions/index.ts';
import { validateCanonical } from '../../adapters/validation/canonical.ts';
import { XrError } from '../protocol/errors.ts';
import type { MessageType } from '../protocol/messages.ts';
import type { TranslationReply, TranslationRequest } from './translation-worker.ts';

/** 64 KiB: a message with a scanned page or more. Realistic messages without materials are 1–4 KiB. */
export const DEFAULT_THREAD_THRESHOLD_BYTES = 64 * 1024;

interface Waiting {
  resolve(canonical: object): void;
  reject(error: Error): void;
}

export class InboundTranslator {
  readonly #thresholdBytes: number;
  readonly #regions: RegionTable;
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 0;

  constructor(options: { regions: RegionTable; thresholdBytes?: number }) {
    this.#regions = options.regions;
    this.#thresholdBytes = options.thresholdBytes ?? DEFAULT_THREAD_THRESHOLD_BYTES;
  }

  /** The partner's request as a validated canonical document, or the XrError refusing it. */
  async toCanonical<T extends MessageType>(format: PartnerFormat, source: string | undefined, messageType: T, body: Buffer, received: ReceivedAs = {}) {
    if (body.byteLength < this.#thresholdBytes || source === undefined) {
      return validateCanonical(messageType, 'request', await format.toCanonical(messageType, 'request', body, received), this.#regions);
    }
    const canonical = await this.#inThread({ id: 0, format: { name: format.name, source }, messageType, body, received });
    return canonical as ReturnType<typeof validateCanonical<T, 'request'>>;
  }

  /** Whether the thread has been started (by a first large body). */
  get threadStarted(): boolean {
    return this.#worker !== undefined;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#lost(worker, new Error('the gateway is stopping'));
    await worker.terminate();
  }

  #inThread(request: TranslationRequest): Promise<object> {
    const worker = this.#worker ??= this.#start();
    const id = (this.#nextId += 1);
    return new Promise<object>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      // The body is copied, not transferred: the audit trail still digests it afterwards.
      worker.postMessage({ ...request, id } satisfies TranslationRequest);
    });
  }

  #start(): Worker {
    const body = import.meta.url.endsWith('.js') ? './translation-worker.js' : './translation-worker.mjs';
    const worker = new Worker(new URL(body, import.meta.url));
    worker.unref();
    worker.on('message', (reply: TranslationReply) => {
      const waiting = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (!waiting) return;
      if ('canonical' in reply) waiting.resolve(reply.canonical);
      else if ('refusal' in reply) waiting.reject(new XrError(reply.refusal.code, reply.refusal.detail, { status: reply.refusal.status }));
      else waiting.reject(new Error(`translation thread: ${reply.failure}`));
    });
    worker.on('error', (error) => this.#lost(worker, error));
    worker.on('exit', (code) => this.#lost(worker, new Error(`the translation thread exited (${code})`)));
    return worker;
  }

  /** The thread died: what it held fails (500, the partner retries), and the next large body starts a new one. */
  #lost(worker: Worker, error: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const entry of waiting) entry.reject(error);
  }
}

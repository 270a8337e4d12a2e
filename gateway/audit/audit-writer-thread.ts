/**
 * The body of the audit writer thread: its own connection to audit.sqlite, one transaction and one fsync
 * per batch, so that neither the SQLite work nor the disk wait ever runs on the thread serving requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AuditStore, type QueuedAuditRecord } from './audit-store.ts';

export type WriterRequest = { type: 'append'; id: number; records: QueuedAuditRecord[] } | { type: 'close' };
export type WriterReply = { id: number; lastSeq: number } | { id: number; error: string };

const port = parentPort!;
const store = new AuditStore((workerData as { file: string }).file);

port.on('message', (request: WriterRequest) => {
  if (request.type === 'close') {
    store.close();
    port.close();
    return;
  }
  try {
    port.postMessage({ id: request.id, lastSeq: store.append(request.records) } satisfies WriterReply);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies WriterReply);
  }
});

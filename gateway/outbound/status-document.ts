/** PROTOCOL §6: what `GET /local/v1/messages/{id}` (and the admin outbox) tells about an outbound message. */
import type { OutboundSummary } from '../store/store.ts';

export interface StatusDocument {
  id: string;
  status: OutboundSummary['status'];
  target: string;
  messageType: string;
  attempts: number;
  lastError: string | null;
  receipt: OutboundSummary['receipt'];
  createdAt: string;
  updatedAt: string;
  /** When the next attempt is due; only while queued. */
  nextAttemptAt?: string;
}

export function statusDocument(message: OutboundSummary): StatusDocument {
  return {
    id: message.id,
    status: message.status,
    target: message.target,
    messageType: message.messageType,
    attempts: message.attempts,
    lastError: message.lastError,
    receipt: message.receipt,
    createdAt: new Date(message.createdAtMs).toISOString(),
    updatedAt: new Date(message.updatedAtMs).toISOString(),
    ...(message.status === 'queued' ? { nextAttemptAt: new Date(message.nextAttemptAtMs).toISOString() } : {}),
  };
}

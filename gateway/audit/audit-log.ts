/**
 * The audit trail: every inbound and outbound message and every admin call, in an append-only, hash-chained
 * log (chain.ts). Like X-Road's message log it is its own component with its own storage
 * (sqlite-audit-log.ts now; a server database could implement this interface later).
 *
 * What goes in is facts, never personal data: ids, parties, message type, time, outcome, the JWS header and
 * signature, SHA-256 digests and sizes of bodies, and the case number (applyNo) — no names, identity
 * numbers, materials or other content.
 */
import type { JsonValue } from './canonical-json.ts';
import type { AuditEvidence } from './records.ts';

export const AUDIT_KINDS = ['inbound', 'outbound', 'admin'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** The members every query can filter on, plus whatever else the kind records. */
export interface AuditFields {
  [member: string]: JsonValue | undefined;
  /** 'OK', a PROTOCOL §5 code, or for outbound attempts delivered | retry | failed | dead. */
  outcome: string;
  /** The partner's region code, when the event concerns one. */
  partner?: string;
  /** The case number, when the message has one. */
  applyNo?: string;
}

export interface AuditRecord {
  /** 1, 2, 3 …: a gap is a deleted record. */
  seq: number;
  /** ISO 8601 UTC, when the event happened (not when its batch was written). */
  time: string;
  kind: AuditKind;
  fields: AuditFields;
}

export interface ChainedAuditRecord extends AuditRecord {
  /** The hash of the record before (64 zeros for the first). */
  prevHash: string;
  /** SHA-256(prevHash || the record's canonical JSON), hex (chain.ts). */
  hash: string;
}

export interface AuditQuery {
  /** ISO 8601, inclusive. */
  from?: string;
  /** ISO 8601, exclusive. */
  to?: string;
  kind?: AuditKind;
  partner?: string;
  applyNo?: string;
  outcome?: string;
  /** Only records with a smaller seq: the next page of a newest-first listing. */
  before?: number;
  limit: number;
}

export type ChainVerdict =
  /** `head` is the last record's seq and hash: kept elsewhere, it also shows later that nothing was cut off the end. */
  | { ok: true; records: number; head: { seq: number; hash: string } | null }
  /** `seq` names the first record that does not hold. */
  | { ok: false; seq: number; reason: string };

export interface AuditLog {
  /** Queues a record and returns at once; it is written with the next batch. */
  append(kind: AuditKind, fields: AuditFields): void;
  /** Queues a message's evidence; the record is made of it (records.ts fieldsOf) when its batch is written. */
  appendEvidence(evidence: AuditEvidence): void;
  /** Resolves once everything appended so far is committed; rejects if that write failed (it is retried). */
  flush(): Promise<void>;
  /** Newest first; flushes first, so a query sees everything appended before it. */
  query(query: AuditQuery): Promise<ChainedAuditRecord[]>;
  verify(): Promise<ChainVerdict>;
  /** Records appended and not yet written. */
  pending(): number;
  /** The last written record's seq (0 when empty). */
  lastSeq(): number;
  /** Throws unless the log's storage answers a trivial query (for /readyz). */
  probe(): Promise<void>;
  /** Flushes, then closes. */
  close(): Promise<void>;
}

/**
 * What the audit trail keeps of each event (audit-log.ts): ids, parties, type, outcome, the JWS header and
 * signature, and SHA-256 digests of bodies. Nothing here copies a body, a name, an identity number, a token
 * or a key; the case number (applyNo) is kept because audits are asked by case.
 *
 * Messages are recorded in two steps: on the request path only their evidence is picked (inboundEvidence,
 * OutboundFacts: references, no hashing), and the audit writer thread makes the record of it (fieldsOf:
 * digests, signature headers, the case number of an outbound message) — SHA-256 of a 1 MB body, or JSON
 * parsing, never runs on the thread serving requests.
 */
import { createHash } from 'node:crypto';
import type { XrProtectedHeader } from '../../certs/jws.ts';
import type { InboundOutcome } from '../partner/listener.ts';
import { isMessageType } from '../protocol/messages.ts';
import type { AuditFields } from './audit-log.ts';
import type { JsonValue } from './canonical-json.ts';
import type { X5cChains } from './x5c-chains.ts';

/** A signature header longer than this is kept as a digest only (an honest one with x5c is ~1–3 KiB). */
const MAX_KEPT_SIGNATURE = 16 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** The first §5 code in an outbound lastError, else the HTTP status the partner answered with. */
const ERROR_CODE = /\b(XR_[A-Z_]+)\b/;
const ANSWER_STATUS = /\bwith (\d{3})\b|\banswered (\d{3})\b/;

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// Records are built with their members in canonical (sorted) order: canonicalJson then writes them as they
// are, without a sorted copy (canonical-json.ts). Any order would hash the same.
function digestOf(body: Uint8Array): { bytes: number; sha256: string } {
  return { bytes: body.byteLength, sha256: sha256Hex(body) };
}

/**
 * An X-XR-Signature as it travelled: `protected` exactly as sent (base64url, so the signature can be
 * checked again later over the body, wherever the body is kept) and `signature`. Anything that is not
 * `base64url..base64url` is kept as its digest and length only: no free text from a sender enters the log.
 * With `chains` (the audit store's), the header's x5c chain is kept once, apart (x5c-chains.ts).
 */
export function jwsOf(value: string | undefined, chains?: X5cChains): JsonValue {
  if (value === undefined) return null;
  const [protectedB64 = '', detached, signature = '', ...rest] = value.trim().split('.');
  const wellFormed = detached === '' && rest.length === 0 && BASE64URL.test(protectedB64) && BASE64URL.test(signature);
  if (!wellFormed || value.length > MAX_KEPT_SIGNATURE) return { length: value.length, sha256: sha256Hex(value), unparsed: true };
  const kept = { protected: protectedB64, signature };
  return chains ? chains.compact(kept) : kept;
}

/** The part of an InboundOutcome its record needs: plain data, handed to the writer thread as it is. */
export interface InboundEvidence {
  code: string;
  status: number;
  partner: string | undefined;
  messageType: string;
  applyNo: string | undefined;
  header: Pick<XrProtectedHeader, 'jti' | 'aud' | 'iat' | 'kid'> | undefined;
  signature: string | undefined;
  body: Uint8Array | undefined;
  answer: { body: Uint8Array; signature: string };
  durationMs: number;
}

/** A message's evidence, to be made into its record on the writer thread (fieldsOf). */
export type AuditEvidence =
  | { kind: 'inbound'; facts: InboundEvidence }
  | { kind: 'outbound'; facts: OutboundFacts };

/** The most a body's buffer holds besides the body and that may travel with it: its signing input's header. */
const MAX_HEADER_SLACK = 16 * 1024;

/**
 * postMessage copies a view's whole ArrayBuffer. A Buffer from Node's pool views a shared slab (Buffer.poolSize,
 * 8 KiB) with other requests' bytes in it: such a view is copied to its own bytes first. A body larger than a
 * slab read into its signing input (readBodyAfter) goes as it is — with only its header beside it — so that a
 * 1 MB material is not copied twice.
 */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const bodyInSigningInput = bytes.byteLength > Buffer.poolSize && bytes.buffer.byteLength - bytes.byteLength <= MAX_HEADER_SLACK;
  return whole || bodyInSigningInput ? bytes : Uint8Array.prototype.slice.call(bytes);
}

/** Picks, without hashing or copying more than a pooled view, what the inbound record needs. */
export function inboundEvidence(outcome: InboundOutcome): AuditEvidence {
  const { header } = outcome;
  return {
    kind: 'inbound',
    facts: {
      code: outcome.code,
      status: outcome.status,
      partner: outcome.partner,
      messageType: outcome.messageType,
      applyNo: outcome.applyNo,
      header: header === undefined ? undefined : { jti: header.jti, aud: header.aud, iat: header.iat, kid: header.kid },
      signature: outcome.signature,
      body: outcome.body === undefined ? undefined : ownBytes(outcome.body),
      answer: { body: ownBytes(outcome.answer.body), signature: outcome.answer.signature },
      durationMs: outcome.durationMs,
    },
  };
}

/** Evidence with its outbound bodies as their own bytes, ready for postMessage. */
export function outboundEvidence(facts: OutboundFacts): AuditEvidence {
  return { kind: 'outbound', facts: { ...facts, ...(facts.partnerBody === undefined ? {} : { partnerBody: ownBytes(facts.partnerBody) }) } };
}

/**
 * About how many bytes a queued record holds on the thread that queued it: its bodies and signatures. The
 * audit log sends its queue to the writer thread once they add up (sqlite-audit-log.ts, sendAtBytes).
 */
export function heldBytes(evidence: AuditEvidence): number {
  if (evidence.kind === 'inbound') {
    const { facts } = evidence;
    return (facts.body?.byteLength ?? 0) + (facts.signature?.length ?? 0) + facts.answer.body.byteLength + facts.answer.signature.length;
  }
  const { facts } = evidence;
  return (facts.partnerBody?.byteLength ?? 0) + (facts.canonical?.length ?? 0) + (facts.wire?.request?.length ?? 0) + (facts.wire?.answer?.length ?? 0);
}

/** The record of a message, from its evidence: run by the audit writer thread. */
export function fieldsOf(evidence: AuditEvidence, chains?: X5cChains): AuditFields {
  return evidence.kind === 'inbound' ? inboundFields(evidence.facts, chains) : outboundFields(evidence.facts, chains);
}

export function inboundFields(facts: InboundEvidence, chains?: X5cChains): AuditFields {
  const { header } = facts;
  const answer = digestOf(facts.answer.body);
  return {
    answer: { bytes: answer.bytes, jws: jwsOf(facts.answer.signature, chains), sha256: answer.sha256 },
    applyNo: facts.applyNo,
    aud: header?.aud,
    body: facts.body === undefined ? null : digestOf(facts.body),
    durationMs: Math.round(facts.durationMs),
    iat: header?.iat,
    jti: header?.jti,
    jws: jwsOf(facts.signature, chains),
    kid: header?.kid,
    messageType: isMessageType(facts.messageType) ? facts.messageType : 'unknown',
    outcome: facts.code,
    partner: facts.partner,
    status: facts.status,
  };
}

export interface OutboundFacts {
  id: string;
  target: string;
  messageType: string;
  /** The settlement: delivered, queued (to be retried), failed or dead. */
  status: string;
  attempts: number;
  lastError: string | null;
  /** The stored message, when it could be read back: for the digest and the case number. */
  partnerBody: Uint8Array | undefined;
  canonical: string | undefined;
  receiptStatus: number | undefined;
  /** The signatures of the attempt (absent for the record of acceptance, before any attempt). */
  wire?: { request?: string; answer?: string };
  /** The record of acceptance: the message was committed and answered 202. */
  accepted?: boolean;
}

/** A stored lastError can quote the partner's problem detail: only its code and status are kept. */
function errorCodeOf(lastError: string | null): string | undefined {
  if (lastError === null) return undefined;
  const status = ANSWER_STATUS.exec(lastError);
  return ERROR_CODE.exec(lastError)?.[1] ?? (status ? `HTTP_${status[1] ?? status[2]}` : 'XR_UPSTREAM');
}

function applyNoOf(canonical: string | undefined): string | undefined {
  if (canonical === undefined) return undefined;
  try {
    const { applyNo } = JSON.parse(canonical) as { applyNo?: unknown };
    return typeof applyNo === 'string' ? applyNo : undefined;
  } catch {
    return undefined;
  }
}

export function outboundFields(facts: OutboundFacts, chains?: X5cChains): AuditFields {
  return {
    outcome: facts.accepted ? 'accepted' : facts.status === 'queued' ? 'retry' : facts.status,
    partner: facts.target,
    messageType: facts.messageType,
    applyNo: applyNoOf(facts.canonical),
    id: facts.id,
    attempts: facts.attempts,
    error: errorCodeOf(facts.lastError),
    receiptStatus: facts.receiptStatus,
    body: facts.partnerBody === undefined ? null : digestOf(facts.partnerBody),
    jws: jwsOf(facts.wire?.request, chains),
    answer: { jws: jwsOf(facts.wire?.answer, chains) },
  };
}

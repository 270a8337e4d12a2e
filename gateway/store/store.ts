/**
 * The one storage interface the gateway uses. SQLite (better-sqlite3) implements it now
 * (gateway/store/sqlite-store.ts); a server database can implement it later. Methods are async so that such
 * an implementation fits without changing callers.
 */
import type { MessageType } from '../protocol/messages.ts';

export interface DeliverySettings {
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export interface BreakerSettings {
  volumeThreshold: number;
  errorThresholdPercentage: number;
  resetTimeoutMs: number;
}

export interface Partner {
  region: string;
  name: string;
  endpoint: string;
  format: string;
  services: MessageType[];
  delivery?: Partial<DeliverySettings>;
  breaker?: Partial<BreakerSettings>;
  createdAt: string;
  updatedAt: string;
}

export interface TrustAnchorRecord {
  region: string;
  kid: string;
  subject: string;
  notAfter: string;
  pem: string;
  addedAt: string;
}

export interface RevocationRecord {
  region: string;
  kid?: string;
  serial?: string;
  addedAt: string;
}

/** Huzhou's own signing key: the private key PEM and the certificate chain (leaf first). */
export interface SigningKeyRecord {
  kid: string;
  privateKeyPem: string;
  chainPem: string[];
  createdAt: string;
}

/**
 * The life of one of Huzhou's signing keys (gateway/keys/): pending (key and CSR made, no certificate yet)
 * → ready (certificate installed) → active (signs; exactly one) → retiring (until overlapEndsAt, still
 * published) → retired (its private key destroyed).
 */
export const SIGNING_KEY_STATES = ['pending', 'ready', 'active', 'retiring', 'retired'] as const;
export type SigningKeyState = (typeof SIGNING_KEY_STATES)[number];

export interface ManagedKeyRecord {
  /** Stable id given at creation (the certificate, and with it the kid, comes later). */
  id: string;
  state: SigningKeyState;
  /** x5t#S256 of the certificate; null while pending. */
  kid: string | null;
  subject: string;
  /** PKCS#8 PEM, encrypted (ENCRYPTED PRIVATE KEY) when XR_KEY_PASSPHRASE is set; '' once retired. */
  privateKeyPem: string;
  csrPem: string | null;
  /** Leaf first; empty while pending. */
  chainPem: string[];
  createdAt: string;
  activatedAt: string | null;
  overlapEndsAt: string | null;
}

/** A partner CA's CRL (RFC 5280 §5), kept so its revocations survive a restart; one per issuing anchor. */
export interface CrlRecord {
  region: string;
  issuerKid: string;
  thisUpdate: string;
  nextUpdate: string | null;
  der: Buffer;
  addedAt: string;
}

export interface FormatVersion {
  name: string;
  version: number;
  document: string;
  savedAt: string;
}

/** The answer given to a partner's message, kept so a retry with the same idempotency key gets it again. */
export interface StoredAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'pending'; bodyDigest: string }
  | { state: 'answered'; bodyDigest: string; answer: StoredAnswer };

/**
 * The outbox (PROTOCOL §6): a message from a local system to a partner city, from its 202 until it is
 * delivered or reported failed or dead. queued → delivering → delivered | failed | dead; a failed attempt
 * that may be retried goes back to queued with a later nextAttemptAt.
 */
export const OUTBOUND_STATUSES = ['queued', 'delivering', 'delivered', 'failed', 'dead'] as const;
export type OutboundStatus = (typeof OUTBOUND_STATUSES)[number];

/** The partner's signed answer, verified, in canonical form (body null when it could not be translated). */
export interface OutboundReceipt {
  status: number;
  body: Record<string, unknown> | null;
  verified: true;
}

export interface NewOutboundMessage {
  /** Also the X-XR-Idempotency-Key of every attempt. */
  id: string;
  /** The partner's region code. */
  target: string;
  messageType: MessageType;
  /** The canonical message as the local system sent it (JSON text). */
  canonical: string;
  /** The message in the partner's format: every attempt signs and sends these bytes (§6: the same body). */
  partnerBody: Buffer;
  contentType: string;
  /** The local system's Idempotency-Key, with a digest of what it stands for. */
  idempotency?: { key: string; requestDigest: string };
  nowMs: number;
}

export interface OutboundSummary {
  id: string;
  target: string;
  messageType: MessageType;
  status: OutboundStatus;
  /** Attempts completed (an attempt in progress is counted when it ends). */
  attempts: number;
  nextAttemptAtMs: number;
  lastError: string | null;
  receipt: OutboundReceipt | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface OutboundMessage extends OutboundSummary {
  canonical: string;
  partnerBody: Buffer;
  contentType: string;
}

export type OutboundEnqueueResult =
  | { outcome: 'created'; message: OutboundSummary }
  /** The idempotency key was used before for the same request: nothing stored, the first message returned. */
  | { outcome: 'duplicate'; message: OutboundSummary }
  /** The idempotency key was used before for a different request: nothing stored. */
  | { outcome: 'key-reused'; message: OutboundSummary };

/** How an attempt ended; each counts one attempt. */
export type OutboundSettlement =
  | { status: 'delivered'; receipt: OutboundReceipt; lastError?: string }
  | { status: 'queued'; nextAttemptAtMs: number; lastError: string }
  /** A failed message keeps the partner's signed refusal (its problem document) as its receipt. */
  | { status: 'failed'; lastError: string; receipt?: OutboundReceipt }
  | { status: 'dead'; lastError: string };

export interface OutboxQuery {
  status?: OutboundStatus;
  target?: string;
  /** Newest first, at most this many. */
  limit: number;
}

export interface Store {
  listPartners(): Promise<Partner[]>;
  getPartner(region: string): Promise<Partner | undefined>;
  putPartner(partner: Partner): Promise<void>;
  /** Removes the partner with its trust anchors and revocations. */
  deletePartner(region: string): Promise<boolean>;

  listTrustAnchors(region?: string): Promise<TrustAnchorRecord[]>;
  addTrustAnchors(anchors: TrustAnchorRecord[]): Promise<void>;
  listRevocations(region?: string): Promise<RevocationRecord[]>;
  addRevocation(revocation: RevocationRecord): Promise<void>;

  /** Atomically remembers (iss, jti) until expiresAtSeconds; false if it was already remembered. */
  replayClaim(iss: string, jti: string, expiresAtSeconds: number, nowSeconds: number): Promise<boolean>;
  /** Forgets a claim this caller made (the same expiresAtSeconds): its message was refused after all. */
  replayRelease(iss: string, jti: string, expiresAtSeconds: number): Promise<void>;
  replayCount(): Promise<number>;
  replayPurge(nowSeconds: number): Promise<number>;

  /**
   * Inbound idempotency (X-XR-Idempotency-Key from a partner that retries): claims (iss, key) for a message
   * with this body digest, or tells what is already there — a message in progress, or the answer given.
   */
  idempotencyClaim(iss: string, key: string, bodyDigest: string, nowSeconds: number): Promise<IdempotencyClaim>;
  idempotencyAnswer(iss: string, key: string, answer: StoredAnswer): Promise<void>;
  /** Forgets a claim whose message got no definite answer (the backend failed), so a retry may try again. */
  idempotencyRelease(iss: string, key: string): Promise<void>;
  idempotencyPurge(olderThanSeconds: number): Promise<number>;

  /** The active signing key. */
  getSigningKey(): Promise<SigningKeyRecord | undefined>;
  /** Stores a key as the active one (the development PKI of a first start); any other active key is retired. */
  putSigningKey(key: SigningKeyRecord): Promise<void>;
  listSigningKeys(): Promise<ManagedKeyRecord[]>;
  /** Saves the records in one transaction (a rotation changes two keys at once); at most one may be active. */
  saveSigningKeys(records: readonly ManagedKeyRecord[]): Promise<void>;

  listCrls(region?: string): Promise<CrlRecord[]>;
  /** Keeps the CRL, replacing the one from the same region and issuer. */
  putCrl(crl: CrlRecord): Promise<void>;

  /** Small named values the gateway keeps between starts (e.g. a generated token's hash). */
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;

  listFormats(): Promise<FormatVersion[]>;
  getFormat(name: string, version?: number): Promise<FormatVersion | undefined>;
  formatHistory(name: string): Promise<FormatVersion[]>;
  /** Saves a new current version (previous versions are kept for rollback); returns it. */
  putFormat(name: string, document: string): Promise<FormatVersion>;

  /** Stores a new message as queued; resolves only once it is committed to disk (the 202 waits for this). */
  outboxEnqueue(message: NewOutboundMessage): Promise<OutboundEnqueueResult>;
  outboxGet(id: string): Promise<OutboundMessage | undefined>;
  outboxList(query: OutboxQuery): Promise<OutboundSummary[]>;
  outboxCounts(): Promise<Record<OutboundStatus, number>>;
  /** When the oldest message still waiting for delivery (queued or delivering) was created, if any (metrics). */
  outboxOldestPendingMs(): Promise<number | undefined>;
  /** Every target with queued messages, with the earliest nextAttemptAtMs among them. */
  outboxQueuedTargets(): Promise<Array<{ target: string; nextAttemptAtMs: number }>>;
  /** The earliest nextAttemptAtMs among the target's queued messages; undefined if it has none. */
  outboxNextDue(target: string): Promise<number | undefined>;
  /**
   * Atomically moves up to `limit` queued messages of `target` that are due at `nowMs` to delivering and
   * returns them, oldest due first. Two callers never receive the same message. The claim need not be
   * durable when it resolves (a crash may undo it: the messages are then simply still queued), but anything
   * written after it resolves sees it.
   */
  outboxClaim(target: string, nowMs: number, limit: number): Promise<OutboundMessage[]>;
  /** Ends the attempt on a message in delivering; false if it was not in delivering. */
  outboxSettle(id: string, settlement: OutboundSettlement, nowMs: number): Promise<boolean>;
  /**
   * Puts messages in delivering back to queued without counting an attempt: those named, or every one
   * (at start, after a crash). Returns how many.
   */
  outboxRelease(ids: readonly string[] | 'all', nowMs: number): Promise<number>;
  /**
   * An operator's retry: a failed or dead message back to queued, due now, attempts from zero, optionally
   * with a new partner body (translated again with the partner's current format). Undefined if the message
   * is not failed or dead.
   */
  outboxRequeue(id: string, nowMs: number, body?: { partnerBody: Buffer; contentType: string }): Promise<OutboundSummary | undefined>;

  close(): Promise<void>;
}

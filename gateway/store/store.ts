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

  /** Whether (iss, jti) is remembered and not yet expired. */
  replaySeen(iss: string, jti: string, nowSeconds: number): Promise<boolean>;
  /** Atomically remembers (iss, jti) until expiresAtSeconds; false if it was already remembered. */
  replayClaim(iss: string, jti: string, expiresAtSeconds: number, nowSeconds: number): Promise<boolean>;
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

  getSigningKey(): Promise<SigningKeyRecord | undefined>;
  putSigningKey(key: SigningKeyRecord): Promise<void>;

  /** Small named values the gateway keeps between starts (e.g. a generated token's hash). */
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;

  listFormats(): Promise<FormatVersion[]>;
  getFormat(name: string, version?: number): Promise<FormatVersion | undefined>;
  formatHistory(name: string): Promise<FormatVersion[]>;
  /** Saves a new current version (previous versions are kept for rollback); returns it. */
  putFormat(name: string, document: string): Promise<FormatVersion>;

  close(): Promise<void>;
}

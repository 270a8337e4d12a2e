/**
 * The partner → Huzhou request path (PROTOCOL §3), as a list of named stages:
 *
 *   verify → authorise        (verify-message.ts: every §2 check, in the protocol's order)
 *   → translate in            (the partner's format → canonical, adapters/; large bodies on a thread of
 *                              their own: translation-thread.ts)
 *   → validate                (check digits, regions, materials: adapters/validation)
 *                              (the replay check claims (iss, jti) durably; a later refusal gives it back)
 *   → once                    (X-XR-Idempotency-Key: a partner's retry gets the first answer again)
 *   → claimed                 (the replay claim committed: from here on a copy is a replay)
 *   → forward                 (the local backend, §4)
 *   → translate back          (canonical answer → the partner's format)
 *   → sign                    (the answer, signed by Huzhou with irt = the request's jti)
 *
 * Every stage throws an XrError to refuse; partner/listener.ts turns it into a signed problem.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { CanonicalDocument } from '../../adapters/canonical.ts';
import type { PartnerFormat } from '../../adapters/index.ts';
import type { RegionTable } from '../../adapters/regions/index.ts';
import { validateCanonical } from '../../adapters/validation/canonical.ts';
import { signDetached, type Signer } from '../../certs/jws.ts';
import type { SignaturePlacement } from '../../certs/signature.ts';
import type { LocalBackend } from '../backend/local-backend.ts';
import type { Directory } from '../directory.ts';
import { XrError, isXrError } from '../protocol/errors.ts';
import { REPLAY_WINDOW_SECONDS, type MessageType, type SignatureAlgorithm } from '../protocol/messages.ts';
import type { Partner, Store, StoredAnswer } from '../store/store.ts';
import type { InboundTranslator } from './translation-thread.ts';
import { claimedOrReplay, settleRefusal, verifySignedRequest, type SignedRequest } from './verify-message.ts';

export interface PartnerPipelineDeps {
  ownRegion: string;
  algorithms: readonly SignatureAlgorithm[];
  /** Where signatures are computed (certs/signature.ts): inline or on libuv's pool. */
  signatures: SignaturePlacement;
  directory: Directory;
  store: Store;
  regions: RegionTable;
  /** Partner format → validated canonical; large bodies on a thread of their own (translation-thread.ts). */
  translator: InboundTranslator;
  backend: LocalBackend;
  /** The signing identity in force now (it changes on rotation). */
  signer(): Signer;
  nowMs(): number;
}

export interface InboundRequest extends SignedRequest {
  /** The request's media type essence, e.g. application/xml (checked against the partner's format). */
  mediaType: string;
  /** The charset parameter of its Content-Type, if any: an XML body is read in it (adapters, xmlBodyCharset). */
  charset?: string;
  /** X-XR-Idempotency-Key, sent by a partner that retries (PROTOCOL §6). */
  idempotencyKey: string | undefined;
}

export interface SignedAnswer extends StoredAnswer {
  signature: string;
}

export interface StageTimer {
  (stage: 'verify' | 'translate' | 'forward' | 'sign', run: () => Promise<void> | void): Promise<void>;
}

const untimed: StageTimer = async (_stage, run) => { await run(); };

/** What the pipeline learnt of a message, kept for the audit trail even when a later stage refuses it. */
export interface MessageFacts {
  /** The case number, once the message is translated (not every message type has one). */
  applyNo?: string;
}

export async function signAnswer(deps: PartnerPipelineDeps, body: Buffer, audience: string, inReplyTo: string | undefined): Promise<string> {
  // x5c lets a partner that registered Huzhou's CA verify any certificate that CA issues: a key rotation
  // changes nothing on the partner's side (docs/operations-keys.md).
  return signDetached(body, {
    iss: deps.ownRegion,
    aud: audience,
    jti: randomUUID(),
    iat: Math.floor(deps.nowMs() / 1000),
    ...(inReplyTo === undefined ? {} : { irt: inReplyTo }),
  }, deps.signer(), { includeX5c: true, placement: deps.signatures });
}

export async function handlePartnerMessage(
  request: InboundRequest, deps: PartnerPipelineDeps, time: StageTimer = untimed, facts: MessageFacts = {},
): Promise<SignedAnswer> {
  const nowMs = deps.nowMs();
  const nowSeconds = Math.floor(nowMs / 1000);
  const { messageType } = request;

  // An entry can be claimed again once its expires_at is at or before the current whole second. A message
  // accepted now passes the skew check until iat + 300 s, and iat ≤ now + 300 s: up to the second
  // nowSeconds + 600 included. So the entry outlives that second — it is remembered at least 2 × 300 s (§2).
  const expiresAt = nowSeconds + REPLAY_WINDOW_SECONDS + 1;
  const replayStore = {
    claimReplay: (iss: string, jti: string) => deps.store.replayClaim(iss, jti, expiresAt, nowSeconds),
    releaseReplay: (iss: string, jti: string) => deps.store.replayRelease(iss, jti, expiresAt),
  };
  let verified!: Awaited<ReturnType<typeof verifySignedRequest>>;
  await time('verify', async () => {
    verified = await verifySignedRequest(request, {
      ownRegion: deps.ownRegion,
      algorithms: deps.algorithms,
      signatures: deps.signatures,
      nowMs,
      partner: (region) => deps.directory.partner(region),
      trust: deps.directory.trust,
      ...replayStore,
    });
  });
  const { header, partner, replay } = verified;

  let format!: PartnerFormat;
  let canonicalRequest!: ReturnType<typeof validateCanonical>;
  let once: IdempotencyOutcome;
  try {
    format = formatFor(deps, partner, request.mediaType);
    await time('translate', async () => {
      canonicalRequest = await deps.translator.toCanonical(format, deps.directory.formats.source(format.name), messageType, request.body, { charset: request.charset });
    });
    if ('applyNo' in canonicalRequest) facts.applyNo = canonicalRequest.applyNo;
    once = await claimIdempotencyKey(deps.store, header.iss, request, nowSeconds);
  } catch (refusal) {
    return settleRefusal(replay, header, replayStore, refusal);
  }

  let answer: StoredAnswer;
  try {
    await claimedOrReplay(replay, header);
    answer = once.answer ?? await forwardAndTranslateBack(deps, format, messageType, canonicalRequest, header.iss, header.jti, time);
  } catch (error) {
    if (once.claimed) await deps.store.idempotencyRelease(header.iss, once.key);
    throw error;
  }
  if (once.claimed) await deps.store.idempotencyAnswer(header.iss, once.key, answer);

  let signature!: string;
  await time('sign', async () => {
    signature = await signAnswer(deps, answer.body, header.iss, header.jti);
  });
  return { ...answer, signature };
}

/** The partner's format, which must read the media type it sent. */
function formatFor(deps: PartnerPipelineDeps, partner: Partner, mediaType: string): PartnerFormat {
  const format = deps.directory.formatOf(partner);
  if (!format) throw new XrError('XR_TRANSLATION', `partner ${partner.region} is registered with format ${partner.format}, which the gateway does not have`);
  if (format.mediaType !== mediaType) {
    throw new XrError('XR_UNSUPPORTED_MEDIA', `partner ${partner.region} sends ${format.mediaType} (format ${format.name}), not ${mediaType}`);
  }
  return format;
}

async function forwardAndTranslateBack(
  deps: PartnerPipelineDeps, format: PartnerFormat, messageType: MessageType, canonicalRequest: object, iss: string, jti: string, time: StageTimer,
): Promise<StoredAnswer> {
  let backendAnswer!: Awaited<ReturnType<LocalBackend['forward']>>;
  await time('forward', async () => {
    backendAnswer = await deps.backend.forward(messageType, canonicalRequest, { region: iss, messageId: jti });
  });

  let partnerBody!: Buffer;
  await time('translate', async () => {
    try {
      const canonicalAnswer = validateCanonical(messageType, 'response', backendAnswer.body, deps.regions);
      partnerBody = await format.fromCanonical(messageType, 'response', canonicalAnswer as unknown as CanonicalDocument);
    } catch (error) {
      // The backend's answer is Huzhou's own fault, not the partner's: report it as an upstream error.
      if (isXrError(error)) throw new XrError('XR_UPSTREAM', `the local backend's answer cannot be sent on: ${error.detail}`, { cause: error });
      throw error;
    }
  });
  return { status: backendAnswer.status, contentType: `${format.mediaType}; charset=${format.charset}`, body: partnerBody };
}

/** Visible ASCII, as HTTP header tokens go; long enough for a UUID or a partner's own message id. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

interface IdempotencyOutcome {
  key: string;
  /** This message holds the key: its answer is to be kept (or the claim released if there is none). */
  claimed: boolean;
  /** The answer already given to the first message with this key. */
  answer?: StoredAnswer;
}

async function claimIdempotencyKey(store: Store, iss: string, request: InboundRequest, nowSeconds: number): Promise<IdempotencyOutcome> {
  const key = request.idempotencyKey;
  if (key === undefined) return { key: '', claimed: false };
  if (!IDEMPOTENCY_KEY.test(key)) throw new XrError('XR_BAD_REQUEST', 'X-XR-Idempotency-Key must be 1–200 visible ASCII characters');
  const bodyDigest = createHash('sha256').update(request.body).digest('hex');
  const claim = await store.idempotencyClaim(iss, key, bodyDigest, nowSeconds);
  if (claim.state === 'claimed') return { key, claimed: true };
  if (claim.bodyDigest !== bodyDigest) {
    throw new XrError('XR_BAD_REQUEST', `idempotency key ${key} was used before for a different body`);
  }
  if (claim.state === 'pending') {
    throw new XrError('XR_REPLAY', `the message with idempotency key ${key} is still being handled; retry later`);
  }
  return { key, claimed: false, answer: claim.answer };
}

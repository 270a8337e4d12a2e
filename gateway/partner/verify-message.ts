/**
 * PROTOCOL §2: the checks a signed partner message must pass, in the order the protocol lists them, each
 * refusal with its own code. Pure apart from the lookups it is given and the replay claim: the replay check
 * *is* the claim of (iss, jti) — one durable write, no separate lookup before it. The claim is started here
 * and its answer awaited only where an outcome depends on it (a later refusal, the forward), so its commit
 * overlaps the translation; every refusal after it gives the claim back first (settleRefusal), so a refused
 * message leaves no replay entry and a replay is refused as XR_REPLAY, at its place in the §2 order.
 */
import type { KeyObject } from 'node:crypto';
import { claimedSender, parseSignatureHeader, verifyDetached, type ParsedSignature, type XrProtectedHeader } from '../../certs/jws.ts';
import type { SignaturePlacement } from '../../certs/signature.ts';
import type { TrustStore } from '../../certs/trust-store.ts';
import { XrError } from '../protocol/errors.ts';
import { MAX_CLOCK_SKEW_SECONDS, excessClockSkew, type MessageType, type SignatureAlgorithm } from '../protocol/messages.ts';
import type { Partner } from '../store/store.ts';

export interface SignedRequest {
  messageType: MessageType;
  method: string;
  /** Path with query, as received. */
  pathWithQuery: string;
  /** X-XR-Signature as read once by the listener (readSignature). */
  signature: SignatureReading;
  body: Buffer;
  /** The body in its signing input (readBodyAfter), when the listener read it so: verifying then copies nothing. */
  signingInput?: Buffer;
}

/**
 * X-XR-Signature parsed, or the refusal parsing it produced (thrown at its place in the §2 order) with the
 * sender and message id the header claims, when they can be read, to address the refusal.
 */
export type SignatureReading = { parsed: ParsedSignature } | { refusal: unknown; claimed: { iss?: string; jti?: string } };

export interface VerificationContext {
  ownRegion: string;
  algorithms: readonly SignatureAlgorithm[];
  /** Where signatures are computed (certs/signature.ts): inline or on libuv's pool. */
  signatures: SignaturePlacement;
  /** The gateway's clock, in milliseconds: the skew check and the certificate's validity are exact to it. */
  nowMs: number;
  partner(region: string): Partner | undefined;
  trust: TrustStore;
  /** Remembers (iss, jti) durably; false when it was already remembered (a replay). */
  claimReplay(iss: string, jti: string): Promise<boolean>;
  /** Forgets this request's own claim (its message is refused after all). */
  releaseReplay(iss: string, jti: string): Promise<void>;
}

/** The replay claim in flight: never rejects (a storage failure is its `error`), so it may wait unawaited. */
export type ReplayClaim = Promise<{ claimed: boolean } | { error: unknown }>;

export interface VerifiedRequest {
  header: XrProtectedHeader;
  partner: Partner;
  signerKey: KeyObject;
  /** Settle with claimedOrReplay before forwarding, or settleRefusal before refusing. */
  replay: ReplayClaim;
}

function replayRefusal(header: XrProtectedHeader): XrError {
  return new XrError('XR_REPLAY', `message ${header.jti} from ${header.iss} was already accepted`);
}

/** Resolves once (iss, jti) is this request's; throws XR_REPLAY if it was already remembered. */
export async function claimedOrReplay(replay: ReplayClaim, header: XrProtectedHeader): Promise<void> {
  const outcome = await replay;
  if ('error' in outcome) throw outcome.error;
  if (!outcome.claimed) throw replayRefusal(header);
}

/**
 * A refusal after the replay check: a replay is refused as such (its check comes first in §2); otherwise the
 * claim is given back before `refusal` is thrown, so the refused message leaves the replay cache unchanged.
 */
export async function settleRefusal(replay: ReplayClaim, header: XrProtectedHeader, context: Pick<VerificationContext, 'releaseReplay'>, refusal: unknown): Promise<never> {
  const outcome = await replay;
  if ('claimed' in outcome && !outcome.claimed) throw replayRefusal(header);
  if ('claimed' in outcome) await context.releaseReplay(header.iss, header.jti);
  throw refusal;
}

/**
 * Parses X-XR-Signature once per request: the listener needs the claimed header to log and to address a
 * signed refusal, the verify stage needs the parse (or its refusal).
 */
export function readSignature(signature: string | undefined, algorithms: readonly SignatureAlgorithm[]): SignatureReading {
  try {
    return { parsed: parseSignatureHeader(signature, algorithms) };
  } catch (refusal) {
    return { refusal, claimed: claimedSender(signature) };
  }
}

/** The claimed header, when it could be parsed. */
export function claimedHeader(reading: SignatureReading): XrProtectedHeader | undefined {
  return 'parsed' in reading ? reading.parsed.header : undefined;
}

/** Whom a refusal answers: the claimed sender and message id, from a header that parsed or one refused. */
export function claimedSenderOf(reading: SignatureReading): { iss?: string; jti?: string } {
  return 'parsed' in reading ? reading.parsed.header : reading.claimed;
}

export async function verifySignedRequest(request: SignedRequest, context: VerificationContext): Promise<VerifiedRequest> {
  if ('refusal' in request.signature) throw request.signature.refusal;
  const { parsed } = request.signature;
  const { header } = parsed;
  if (header.htm === undefined || header.htu === undefined) throw new XrError('XR_MALFORMED', 'a request signature needs htm and htu');

  const partner = context.partner(header.iss);
  if (!partner) throw new XrError('XR_PARTNER_UNKNOWN', `region ${header.iss} is not a registered partner`);
  if (header.aud !== context.ownRegion) throw new XrError('XR_AUDIENCE', `aud ${header.aud} is not ${context.ownRegion}`);

  const signerKey = context.trust.resolveSigner(header.iss, header.kid, header.x5c, new Date(context.nowMs));
  const { body, signingInput } = request;
  await verifyDetached(parsed, signingInput === undefined ? body : { signingInput, body }, signerKey, context.signatures);

  const skew = excessClockSkew(context.nowMs, header.iat);
  if (skew !== undefined) {
    throw new XrError('XR_CLOCK_SKEW', `iat is ${skew.toFixed(3)} s from the gateway's clock; at most ${MAX_CLOCK_SKEW_SECONDS} s is allowed`);
  }
  // HTTP methods are case-sensitive (RFC 9110 §9.1): htm must be the method exactly as sent.
  if (header.htm !== request.method || header.htu !== request.pathWithQuery) {
    throw new XrError('XR_BINDING', `the signature is bound to ${header.htm} ${header.htu}, not to this request`);
  }
  const replay: ReplayClaim = context.claimReplay(header.iss, header.jti).then((claimed) => ({ claimed }), (error: unknown) => ({ error }));
  if (!partner.services.includes(request.messageType)) {
    await settleRefusal(replay, header, context, new XrError('XR_SERVICE_NOT_ALLOWED', `partner ${header.iss} may not send ${request.messageType}`));
  }
  return { header, partner, signerKey, replay };
}

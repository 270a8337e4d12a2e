/**
 * One delivery attempt (PROTOCOL §6): sign the stored partner body afresh (new jti, htm/htu bound to this
 * request), POST it with the message id as X-XR-Idempotency-Key, and read the answer:
 *
 *   2xx, verified          → delivered, the receipt translated back to canonical
 *   4xx (not 429), verified → refused: final, the partner's problem code and detail kept, and its problem
 *                             document as the receipt
 *   anything else          → a failed attempt to retry (network error, timeout, 5xx, 429, an answer that
 *                             is unsigned or does not verify), with the partner's Retry-After if it gave one
 *
 * Resolves only for a delivery; every other ending rejects with a DeliveryFailure carrying its outcome, so the
 * circuit breaker around it sees failures (its errorFilter lets refusals pass as successes).
 */
import { randomUUID } from 'node:crypto';
import type { PartnerFormat } from '../../adapters/index.ts';
import type { RegionTable } from '../../adapters/regions/index.ts';
import { validateCanonical } from '../../adapters/validation/canonical.ts';
import { signDetached, type Signer } from '../../certs/jws.ts';
import type { SignaturePlacement } from '../../certs/signature.ts';
import type { TrustStore } from '../../certs/trust-store.ts';
import { HttpClient, type HttpResponse } from '../http/client.ts';
import { parseMediaType } from '../http/raw-body.ts';
import { isXrError } from '../protocol/errors.ts';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, type SignatureAlgorithm } from '../protocol/messages.ts';
import type { OutboundMessage, Partner } from '../store/store.ts';
import { partnerTlsOptions, type ClientIdentity } from '../tls/partner-client-tls.ts';
import { parseRetryAfter, type AttemptOutcome } from './retry-policy.ts';
import { verifyPartnerAnswer } from './verify-answer.ts';

export type Delivered = Extract<AttemptOutcome, { kind: 'delivered' }>;
export type Undelivered = Exclude<AttemptOutcome, { kind: 'delivered' }>;

export class DeliveryFailure extends Error {
  constructor(readonly outcome: Undelivered) {
    super(outcome.reason);
    this.name = 'DeliveryFailure';
  }
}

/** A refusal proves the partner is up: it must not count against its circuit breaker. */
export function isRefusal(error: unknown): boolean {
  return error instanceof DeliveryFailure && error.outcome.kind === 'refused';
}

export interface AttemptContext {
  ownRegion: string;
  algorithms: readonly SignatureAlgorithm[];
  /** Where signatures are computed (certs/signature.ts): inline or on libuv's pool. */
  signatures: SignaturePlacement;
  signer(): Signer;
  trust(): TrustStore;
  regions: RegionTable;
  nowMs(): number;
  http: HttpClient;
  /** Huzhou's TLS certificate (XR_TLS_*), presented to partners that require mutual TLS. */
  tlsClient?: ClientIdentity;
}

export interface Attempt {
  message: OutboundMessage;
  partner: Partner;
  /** The partner's format now, to read the receipt; undefined if it is gone. */
  format: PartnerFormat | undefined;
  timeoutMs: number;
  signal: AbortSignal;
  /** Filled as the attempt goes: the X-XR-Signature sent and the one answered, for the audit trail. */
  wire: AttemptWire;
}

export interface AttemptWire {
  request?: string;
  answer?: string;
}

/** One client for every partner: keep-alive connections, no retries (the outbox retries), no redirects. */
export function partnerHttpClient(): HttpClient {
  return new HttpClient();
}

const MAX_DETAIL = 300;

function describe(error: unknown): string {
  return isXrError(error) ? `${error.code}: ${error.detail}` : error instanceof Error ? error.message : String(error);
}

/** The partner's problem document (RFC 9457), if its answer is one. */
function problemDocument(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const PROTOCOL_CODE = /^XR_[A-Z_]{1,40}$/;

/**
 * The partner's problem code and detail, for lastError; never the body itself. Without the detail (`code`
 * only) for the log: a detail is the partner's free text and may hold personal data.
 */
function problemOf(problem: Record<string, unknown> | undefined, parts: 'code and detail' | 'code' = 'code and detail'): string {
  if (problem !== undefined) {
    const given = typeof problem.code === 'string' ? problem.code.slice(0, 64) : undefined;
    // For the log, a code is shown only if it looks like one (an XR/1 code): anything else is free text too.
    const code = parts === 'code' && given !== undefined && !PROTOCOL_CODE.test(given) ? '(a code that is not an XR/1 code)' : given;
    const detail = parts === 'code' || typeof problem.detail !== 'string' ? undefined : problem.detail.slice(0, MAX_DETAIL);
    if (code !== undefined || detail !== undefined) return ` ${[code, detail].filter((part) => part !== undefined).join(': ')}`;
  }
  return '';
}

/** A reason built around the partner's problem: in full for lastError, with its code only for the log. */
function withProblem(problem: Record<string, unknown> | undefined, reason: (problem: string) => string): { reason: string; logged: string } {
  return { reason: reason(problemOf(problem)), logged: reason(problemOf(problem, 'code')) };
}

function retry(reason: string | { reason: string; logged: string }, retryAfterMs?: number): DeliveryFailure {
  return new DeliveryFailure({ kind: 'retry', ...(typeof reason === 'string' ? { reason } : reason), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
}

async function post(attempt: Attempt, url: URL, signature: string, context: AttemptContext): Promise<HttpResponse> {
  try {
    return await context.http.request({
      method: 'POST',
      url,
      body: attempt.message.partnerBody,
      headers: {
        'content-type': attempt.message.contentType,
        [SIGNATURE_HEADER]: signature,
        [IDEMPOTENCY_HEADER]: attempt.message.id,
      },
      timeoutMs: attempt.timeoutMs,
      // An https endpoint must present a certificate chaining to a CA registered for the partner's region.
      ...(url.protocol === 'https:' ? { tls: partnerTlsOptions(context.trust(), attempt.partner.region, context.tlsClient) } : {}),
      signal: attempt.signal,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ETIMEDOUT') throw retry(`XR_UPSTREAM_TIMEOUT: the partner did not answer within ${attempt.timeoutMs} ms`);
    if (code === 'ERR_ABORTED') throw retry('XR_UPSTREAM_TIMEOUT: the attempt was cancelled');
    if (code === 'ERR_RESPONSE_TOO_LARGE') throw retry(`XR_UPSTREAM: ${describe(error)}`);
    throw retry(`XR_UPSTREAM: the partner could not be reached (${code ?? describe(error)})`);
  }
}

async function receiptOf(attempt: Attempt, status: number, body: Buffer, contentType: string | undefined, context: AttemptContext): Promise<Delivered> {
  const { messageType } = attempt.message;
  try {
    if (!attempt.format) throw new Error(`format ${attempt.partner.format} is not available`);
    // An XML answer is read in its Content-Type's charset first, as a partner's request is (adapters, charset).
    const charset = parseMediaType(contentType)?.charset;
    const canonical = await attempt.format.toCanonical(messageType, 'response', body, charset === undefined ? {} : { charset });
    validateCanonical(messageType, 'response', canonical, context.regions);
    return { kind: 'delivered', receipt: { status, body: canonical as Record<string, unknown>, verified: true } };
  } catch (error) {
    // The partner has accepted the message (signed 2xx): it is delivered, only its receipt is unreadable.
    return { kind: 'delivered', receipt: { status, body: null, verified: true }, note: `the receipt could not be read: ${describe(error)}` };
  }
}

export async function sendAttempt(attempt: Attempt, context: AttemptContext): Promise<Delivered> {
  const { message, partner } = attempt;
  const url = new URL(`${partner.endpoint}/xr/v1/messages/${message.messageType}`);
  const jti = randomUUID();
  const signature = await signDetached(message.partnerBody, {
    iss: context.ownRegion,
    aud: partner.region,
    jti,
    iat: Math.floor(context.nowMs() / 1000),
    htm: 'POST',
    htu: `${url.pathname}${url.search}`,
  }, context.signer(), { includeX5c: true, placement: context.signatures });
  attempt.wire.request = signature;

  const response = await post(attempt, url, signature, context);
  const status = response.statusCode;
  const answerSignature = response.headers[SIGNATURE_HEADER];
  attempt.wire.answer = Array.isArray(answerSignature) ? answerSignature[0] : answerSignature;
  const verified = async (): Promise<string | undefined> => {
    try {
      await verifyPartnerAnswer(Array.isArray(answerSignature) ? answerSignature[0] : answerSignature, response.body, {
        ownRegion: context.ownRegion,
        partner: partner.region,
        requestJti: jti,
        algorithms: context.algorithms,
        signatures: context.signatures,
        trust: context.trust(),
        nowMs: context.nowMs(),
      });
      return undefined;
    } catch (error) {
      return describe(error);
    }
  };

  if (status >= 200 && status < 300) {
    const problem = await verified();
    if (problem !== undefined) throw retry(`the partner's ${status} answer was not accepted: ${problem}`);
    return receiptOf(attempt, status, response.body, response.headers['content-type'], context);
  }
  if (status >= 400 && status < 500 && status !== 429) {
    const problem = await verified();
    if (problem !== undefined) throw retry(withProblem(problemDocument(response.body), (said) => `the partner answered ${status}${said}, but not verifiably: ${problem}`));
    const refusal = problemDocument(response.body);
    throw new DeliveryFailure({
      kind: 'refused',
      ...withProblem(refusal, (said) => `the partner refused the message with ${status}${said}`),
      receipt: { status, body: refusal ?? null, verified: true },
    });
  }
  const retryAfter = response.headers['retry-after'];
  throw retry(withProblem(problemDocument(response.body), (said) => `the partner answered ${status}${said}`), parseRetryAfter(retryAfter, context.nowMs()));
}

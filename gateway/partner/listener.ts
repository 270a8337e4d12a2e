/**
 * The partner listener (PROTOCOL §3): `POST /xr/v1/messages/{messageType}`. Reads the raw bytes, runs the
 * pipeline, and answers — the answer and every refusal signed by Huzhou (§5).
 */
import Koa from 'koa';
import type { Logger } from 'pino';
import { readableCharset } from '../../adapters/index.ts';
import { XrError } from '../protocol/errors.ts';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, isMessageType } from '../protocol/messages.ts';
import { PROBLEM_MEDIA_TYPE, asXrError, problemOf } from '../http/problem.ts';
import { parseMediaType, readBodyAfter, readRawBody } from '../http/raw-body.ts';
import { requestContext, requestIdOf } from '../request-context.ts';
import { signingInputPrefix, type XrProtectedHeader } from '../../certs/jws.ts';
import { claimedHeader, claimedSenderOf, readSignature } from './verify-message.ts';
import { handlePartnerMessage, signAnswer, type MessageFacts, type PartnerPipelineDeps, type StageTimer } from './pipeline.ts';

const ROUTE = /^\/xr\/v1\/messages\/([^/?]+)$/;
const ACCEPTED_MEDIA = new Map([
  ['application/json', 'application/json'],
  ['application/xml', 'application/xml'],
  ['text/xml', 'application/xml'],
]);

export interface PartnerListenerOptions {
  deps: PartnerPipelineDeps;
  maxBodyBytes: number;
  log: Logger;
  time?: StageTimer;
  onOutcome?(outcome: InboundOutcome): void;
}

/** How one partner message ended, for metrics and the audit trail (gateway/operations.ts). */
export interface InboundOutcome {
  /** The claimed sender (the signature's iss), when the header could be parsed. */
  partner: string | undefined;
  messageType: string;
  /** 'OK' or the PROTOCOL §5 code of the refusal. */
  code: string;
  status: number;
  /** The request's protected header when it parses, and X-XR-Signature exactly as received. */
  header: XrProtectedHeader | undefined;
  signature: string | undefined;
  /** The raw request bytes once read: to digest, never to keep. */
  body: Buffer | undefined;
  applyNo: string | undefined;
  /** What was sent back: the answer or the problem, and Huzhou's signature over it. */
  answer: { body: Buffer; signature: string };
  durationMs: number;
}

/** The message type a request path names, or undefined: not this route, or not percent-decodable. */
function messageTypeIn(path: string): string | undefined {
  const match = ROUTE.exec(path);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return undefined; // e.g. %E0%A4%A: no such resource, not a failure of the gateway
  }
}

export function partnerListener(options: PartnerListenerOptions): Koa {
  const { deps, log } = options;
  const app = new Koa();
  app.use(requestContext());
  app.use(async (ctx) => {
    const signature = ctx.get(SIGNATURE_HEADER) || undefined;
    const reading = readSignature(signature, deps.algorithms);
    const claimed = claimedHeader(reading);
    const sender = claimedSenderOf(reading);
    const requestLog = log.child({ requestId: requestIdOf(ctx), jti: sender.jti, iss: sender.iss });
    const routed = messageTypeIn(ctx.path);
    const messageType = routed ?? '';
    const started = performance.now();
    const facts: MessageFacts = {};
    let body: Buffer | undefined;
    const outcome = (code: string, status: number, answer: InboundOutcome['answer']): InboundOutcome => ({
      partner: claimed?.iss, messageType, code, status, header: claimed, signature, body, applyNo: facts.applyNo, answer,
      durationMs: performance.now() - started,
    });
    try {
      if (routed === undefined) throw new XrError('XR_NOT_FOUND', `no such resource: ${ctx.path}`);
      if (ctx.method !== 'POST') throw new XrError('XR_BAD_REQUEST', `use POST, not ${ctx.method}`);
      if (!isMessageType(messageType)) throw new XrError('XR_NOT_FOUND', `unknown message type ${messageType}`);
      const media = parseMediaType(ctx.get('content-type'));
      const mediaType = media && ACCEPTED_MEDIA.get(media.essence);
      if (!mediaType) throw new XrError('XR_UNSUPPORTED_MEDIA', 'the body must be application/json or application/xml');
      if (mediaType === 'application/json' && media.charset !== undefined && media.charset.toLowerCase() !== 'utf-8') {
        throw new XrError('XR_UNSUPPORTED_MEDIA', `JSON is UTF-8, not ${media.charset}`);
      }
      if (media.charset !== undefined && readableCharset(media.charset) === undefined) {
        throw new XrError('XR_UNSUPPORTED_MEDIA', `charset ${media.charset} is not one the gateway reads (UTF-8, GB18030 or GBK)`);
      }
      // With a header that parses, the body is read into its signing input (one copy of it instead of two).
      const read = 'parsed' in reading
        ? await readBodyAfter(ctx.req, options.maxBodyBytes, signingInputPrefix(reading.parsed))
        : { body: await readRawBody(ctx.req, options.maxBodyBytes), signingInput: undefined };
      body = read.body;
      const answer = await handlePartnerMessage({
        messageType,
        method: ctx.method,
        pathWithQuery: ctx.url,
        signature: reading,
        body,
        signingInput: read.signingInput,
        mediaType,
        charset: media.charset,
        idempotencyKey: ctx.get(IDEMPOTENCY_HEADER) || undefined,
      }, deps, options.time, facts);
      ctx.status = answer.status;
      ctx.set('content-type', answer.contentType);
      ctx.set(SIGNATURE_HEADER, answer.signature);
      ctx.body = answer.body;
      requestLog.info({ messageType, status: answer.status }, 'message forwarded and answered');
      options.onOutcome?.(outcome('OK', answer.status, answer));
    } catch (error) {
      const xr = asXrError(error, requestLog);
      const problem = Buffer.from(JSON.stringify(problemOf(xr, sender.jti)), 'utf8');
      // A refusal is signed too (§5), addressed to whoever the signature claims sent the message — also when
      // the header was refused but its iss and jti could be read.
      const audience = sender.iss ?? '000000';
      const problemSignature = await signAnswer(deps, problem, audience, sender.jti);
      ctx.status = xr.status;
      ctx.set(xr.headers);
      ctx.set('content-type', PROBLEM_MEDIA_TYPE);
      ctx.set(SIGNATURE_HEADER, problemSignature);
      ctx.body = problem;
      requestLog.warn({ messageType, code: xr.code, status: xr.status, ...loggedDetail(xr) }, 'message refused');
      options.onOutcome?.(outcome(xr.code, xr.status, { body: problem, signature: problemSignature }));
    }
  });
  return app;
}

/** A run of digits as long as a phone number or longer: identity numbers (with their X), phones, account numbers. */
const LONG_NUMBER = /\d{11,}[Xx]?/g;

/**
 * What the log says of a refusal's detail (the partner gets it whole). Never the backend's explanation of an
 * XR_REFUSED_BY_BACKEND: its own words, which may name the applicant. Other details are the gateway's, but
 * may name what the partner sent (an unknown key, a value's place): long numbers in them are withheld.
 */
function loggedDetail(xr: XrError): { detail?: string } {
  if (xr.code === 'XR_REFUSED_BY_BACKEND') return {};
  return { detail: xr.detail.replace(LONG_NUMBER, '[number withheld]') };
}

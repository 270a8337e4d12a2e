/**
 * The partner listener (PROTOCOL §3): `POST /xr/v1/messages/{messageType}`. Reads the raw bytes, runs the
 * pipeline, and answers — the answer and every refusal signed by Huzhou (§5).
 */
import Koa from 'koa';
import type { Logger } from 'pino';
import { XrError } from '../protocol/errors.ts';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, isMessageType } from '../protocol/messages.ts';
import { PROBLEM_MEDIA_TYPE, asXrError, problemOf } from '../http/problem.ts';
import { parseMediaType, readRawBody } from '../http/raw-body.ts';
import { claimedHeader } from './verify-message.ts';
import { handlePartnerMessage, signAnswer, type PartnerPipelineDeps, type StageTimer } from './pipeline.ts';

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
  onOutcome?(outcome: { partner: string | undefined; messageType: string; code: string; status: number }): void;
}

export function partnerListener(options: PartnerListenerOptions): Koa {
  const { deps, log } = options;
  const app = new Koa();
  app.use(async (ctx) => {
    const signature = ctx.get(SIGNATURE_HEADER) || undefined;
    const claimed = claimedHeader(signature, deps.algorithms);
    const requestLog = log.child({ jti: claimed?.jti, iss: claimed?.iss });
    const match = ROUTE.exec(ctx.path);
    const messageType = match ? decodeURIComponent(match[1]!) : '';
    try {
      if (!match) throw new XrError('XR_NOT_FOUND', `no such resource: ${ctx.path}`);
      if (ctx.method !== 'POST') throw new XrError('XR_BAD_REQUEST', `use POST, not ${ctx.method}`);
      if (!isMessageType(messageType)) throw new XrError('XR_NOT_FOUND', `unknown message type ${messageType}`);
      const media = parseMediaType(ctx.get('content-type'));
      const mediaType = media && ACCEPTED_MEDIA.get(media.essence);
      if (!mediaType) throw new XrError('XR_UNSUPPORTED_MEDIA', 'the body must be application/json or application/xml');
      if (mediaType === 'application/json' && media.charset !== undefined && media.charset.toLowerCase() !== 'utf-8') {
        throw new XrError('XR_UNSUPPORTED_MEDIA', `JSON is UTF-8, not ${media.charset}`);
      }
      const body = await readRawBody(ctx.req, options.maxBodyBytes);
      const answer = await handlePartnerMessage({
        messageType,
        method: ctx.method,
        pathWithQuery: ctx.url,
        signature,
        body,
        mediaType,
        idempotencyKey: ctx.get(IDEMPOTENCY_HEADER) || undefined,
      }, deps, options.time);
      ctx.status = answer.status;
      ctx.set('content-type', answer.contentType);
      ctx.set(SIGNATURE_HEADER, answer.signature);
      ctx.body = answer.body;
      requestLog.info({ messageType, status: answer.status }, 'message forwarded and answered');
      options.onOutcome?.({ partner: claimed?.iss, messageType, code: 'OK', status: answer.status });
    } catch (error) {
      const xr = asXrError(error, requestLog);
      const body = Buffer.from(JSON.stringify(problemOf(xr, claimed?.jti)), 'utf8');
      // A refusal is signed too (§5), addressed to whoever the signature claims sent the message.
      const audience = claimed?.iss ?? '000000';
      ctx.status = xr.status;
      ctx.set(xr.headers);
      ctx.set('content-type', PROBLEM_MEDIA_TYPE);
      ctx.set(SIGNATURE_HEADER, await signAnswer(deps, body, audience, claimed?.jti));
      ctx.body = body;
      requestLog.warn({ messageType, code: xr.code, status: xr.status, detail: xr.detail }, 'message refused');
      options.onOutcome?.({ partner: claimed?.iss, messageType, code: xr.code, status: xr.status });
    }
  });
  return app;
}

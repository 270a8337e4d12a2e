/**
 * The local listener (PROTOCOL §6): Huzhou's own systems hand out-of-area messages to the gateway.
 * Authorised by XR_LOCAL_TOKEN.
 *
 *   POST /local/v1/messages/{messageType}   canonical JSON → 202 {"id", "status": "queued"} (accept.ts)
 *   GET  /local/v1/messages/{id}            → the message's status document
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from 'pino';
import { requireRole, type TokenTable } from '../http/auth.ts';
import { readJsonObject } from '../http/json-body.ts';
import { problemResponder } from '../http/problem.ts';
import { statusDocument } from '../outbound/status-document.ts';
import { XrError } from '../protocol/errors.ts';
import { IDEMPOTENCY_HEADER, isMessageType } from '../protocol/messages.ts';
import { requestContext, requestLog } from '../request-context.ts';
import { acceptLocalMessage, type AcceptDeps } from './accept.ts';

export interface LocalListenerOptions {
  tokens: TokenTable;
  log: Logger;
  accept: AcceptDeps;
  maxBodyBytes: number;
}

export const TARGET_REGION_HEADER = 'x-xr-target-region';

export function localListener(options: LocalListenerOptions): Koa {
  const { accept, log } = options;
  const app = new Koa();
  const router = new Router();

  router.post('/local/v1/messages/:messageType', async (ctx) => {
    const messageType = ctx.params.messageType!;
    if (!isMessageType(messageType)) throw new XrError('XR_NOT_FOUND', `unknown message type ${messageType}`);
    const document = await readJsonObject(ctx, options.maxBodyBytes);
    const { message, replayed } = await acceptLocalMessage({
      messageType,
      targetRegion: ctx.get(TARGET_REGION_HEADER) || undefined,
      document,
      idempotencyKey: ctx.get('idempotency-key') || ctx.get(IDEMPOTENCY_HEADER) || undefined,
    }, accept);
    requestLog(ctx, log).info({ id: message.id, target: message.target, messageType, replayed }, replayed ? 'local message already queued' : 'local message queued');
    ctx.status = 202;
    ctx.set('location', `/local/v1/messages/${message.id}`);
    if (replayed) ctx.set('idempotent-replayed', 'true');
    ctx.body = { id: message.id, status: replayed ? message.status : 'queued' };
  });

  router.get('/local/v1/messages/:id', async (ctx) => {
    const message = await accept.store.outboxGet(ctx.params.id!);
    if (!message) throw new XrError('XR_NOT_FOUND', `no message ${ctx.params.id}`);
    ctx.body = statusDocument(message);
  });

  app.use(requestContext());
  app.use(problemResponder(log));
  app.use(requireRole(options.tokens, ['local']));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

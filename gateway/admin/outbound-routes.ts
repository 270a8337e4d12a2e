/**
 * Admin calls for the outbound side (PROTOCOL §6, §7): the outbox and the partners' circuit breakers.
 *
 *   GET  /admin/v1/outbox?status=&target=&limit=   newest first, status documents (no bodies)
 *   GET  /admin/v1/outbox/counts                   how many messages are in each state
 *   GET  /admin/v1/outbox/{id}                     one message's status document
 *   POST /admin/v1/outbox/{id}/requeue             a failed or dead message back to queued
 *   GET  /admin/v1/breakers                        [{"partner", "state": "closed|open|halfOpen", ...}]
 *   POST /admin/v1/breakers/{region}               {"state": "open" | "closed" | "auto"}
 */
import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import type { Logger } from 'pino';
import { readJsonObject } from '../http/json-body.ts';
import { BREAKER_OVERRIDES, type BreakerOverride, type BreakerView } from '../outbound/breakers.ts';
import { statusDocument } from '../outbound/status-document.ts';
import { XrError } from '../protocol/errors.ts';
import { OUTBOUND_STATUSES, type OutboundStatus, type OutboundSummary, type Store } from '../store/store.ts';
import { requestLog } from '../request-context.ts';

/** What the admin API needs of the delivery side (gateway/outbound/dispatcher.ts). */
export interface OutboundControl {
  breakers(): BreakerView[];
  forceBreaker(region: string, override: BreakerOverride): Promise<BreakerView>;
  requeue(id: string): Promise<OutboundSummary>;
}

export interface OutboundRouteDeps {
  store: Store;
  outbound: OutboundControl;
  log: Logger;
  /** The admin listener's role checks. */
  read: Middleware;
  change: Middleware;
}

const MAX_LIST = 1000;

function listQuery(query: Record<string, string | string[] | undefined>): { status?: OutboundStatus; target?: string; limit: number } {
  const { status, target, limit } = query;
  if (status !== undefined && (typeof status !== 'string' || !(OUTBOUND_STATUSES as readonly string[]).includes(status))) {
    throw new XrError('XR_BAD_REQUEST', `status: one of ${OUTBOUND_STATUSES.join(', ')}`);
  }
  if (target !== undefined && (typeof target !== 'string' || !/^\d{6}$/.test(target))) throw new XrError('XR_BAD_REQUEST', 'target: a six-digit region code');
  const count = limit === undefined ? 100 : Number(limit);
  if (!Number.isInteger(count) || count < 1 || count > MAX_LIST) throw new XrError('XR_BAD_REQUEST', `limit: an integer from 1 to ${MAX_LIST}`);
  return { ...(status === undefined ? {} : { status: status as OutboundStatus }), ...(target === undefined ? {} : { target }), limit: count };
}

export function addOutboundRoutes(router: Router, deps: OutboundRouteDeps): void {
  const { store, outbound, log, read, change } = deps;

  router.get('/admin/v1/outbox', read, async (ctx) => {
    ctx.body = (await store.outboxList(listQuery(ctx.query))).map(statusDocument);
  });

  router.get('/admin/v1/outbox/counts', read, async (ctx) => {
    ctx.body = await store.outboxCounts();
  });

  router.get('/admin/v1/outbox/:id', read, async (ctx) => {
    const message = await store.outboxGet(ctx.params.id!);
    if (!message) throw new XrError('XR_NOT_FOUND', `no outbound message ${ctx.params.id}`);
    ctx.body = statusDocument(message);
  });

  router.post('/admin/v1/outbox/:id/requeue', change, async (ctx) => {
    const message = await outbound.requeue(ctx.params.id!);
    requestLog(ctx, log).info({ id: message.id, target: message.target, admin: ctx.state.role }, 'message requeued');
    ctx.body = statusDocument(message);
  });

  router.get('/admin/v1/breakers', read, (ctx) => {
    ctx.body = outbound.breakers();
  });

  router.post('/admin/v1/breakers/:region', change, async (ctx) => {
    const region = ctx.params.region!;
    const { state } = await readJsonObject(ctx, 4096);
    if (typeof state !== 'string' || !(BREAKER_OVERRIDES as readonly string[]).includes(state)) {
      throw new XrError('XR_BAD_REQUEST', `state: one of ${BREAKER_OVERRIDES.join(', ')}`);
    }
    const view = await outbound.forceBreaker(region, state as BreakerOverride);
    requestLog(ctx, log).warn({ partner: region, override: state, admin: ctx.state.role }, 'circuit breaker overridden');
    ctx.body = view;
  });
}

/**
 * A request id for every log line written while a request is handled, without passing a logger around:
 * the listeners run each request inside an AsyncLocalStorage context, and the logger's mixin (log.ts) adds
 * the id to every line. A caller's own X-Request-Id is kept when it is a sane token; else one is made.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

export interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
export const REQUEST_ID_HEADER = 'x-request-id';

export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** Koa middleware: the first of each listener, so everything after it logs with the request id. */
export function requestContext() {
  return function withRequestId(ctx: Context, next: Next): Promise<void> {
    const given = ctx.get(REQUEST_ID_HEADER);
    const requestId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.set(REQUEST_ID_HEADER, requestId);
    return storage.run({ requestId }, next);
  };
}

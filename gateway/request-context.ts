/**
 * A request id for every log line written while a request is handled: the first middleware of each listener
 * gives the request its id (a caller's own X-Request-Id when it is a sane token, else a new one), answers it
 * in X-Request-Id, and keeps it in `ctx.state`; handlers log through `requestLog(ctx, log)`, a child logger
 * carrying it.
 *
 * Passed explicitly, not through AsyncLocalStorage: on Node 20 an AsyncLocalStorage in use hooks every
 * promise of the process, and that cost ≈ 10 % of inbound throughput (hz-json 1,315–1,324 → 1,445–1,524
 * msg/s, bench/results.md).
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
export const REQUEST_ID_HEADER = 'x-request-id';

interface RequestState {
  requestId?: string;
  requestLog?: Logger;
}

/** Koa middleware: the first of each listener, so everything after it knows the request id. */
export function requestContext() {
  return function withRequestId(ctx: Context, next: Next): Promise<void> {
    const given = ctx.get(REQUEST_ID_HEADER);
    const requestId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.set(REQUEST_ID_HEADER, requestId);
    (ctx.state as RequestState).requestId = requestId;
    return next();
  };
}

/** The request's id (undefined outside a listener's requestContext). */
export function requestIdOf(ctx: Context): string | undefined {
  return (ctx.state as RequestState).requestId;
}

/** `log` with the request's id on every line; made once per request, when it first logs. */
export function requestLog(ctx: Context, log: Logger): Logger {
  const state = ctx.state as RequestState;
  if (state.requestId === undefined) return log;
  state.requestLog ??= log.child({ requestId: state.requestId });
  return state.requestLog;
}

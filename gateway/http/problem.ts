/**
 * The one place where an error becomes HTTP: RFC 9457 problem+json with the PROTOCOL §5 code. Anything
 * that is not an XrError is a bug; it is logged (without the request body) and answered as XR_UPSTREAM (asXrError).
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { requestLog } from '../request-context.ts';
import { XrError, isXrError } from '../protocol/errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  jti?: string;
}

export function problemOf(error: XrError, jti?: string): Problem {
  return {
    type: `urn:xr:error:${error.code}`,
    title: error.title,
    status: error.status,
    code: error.code,
    detail: error.detail,
    ...(jti === undefined ? {} : { jti }),
  };
}

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

export interface ProblemLogger {
  error(fields: object, message: string): void;
}

/** Koa middleware for the local and admin listeners (the partner listener signs its problems: partner/listener.ts). */
export function problemResponder(log: Logger) {
  return async function answerProblems(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new XrError('XR_NOT_FOUND', `no such resource: ${ctx.method} ${ctx.path}`);
      if (ctx.status === 405 && ctx.body === undefined) throw new XrError('XR_BAD_REQUEST', `method ${ctx.method} not allowed on ${ctx.path}`);
    } catch (error) {
      const xr = asXrError(error, requestLog(ctx, log));
      ctx.status = xr.status;
      ctx.set(xr.headers);
      ctx.type = PROBLEM_MEDIA_TYPE;
      ctx.body = JSON.stringify(problemOf(xr));
    }
  };
}

/**
 * Turns anything thrown into an XrError. An unexpected error (a bug) is logged and answered XR_UPSTREAM with
 * the status §5 gives that code, 502, and a detail that reveals nothing: §5 has no code of its own for an
 * internal error, and a client that reads the code and the status together finds them consistent.
 */
export function asXrError(error: unknown, log: ProblemLogger): XrError {
  if (isXrError(error)) return error;
  const status = (error as { status?: unknown }).status;
  if (status === 413) return new XrError('XR_TOO_LARGE', 'the body is over the size limit');
  log.error({ err: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) }, 'unexpected error');
  return new XrError('XR_UPSTREAM', 'internal error in the gateway');
}

/**
 * Every admin call goes into the audit trail: who (the role the token grants and a fingerprint of the token,
 * or that the token was missing or unknown), what (method, path, outcome) and, for a change, the state it
 * touched before and after. A refused call is recorded too — it is the one trace a refused call leaves.
 *
 * This middleware runs outside the problem responder, so it sees the final status and problem code of
 * every call, including 401/403 from the role check and 404 for unknown paths.
 */
import type { Context, Middleware, Next } from 'koa';
import { bearerToken, type TokenTable } from '../http/auth.ts';
import { requestIdOf } from '../request-context.ts';
import { partnerNamedBy } from './admin-state.ts';
import type { AuditLog } from './audit-log.ts';
import { canonicalJson, type JsonValue } from './canonical-json.ts';
import { sha256Hex } from './records.ts';

export interface AdminCallAuditDeps {
  audit: AuditLog;
  tokens: TokenTable;
  /** The state a change at this path can touch (admin-state.ts); compared before and after. */
  stateOf(path: string): Promise<{ partner?: string; state: JsonValue }>;
  /** Paths left out: unauthenticated probes scraped every few seconds (/healthz, /readyz, /metrics). */
  unaudited: ReadonlySet<string>;
  log: { error(fields: object, message: string): void };
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Enough of the token's SHA-256 to tell two tokens of one role apart (after a rotation); not reversible. */
const FINGERPRINT_HEX = 16;

function who(ctx: Context, tokens: TokenTable): JsonValue {
  const token = bearerToken(ctx);
  if (token === undefined) return { role: null, token: 'missing' };
  const roles = tokens.rolesOf(token);
  // A wrong token may be a mistyped real one: nothing of it is kept.
  if (roles.length === 0) return { role: null, token: 'unknown' };
  return { role: roles.length === 1 ? roles[0]! : [...roles], token: sha256Hex(token).slice(0, FINGERPRINT_HEX) };
}

/** The PROTOCOL §5 code of a problem answer (problem.ts sets the body to the problem's JSON text). */
function outcomeOf(ctx: Context): string {
  if (ctx.status < 400) return 'OK';
  try {
    const { code } = JSON.parse(String(ctx.body)) as { code?: unknown };
    if (typeof code === 'string') return code;
  } catch {
    // not a problem document
  }
  return `HTTP_${ctx.status}`;
}

export function auditAdminCalls(deps: AdminCallAuditDeps): Middleware {
  // The call itself must not fail because its state could not be read: the record says so instead.
  const stateOf = async (path: string): Promise<{ partner?: string; state: JsonValue }> => {
    try {
      return await deps.stateOf(path);
    } catch (error) {
      return { state: { unreadable: error instanceof Error ? error.message : String(error) } };
    }
  };
  return async function auditAdminCall(ctx: Context, next: Next): Promise<void> {
    if (deps.unaudited.has(ctx.path)) return next();
    const changing = !READ_METHODS.has(ctx.method);
    const before = changing ? await stateOf(ctx.path) : undefined;
    try {
      await next();
    } finally {
      const after = changing ? await stateOf(ctx.path) : undefined;
      record(ctx, before, after);
    }
  };

  function record(ctx: Context, before: { partner?: string; state: JsonValue } | undefined, after: { state: JsonValue } | undefined): void {
    try {
      deps.audit.append('admin', {
        outcome: outcomeOf(ctx),
        status: ctx.status,
        partner: before?.partner ?? partnerNamedBy(ctx.path),
        who: who(ctx, deps.tokens),
        remote: ctx.ip,
        requestId: requestIdOf(ctx),
        method: ctx.method,
        path: ctx.path.slice(0, 512),
        ...(before === undefined || after === undefined ? {} : {
          before: before.state,
          after: after.state,
          changed: canonicalJson(before.state) !== canonicalJson(after.state),
        }),
      });
    } catch (error) {
      // Only a closed log refuses a record (the gateway is stopping): the answer already stands.
      deps.log.error({ err: error, method: ctx.method, path: ctx.path }, 'admin call not recorded in the audit trail');
    }
  }
}

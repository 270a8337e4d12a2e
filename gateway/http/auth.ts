/**
 * Bearer-token authorisation for the local and admin listeners. Tokens are compared in constant time via
 * their SHA-256 digests, so neither the length nor a prefix of a token leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { XrError } from '../protocol/errors.ts';

export type Role = 'operator' | 'auditor' | 'local';

export interface TokenTable {
  /** The role a presented token grants, or undefined for an unknown token. */
  roleOf(token: string): Role | undefined;
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** @param entries the SHA-256 digest of each token (tokens themselves are never kept) with its role. */
export function tokenTable(entries: ReadonlyArray<readonly [digest: Buffer, role: Role]>): TokenTable {
  const digests = entries;
  return {
    roleOf(token) {
      const presented = tokenDigest(token);
      let found: Role | undefined;
      for (const [known, role] of digests) if (timingSafeEqual(known, presented)) found = role;
      return found;
    },
  };
}

export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** 401 XR_UNAUTHENTICATED, with the challenge RFC 9110 §11.6.1 asks of every 401 (RFC 6750 §3: Bearer). */
export function unauthenticated(): XrError {
  return new XrError('XR_UNAUTHENTICATED', 'a valid bearer token is required', { headers: { 'www-authenticate': 'Bearer realm="xr"' } });
}

/** The role the call's bearer token grants; 401 when it has none or an unknown one. */
export function presentedRole(tokens: TokenTable, ctx: Context): Role {
  const token = bearerToken(ctx);
  const role = token === undefined ? undefined : tokens.roleOf(token);
  if (role === undefined) throw unauthenticated();
  return role;
}

/** Refuses the call unless its token grants one of `allowed`; the granted role is ctx.state.role. */
export function requireRole(tokens: TokenTable, allowed: readonly Role[]) {
  return async function authorise(ctx: Context, next: Next): Promise<void> {
    const role = presentedRole(tokens, ctx);
    if (!allowed.includes(role)) throw new XrError('XR_FORBIDDEN', `the ${role} role may not ${ctx.method} ${ctx.path}`);
    ctx.state.role = role;
    await next();
  };
}

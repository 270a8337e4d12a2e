/**
 * Bearer-token authorisation for the local and admin listeners. Tokens are compared in constant time via
 * their SHA-256 digests, so neither the length nor a prefix of a token leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { XrError } from '../protocol/errors.ts';

export type Role = 'operator' | 'auditor' | 'local';

export interface TokenTable {
  /**
   * The roles a presented token grants, in the table's order; empty for an unknown token. Usually one: a
   * token configured for two roles (XR_ADMIN_TOKEN = XR_LOCAL_TOKEN, warned about at start) grants both.
   */
  rolesOf(token: string): readonly Role[];
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** @param entries the SHA-256 digest of each token (tokens themselves are never kept) with its role. */
export function tokenTable(entries: ReadonlyArray<readonly [digest: Buffer, role: Role]>): TokenTable {
  return {
    rolesOf(token) {
      const presented = tokenDigest(token);
      // Every entry is compared, matched or not: the time taken says nothing about which one matched.
      const roles: Role[] = [];
      for (const [known, role] of entries) if (timingSafeEqual(known, presented) && !roles.includes(role)) roles.push(role);
      return roles;
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

/** The roles the call's bearer token grants; 401 when it has none or an unknown one. */
export function presentedRoles(tokens: TokenTable, ctx: Context): readonly Role[] {
  const token = bearerToken(ctx);
  const roles = token === undefined ? [] : tokens.rolesOf(token);
  if (roles.length === 0) throw unauthenticated();
  return roles;
}

/** Refuses the call unless its token grants one of `allowed`; the granted role is ctx.state.role. */
export function requireRole(tokens: TokenTable, allowed: readonly Role[]) {
  return async function authorise(ctx: Context, next: Next): Promise<void> {
    const roles = presentedRoles(tokens, ctx);
    const role = roles.find((presented) => allowed.includes(presented));
    if (role === undefined) throw new XrError('XR_FORBIDDEN', `the ${roles.join(' and ')} role may not ${ctx.method} ${ctx.path}`);
    ctx.state.role = role;
    await next();
  };
}

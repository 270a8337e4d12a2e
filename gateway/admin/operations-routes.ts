/**
 * Admin calls for operations: the audit trail, metrics and readiness.
 *
 *   GET /admin/v1/audit?from&to&kind&partner&applyNo&outcome&before&limit   newest first (operator, auditor):
 *                                    {"records": [...], "nextBefore": seq | null}
 *   GET /metrics                                                           Prometheus text format, no token
 *   GET /readyz                                                            200 ready / 503 with the failed check, no token
 *
 * /metrics and /readyz take no token, as /healthz: Prometheus and load balancers probe them on the internal
 * admin port, and they reveal no personal data, tokens or keys — counts, states and certificate expiry only.
 * They are left out of the audit trail (a scrape every few seconds would bury the calls that matter).
 */
import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import { AUDIT_KINDS, type AuditKind, type AuditQuery, type ChainedAuditRecord } from '../audit/audit-log.ts';
import type { ReadinessCheck } from '../health.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { XrError } from '../protocol/errors.ts';

/** What the admin listener takes from operations (gateway/operations.ts). */
export interface AdminOperations {
  /** Run before everything else, outside the problem responder: request ids and the audit of every call. */
  middleware: Middleware[];
  addRoutes(router: Router, roles: { read: Middleware; change: Middleware }): void;
}

export interface OperationsRouteDeps {
  /** Everything recorded so far is written before a query reads. */
  auditQuery(query: AuditQuery): Promise<ChainedAuditRecord[]>;
  metrics: GatewayMetrics;
  readiness(): Promise<{ ready: boolean; checks: ReadinessCheck[] }>;
}

export const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

const MAX_LIST = 1000;
const QUERY_MEMBERS = ['from', 'to', 'kind', 'partner', 'applyNo', 'outcome', 'before', 'limit'];

function single(query: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new XrError('XR_BAD_REQUEST', `${name}: give it once`);
  return value;
}

function instant(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw new XrError('XR_BAD_REQUEST', `${name}: an ISO 8601 time, e.g. 2026-11-27T09:30:00+08:00`);
  return new Date(ms).toISOString();
}

function matching(value: string | undefined, pattern: RegExp, name: string, what: string): string | undefined {
  if (value !== undefined && !pattern.test(value)) throw new XrError('XR_BAD_REQUEST', `${name}: ${what}`);
  return value;
}

function counted(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const count = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(count) || count < 1 || count > max) throw new XrError('XR_BAD_REQUEST', `${name}: an integer from 1 to ${max}`);
  return count;
}

export function auditQueryOf(query: Record<string, string | string[] | undefined>): AuditQuery {
  const unknown = Object.keys(query).filter((name) => !QUERY_MEMBERS.includes(name));
  if (unknown.length > 0) throw new XrError('XR_BAD_REQUEST', `unknown query parameter ${unknown[0]}: use ${QUERY_MEMBERS.join(', ')}`);
  const kind = single(query, 'kind');
  if (kind !== undefined && !(AUDIT_KINDS as readonly string[]).includes(kind)) throw new XrError('XR_BAD_REQUEST', `kind: one of ${AUDIT_KINDS.join(', ')}`);
  return {
    from: instant(single(query, 'from'), 'from'),
    to: instant(single(query, 'to'), 'to'),
    kind: kind as AuditKind | undefined,
    partner: matching(single(query, 'partner'), /^\d{6}$/, 'partner', 'a six-digit region code'),
    applyNo: matching(single(query, 'applyNo'), /^[\x21-\x7e]{1,64}$/, 'applyNo', '1 to 64 visible ASCII characters'),
    outcome: matching(single(query, 'outcome'), /^[A-Za-z0-9_]{1,64}$/, 'outcome', 'OK, a code such as XR_REPLAY, or delivered | retry | failed | dead'),
    before: counted(single(query, 'before'), 'before', Number.MAX_SAFE_INTEGER),
    limit: counted(single(query, 'limit'), 'limit', MAX_LIST) ?? 100,
  };
}

export function addOperationsRoutes(router: Router, deps: OperationsRouteDeps, read: Middleware): void {
  router.get('/admin/v1/audit', read, async (ctx) => {
    const query = auditQueryOf(ctx.query);
    const records = await deps.auditQuery(query);
    const last = records.at(-1);
    // The next page: the same query with before=nextBefore.
    ctx.body = { records, nextBefore: records.length === query.limit && last !== undefined && last.seq > 1 ? last.seq : null };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.contentType();
    ctx.body = await deps.metrics.exposition();
  });

  router.get('/readyz', async (ctx) => {
    const { ready, checks } = await deps.readiness();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unready', checks };
  });
}

/**
 * Operations, wired in one place: the audit trail (audit/), metrics (metrics.ts), readiness (health.ts) and
 * request ids in the logs (request-context.ts). server.ts hands each listener its part:
 *
 *   partner listener  onOutcome → xr_messages_total + an inbound audit record;  time → stage histograms
 *   outbound side     every settled attempt → xr_messages_total + an outbound audit record
 *   admin listener    request id and an audit record for every call; /admin/v1/audit, /metrics, /readyz
 */
import path from 'node:path';
import type { Router } from '@koa/router';
import type { Logger } from 'pino';
import type { Signer } from '../certs/jws.ts';
import { addOperationsRoutes, PROBE_PATHS, type AdminOperations } from './admin/operations-routes.ts';
import { auditAdminCalls } from './audit/admin-calls.ts';
import { adminStateReader } from './audit/admin-state.ts';
import type { AuditLog } from './audit/audit-log.ts';
import { inboundEvidence, outboundEvidence } from './audit/records.ts';
import { AUDIT_FILE, SqliteAuditLog } from './audit/sqlite-audit-log.ts';
import type { Directory } from './directory.ts';
import { readiness } from './health.ts';
import type { TokenTable } from './http/auth.ts';
import type { CertificateExpiry } from './keys/expiry.ts';
import { GatewayMetrics } from './metrics.ts';
import type { QueuedMessage } from './local/accept.ts';
import type { DeliveryDispatcher } from './outbound/dispatcher.ts';
import type { InboundOutcome } from './partner/listener.ts';
import { isMessageType } from './protocol/messages.ts';
import { requestContext } from './request-context.ts';
import type { Store } from './store/store.ts';

export interface OperationsDeps {
  ownRegion: string;
  dataDir: string;
  store: Store;
  directory: Directory;
  log: Logger;
  nowMs(): number;
  signer(): Signer;
  adminTokens: TokenTable;
  /** Every certificate the gateway depends on, with its expiry (keys/expiry.ts). */
  certificates(): Promise<readonly CertificateExpiry[]>;
  outbound: Pick<DeliveryDispatcher, 'events' | 'breakers'>;
  /** False while the gateway starts or stops. */
  started(): boolean;
}

export interface Operations {
  audit: AuditLog;
  metrics: GatewayMetrics;
  /** The partner listener's onOutcome. */
  onInbound(outcome: InboundOutcome): void;
  /** A local message was committed to the outbox and answered 202. */
  onQueued(queued: QueuedMessage): void;
  admin: AdminOperations;
  /** Writes every record of events so far. */
  flushAudit(): Promise<void>;
  /** The admin API's routes as registered: what the role tests walk. */
  adminRoutes(): Array<{ methods: string[]; path: string }>;
  close(): Promise<void>;
}

export function startOperations(deps: OperationsDeps): Operations {
  const { store, directory, log } = deps;
  const metrics = new GatewayMetrics({
    nowMs: deps.nowMs,
    breakers: () => deps.outbound.breakers(),
    outboxCounts: () => store.outboxCounts(),
    outboxOldestPendingMs: () => store.outboxOldestPendingMs(),
    certificates: deps.certificates,
    audit: { pending: () => audit.pending(), lastSeq: () => audit.lastSeq() },
  });
  const audit = new SqliteAuditLog(path.join(deps.dataDir, AUDIT_FILE), {
    nowMs: deps.nowMs,
    onWriteError(error, pending) {
      metrics.countAuditWriteError();
      log.error({ err: error, pending }, 'audit batch not written; it stays queued and is retried');
    },
  });

  // Region codes a sender merely claims stay out of metric labels: an unregistered one counts as "unknown".
  const partnerLabel = (region: string | undefined) => (region !== undefined && directory.partner(region) ? region : 'unknown');

  function onInbound(outcome: InboundOutcome): void {
    try {
      metrics.countMessage({
        partner: partnerLabel(outcome.partner),
        type: isMessageType(outcome.messageType) ? outcome.messageType : 'unknown',
        direction: 'inbound',
        outcome: outcome.code,
      });
      audit.appendEvidence(inboundEvidence(outcome));
    } catch (error) {
      // The message has been answered: bookkeeping must not turn that answer into an error.
      log.error({ err: error, jti: outcome.header?.jti }, 'inbound message not recorded');
    }
  }

  function onQueued(queued: QueuedMessage): void {
    audit.appendEvidence(outboundEvidence({
      ...queued, status: 'queued', attempts: 0, lastError: null, receiptStatus: undefined, accepted: true,
    }));
  }

  // A settled attempt carries what its record needs of the message (dispatcher.ts, SettledAttempt): nothing is read back.
  deps.outbound.events.on('settled', (settled) => {
    try {
      const outcome = settled.status === 'queued' ? 'retry' : settled.status;
      metrics.countMessage({ partner: settled.target, type: settled.messageType, direction: 'outbound', outcome });
      audit.appendEvidence(outboundEvidence({
        id: settled.id,
        target: settled.target,
        messageType: settled.messageType,
        status: settled.status,
        attempts: settled.attempts,
        lastError: settled.lastError,
        partnerBody: settled.partnerBody,
        canonical: settled.canonical,
        receiptStatus: settled.receiptStatus,
        wire: settled.wire,
      }));
    } catch (error) {
      // The attempt is settled in the outbox: bookkeeping must not turn that into an error.
      log.error({ err: error, id: settled.id }, 'outbound attempt not recorded');
    }
  });

  const flushAudit = () => audit.flush();

  let adminRouter: Router | undefined;
  const admin: AdminOperations = {
    middleware: [
      requestContext(),
      auditAdminCalls({
        audit,
        tokens: deps.adminTokens,
        stateOf: adminStateReader({ store, breakers: () => deps.outbound.breakers(), signer: deps.signer }),
        unaudited: PROBE_PATHS,
        log,
      }),
    ],
    addRoutes(router, { read }) {
      adminRouter = router;
      addOperationsRoutes(router, {
        auditQuery: async (query) => {
          await flushAudit();
          return audit.query(query);
        },
        metrics,
        readiness: () => readiness({ ownRegion: deps.ownRegion, started: deps.started, signer: deps.signer, store, audit, nowMs: deps.nowMs }),
      }, read);
    },
  };

  return {
    audit,
    metrics,
    onInbound,
    onQueued,
    admin,
    flushAudit,
    adminRoutes: () => (adminRouter?.stack ?? [])
      .filter((layer) => layer.methods.length > 0)
      .map((layer) => ({ methods: layer.methods.filter((method) => method !== 'HEAD'), path: String(layer.path) })),
    async close() {
      await audit.close();
    },
  };
}

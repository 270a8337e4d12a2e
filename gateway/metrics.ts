/**
 * Prometheus metrics (prom-client), one Registry per gateway instance — never the global default — so that
 * several gateways in one process (the tests) keep their own counts. Counters and histograms move with
 * traffic; the gauges of breakers, outbox, certificates and the audit queue are read at scrape time from
 * the functions the gateway hands in.
 *
 *   xr_messages_total{partner,type,direction,outcome}   inbound: OK or the §5 code; outbound: delivered | retry | failed | dead
 *   xr_stage_duration_seconds{stage}                    verify, translate (in and back), forward, sign
 *   xr_breaker_state{partner}                           0 closed, 1 half-open, 2 open
 *   xr_outbox_depth{status}                             messages per outbox status
 *   xr_outbox_oldest_age_seconds                        age of the oldest message still waiting (queued or delivering)
 *   xr_certificate_days_left{scope,region,kid,subject}  signing chains, partners' trust anchors, TLS (keys/expiry.ts)
 *   xr_audit_pending_records, xr_audit_last_seq, xr_audit_write_errors_total
 *   xr_log_lines_dropped_total                          log lines dropped: stdout's reader fell 16 MiB behind (log.ts)
 * plus prom-client's default process and Node.js metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CertificateExpiry } from './keys/expiry.ts';
import { LOG_LIMITS, logLinesDropped } from './log.ts';
import type { StageTimer } from './partner/pipeline.ts';

export type MessageDirection = 'inbound' | 'outbound';
export type BreakerStateName = 'closed' | 'halfOpen' | 'open';

export interface MetricsSources {
  nowMs(): number;
  breakers(): ReadonlyArray<{ partner: string; state: BreakerStateName }>;
  outboxCounts(): Promise<Readonly<Record<string, number>>>;
  /** When the oldest message still waiting for delivery was queued (epoch ms), if there is one. */
  outboxOldestPendingMs(): Promise<number | undefined>;
  certificates(): Promise<readonly CertificateExpiry[]>;
  audit: { pending(): number; lastSeq(): number };
}

const BREAKER_VALUE: Record<BreakerStateName, number> = { closed: 0, halfOpen: 1, open: 2 };
const DAY_MS = 86_400_000;
/** From a fast ES256 verify (≈0.2 ms) to the backend's default timeout (10 s). */
const STAGE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #messages: Counter<'partner' | 'type' | 'direction' | 'outcome'>;
  readonly #stages: Histogram<'stage'>;
  readonly #auditWriteErrors: Counter;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#messages = new Counter({
      name: 'xr_messages_total',
      help: 'XR/1 messages by partner, message type, direction and outcome',
      labelNames: ['partner', 'type', 'direction', 'outcome'],
      registers,
    });
    this.#stages = new Histogram({
      name: 'xr_stage_duration_seconds',
      help: 'Time spent in each stage of the partner pipeline',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.#auditWriteErrors = new Counter({ name: 'xr_audit_write_errors_total', help: 'Audit batches that failed to be written (they are retried)', registers });
    new Counter({
      name: 'xr_log_lines_dropped_total',
      help: `Log lines dropped because the reader of stdout fell more than ${LOG_LIMITS.maxPendingBytes / (1024 * 1024)} MiB behind`,
      registers,
      collect() {
        this.reset();
        this.inc(logLinesDropped());
      },
    });
    new Gauge({
      name: 'xr_breaker_state',
      // Gauges that read shared state give the same value in every worker: across a cluster, the largest
      // (prom-client's AggregatorRegistry), not the sum. The same for the outbox, certificates and audit seq.
      aggregator: 'max',
      help: 'Circuit breaker of each partner endpoint: 0 closed, 1 half-open, 2 open',
      labelNames: ['partner'],
      registers,
      collect() {
        this.reset();
        for (const { partner, state } of sources.breakers()) this.set({ partner }, BREAKER_VALUE[state]);
      },
    });
    new Gauge({
      name: 'xr_outbox_depth',
      aggregator: 'max',
      help: 'Outbound messages in each outbox status',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        for (const [status, count] of Object.entries(await sources.outboxCounts())) this.set({ status }, count);
      },
    });
    new Gauge({
      name: 'xr_outbox_oldest_age_seconds',
      aggregator: 'max',
      help: 'Age of the oldest outbound message not yet delivered, failed or dead (0 when none waits)',
      registers,
      async collect() {
        const oldest = await sources.outboxOldestPendingMs();
        this.set(oldest === undefined ? 0 : Math.max(0, (sources.nowMs() - oldest) / 1000));
      },
    });
    new Gauge({
      name: 'xr_certificate_days_left',
      aggregator: 'max',
      help: 'Days until a certificate expires (negative once expired): scope signing (Huzhou\'s chains), partner (trust anchors), tls',
      labelNames: ['scope', 'region', 'kid', 'subject'],
      registers,
      async collect() {
        this.reset();
        const now = sources.nowMs();
        for (const { scope, region, kid, subject, notAfter } of await sources.certificates()) {
          this.set({ scope, region, kid, subject }, Math.floor(((Date.parse(notAfter) - now) / DAY_MS) * 100) / 100);
        }
      },
    });
    new Gauge({
      name: 'xr_audit_pending_records',
      help: 'Audit records queued and not yet written',
      registers,
      collect() {
        this.set(sources.audit.pending());
      },
    });
    new Gauge({
      name: 'xr_audit_last_seq',
      aggregator: 'max',
      help: 'Sequence number of the last audit record written by this process (never decreases)',
      registers,
      collect() {
        this.set(sources.audit.lastSeq());
      },
    });
  }

  countMessage(labels: { partner: string; type: string; direction: MessageDirection; outcome: string }): void {
    this.#messages.inc(labels);
  }

  countAuditWriteError(): void {
    this.#auditWriteErrors.inc();
  }

  /** The pipeline's StageTimer (partner/pipeline.ts): every run of a stage is one observation, refused or not. */
  readonly time: StageTimer = async (stage, run) => {
    const end = this.#stages.startTimer({ stage });
    try {
      await run();
    } finally {
      end();
    }
  };

  contentType(): string {
    return this.registry.contentType;
  }

  /** In a cluster, the text aggregated over every worker (gateway/cluster.ts); alone, this registry's. */
  #exposition: () => Promise<string> = () => this.registry.metrics();

  useExposition(exposition: () => Promise<string>): void {
    this.#exposition = exposition;
  }

  exposition(): Promise<string> {
    return this.#exposition();
  }
}

/**
 * Metrics across XR_WORKERS: each worker counts its own traffic in its own registry; prom-client's
 * AggregatorRegistry collects them all over the cluster's IPC channel in the primary, which hands the
 * text to the worker serving /metrics. Counters and histograms add up; gauges that read shared state say
 * how they combine (aggregator: 'max', gateway/metrics.ts).
 */
import { AggregatorRegistry, type Registry } from 'prom-client';

/** In a worker: answer the primary's collection requests with this registry. */
export function exposeToCluster(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one adds prom-client's listener for the primary's requests (idempotent).
  new AggregatorRegistry();
}

/** In the primary: the Prometheus text of every worker, aggregated. */
export function clusterAggregator(): () => Promise<string> {
  const aggregator = new AggregatorRegistry();
  return () => aggregator.clusterMetrics();
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CacheResult, MetricsSink } from './request-record.js';

/** The gateway's Prometheus metrics, on a registry of their own. */
export type Metrics = {
  registry: Registry;
  /** What request records feed: upstream calls, cache lookups, dropped items. */
  sink: MetricsSink;
  observeRequest(operation: string, seconds: number): void;
  /** What the anonymous page cache reports (http/page-cache.ts). */
  pageCache: PageCacheMetrics;
};

/** Page cache lookups (as `bff_cache_events_total{cache="page"}`) and the bytes it holds. */
export type PageCacheMetrics = {
  lookup(result: CacheResult): void;
  /** Where the bytes held are read at each scrape. */
  trackStoredBytes(read: () => number): void;
};

/**
 * Builds the metrics (prom-client, the de-facto Node client). Once per process:
 * `processMetrics` adds heap, event-loop lag and the like, which run timers.
 */
export function createMetrics({ processMetrics = false } = {}): Metrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'bff_' });
  const requestDuration = new Histogram({
    name: 'bff_graphql_request_duration_seconds',
    help: 'GraphQL request duration, by operation name.',
    labelNames: ['operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5],
    registers: [registry],
  });
  const callDuration = new Histogram({
    name: 'bff_upstream_call_duration_seconds',
    help: 'Upstream call duration, retries included, by service and outcome.',
    labelNames: ['service', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5],
    registers: [registry],
  });
  const calls = new Counter({
    name: 'bff_upstream_calls_total',
    help: 'Upstream calls by service and outcome (ok, timeout, unavailable, bad_response, rate_limited, circuit_open).',
    labelNames: ['service', 'outcome'],
    registers: [registry],
  });
  const cache = new Counter({
    name: 'bff_cache_events_total',
    help: 'Shared cache lookups by cache and result (hit, miss, stale).',
    labelNames: ['cache', 'result'],
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'bff_upstream_dropped_items_total',
    help: 'Items dropped from upstream payloads for breaking their schema, by service.',
    labelNames: ['service'],
    registers: [registry],
  });
  let readPageBytes = () => 0;
  new Gauge({
    name: 'bff_page_cache_bytes',
    help: 'Bytes held by the anonymous page cache (bodies and keys).',
    registers: [registry],
    collect(this: Gauge) {
      this.set(readPageBytes());
    },
  });

  return {
    registry,
    sink: {
      onCall({ service, durationMs, outcome }) {
        callDuration.observe({ service, outcome }, durationMs / 1000);
        calls.inc({ service, outcome });
      },
      onDroppedItem: (service) => dropped.inc({ service }),
      onCache: (name, result, count = 1) => cache.inc({ cache: name, result }, count),
    },
    observeRequest: (operation, seconds) => requestDuration.observe({ operation }, seconds),
    pageCache: {
      lookup: (result) => cache.inc({ cache: 'page', result }),
      trackStoredBytes: (read) => {
        readPageBytes = read;
      },
    },
  };
}

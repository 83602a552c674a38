import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createClientLabels, type ClientIdentity } from './client-awareness.js';
import { SHED_REASONS, type ShedReason, type Viewer } from '../inbound/admission-decision.js';
import {
  RETRY_OUTCOMES,
  silentSink,
  type CacheName,
  type CacheResult,
  type MetricsSink,
} from './request-record.js';
import {
  createSchemaFieldCounter,
  silentSchemaFieldCounter,
  type SchemaFieldCounter,
} from './schema-field-counter.js';
import { SERVICES } from '../upstreams/services.js';

/** How Redis has been answering lately (src/redis/state-tracker.ts). */
export type RedisState = 'up' | 'down' | 'timeouts';
export const REDIS_STATES: readonly RedisState[] = ['up', 'down', 'timeouts'];

/** What the Redis second level and the rate limit report (process-wide). */
export type SharedStateMetrics = {
  redisState(state: RedisState): void;
  /** A Redis command that failed (`error`) or did not answer in REDIS_TIMEOUT_MS (`timeout`). */
  redisFailure(kind: 'error' | 'timeout'): void;
  /** Lookups answered by a level: this process's memory, or Redis. */
  cacheLevelHit(cache: CacheName, level: 'memory' | 'redis', count?: number): void;
  /** A value in Redis that did not parse or match its schema: treated as a miss. */
  invalidValue(cache: CacheName | 'persisted_query', count?: number): void;
  rateLimited(viewer: 'anonymous' | 'user'): void;
};

export const silentSharedMetrics: SharedStateMetrics = {
  redisState: () => {},
  redisFailure: () => {},
  cacheLevelHit: () => {},
  invalidValue: () => {},
  rateLimited: () => {},
};

/** What admission control reports (src/inbound/admission.ts, shed-reporter.ts). */
export type AdmissionMetrics = {
  shed(reason: ShedReason): void;
  inFlight(count: number): void;
  /** The limits in force (`0`: off), set once by admission. */
  limits(limits: { maxInFlight: number; waitTargetMs: number }): void;
  /** Where the standing-wait gauge reads from at each scrape (the admission's own reading). */
  readStandingWaitFrom(read: () => number): void;
  /** Where the adaptive-limit gauge reads each viewer's limit from at each scrape (`Infinity`, `0`: none). */
  readConcurrencyLimitFrom(read: (viewer: Viewer) => number): void;
};

/** The gateway's Prometheus metrics, on a registry of their own. */
export type Metrics = {
  registry: Registry;
  /** What request records feed: upstream calls, cache lookups, dropped items. */
  sink: MetricsSink;
  observeRequest(operation: string, seconds: number): void;
  shared: SharedStateMetrics;
  /** Every request, rejected ones included, by client (labels bounded by client-awareness.ts) and status. */
  countRequest(request: { client: ClientIdentity | undefined; status: number }): void;
  admission: AdmissionMetrics;
  /** What the anonymous page cache reports (inbound/page-cache.ts). */
  pageCache: PageCacheMetrics;
  /** Schema coordinates each operation selects, by client (plugins/use-schema-usage.ts). */
  schemaFields: SchemaFieldCounter;
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
export function createMetrics({
  processMetrics = false,
  clientNamesMax = 30,
}: { processMetrics?: boolean; clientNamesMax?: number } = {}): Metrics {
  const registry = new Registry();
  // One labeller for every request counted, so the bound on series is one bound.
  const clientLabels = createClientLabels({ maxNames: clientNamesMax });
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
  const retries = new Counter({
    name: 'bff_upstream_retries_total',
    help: 'Retries failed upstream calls were due, by service and outcome (spent: made; refused: over the retry budget, not made; cancelled: the client left during the wait).',
    labelNames: ['service', 'outcome'],
    registers: [registry],
  });
  // Every series from the start, so "refused" over a quiet period reads 0, not "no data".
  for (const service of SERVICES) {
    for (const outcome of RETRY_OUTCOMES) retries.inc({ service, outcome }, 0);
  }
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
  const redisState = new Gauge({
    name: 'bff_redis_state',
    help: 'Redis as this replica sees it: 1 on the current state (up, down, timeouts), 0 on the others.',
    labelNames: ['state'],
    registers: [registry],
  });
  const redisFailures = new Counter({
    name: 'bff_redis_command_failures_total',
    help: 'Redis commands that failed (error) or exceeded REDIS_TIMEOUT_MS (timeout); each one was a cache miss.',
    labelNames: ['kind'],
    registers: [registry],
  });
  const levelHits = new Counter({
    name: 'bff_cache_level_hits_total',
    help: 'Shared cache hits by cache and level (memory: this process, redis: the second level).',
    labelNames: ['cache', 'level'],
    registers: [registry],
  });
  const invalid = new Counter({
    name: 'bff_redis_invalid_values_total',
    help: 'Values read from Redis that did not parse or match their schema (served as misses).',
    labelNames: ['cache'],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'bff_rate_limited_requests_total',
    help: 'Requests refused with 429 RATE_LIMITED, by viewer kind.',
    labelNames: ['viewer'],
    registers: [registry],
  });

  const requests = new Counter({
    name: 'bff_http_requests_total',
    help: 'Requests by client name and version (apollographql-client-name/-version or graphql-client-name/-version; the first CLIENT_NAMES_MAX names, later ones `other`, none sent `none`) and HTTP status, rejected ones included.',
    labelNames: ['client', 'client_version', 'status'],
    registers: [registry],
  });

  const shed = new Counter({
    name: 'bff_requests_shed_total',
    help: `Requests answered 503 OVERLOADED without being served, by reason (${SHED_REASONS.join(', ')}).`,
    labelNames: ['reason'],
    registers: [registry],
  });
  // Every reason from the start, so a rate over a quiet period reads 0, not "no data".
  for (const reason of SHED_REASONS) shed.inc({ reason }, 0);
  const inFlight = new Gauge({
    name: 'bff_requests_in_flight',
    help: 'Requests admitted and not finished (health, readiness and metrics not counted).',
    registers: [registry],
  });
  let readStandingWaitMs: (() => number) | undefined;
  new Gauge({
    name: 'bff_admission_standing_wait_seconds',
    help: "The event loop's standing wait (the least any probe waited over the last interval), as admission control reads it.",
    registers: [registry],
    collect() {
      if (readStandingWaitMs) this.set(readStandingWaitMs() / 1000);
    },
  });
  const waitTarget = new Gauge({
    name: 'bff_admission_wait_target_seconds',
    help: 'The standing wait past which pages are shed; 0: admission off.',
    registers: [registry],
  });
  let readConcurrencyLimit: ((viewer: Viewer) => number) | undefined;
  new Gauge({
    name: 'bff_admission_concurrency_limit',
    help: 'The adaptive in-flight limit in force, by viewer (anonymous, signed_in); 0: none (admission off, or no limit learnt below MAX_IN_FLIGHT).',
    labelNames: ['viewer'],
    registers: [registry],
    collect() {
      if (!readConcurrencyLimit) return;
      for (const viewer of ['anonymous', 'signed_in'] as const) {
        const limit = readConcurrencyLimit(viewer);
        this.set({ viewer }, Number.isFinite(limit) ? limit : 0);
      }
    },
  });
  const inFlightLimit = new Gauge({
    name: 'bff_admission_in_flight_limit',
    help: 'MAX_IN_FLIGHT in force, a ceiling for memory; 0: none.',
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
    shared: {
      redisState(state) {
        for (const each of REDIS_STATES) redisState.set({ state: each }, each === state ? 1 : 0);
      },
      redisFailure: (kind) => redisFailures.inc({ kind }),
      cacheLevelHit: (cache, level, count = 1) => levelHits.inc({ cache, level }, count),
      invalidValue: (cache, count = 1) => invalid.inc({ cache }, count),
      rateLimited: (viewer) => rateLimited.inc({ viewer }),
    },
    sink: {
      onCall({ service, durationMs, outcome }) {
        callDuration.observe({ service, outcome }, durationMs / 1000);
        calls.inc({ service, outcome });
      },
      onRetry: (service, outcome) => retries.inc({ service, outcome }),
      onDroppedItem: (service) => dropped.inc({ service }),
      onCache: (name, result, count = 1) => cache.inc({ cache: name, result }, count),
    },
    observeRequest: (operation, seconds) => requestDuration.observe({ operation }, seconds),
    countRequest: ({ client: identity, status }) => {
      const { client, version } = clientLabels(identity);
      requests.inc({ client, client_version: version, status: String(status) });
    },
    admission: {
      shed: (reason) => shed.inc({ reason }),
      inFlight: (count) => inFlight.set(count),
      limits({ maxInFlight, waitTargetMs }) {
        inFlightLimit.set(maxInFlight);
        waitTarget.set(waitTargetMs / 1000);
      },
      readStandingWaitFrom: (read) => (readStandingWaitMs = read),
      readConcurrencyLimitFrom: (read) => (readConcurrencyLimit = read),
    },
    schemaFields: createSchemaFieldCounter({ registry, clientLabels }),
    pageCache: {
      lookup: (result) => cache.inc({ cache: 'page', result }),
      trackStoredBytes: (read) => {
        readPageBytes = read;
      },
    },
  };
}

/**
 * Metrics that record nothing (`METRICS=false`): every call is a no-op and the
 * registry stays empty, so switching metrics off saves their cost, not only the
 * endpoint.
 */
export function disabledMetrics(): Metrics {
  return {
    registry: new Registry(),
    sink: silentSink,
    observeRequest: () => {},
    shared: silentSharedMetrics,
    countRequest: () => {},
    admission: {
      shed: () => {},
      inFlight: () => {},
      limits: () => {},
      readStandingWaitFrom: () => {},
      readConcurrencyLimitFrom: () => {},
    },
    pageCache: { lookup: () => {}, trackStoredBytes: () => {} },
    schemaFields: silentSchemaFieldCounter,
  };
}

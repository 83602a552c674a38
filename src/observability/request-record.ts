import { ROOT_CONTEXT, type Context, type Tracer } from '@opentelemetry/api';
import type { OperationTypeNode } from 'graphql';
import type { UpstreamErrorCode } from '../errors/vocabulary.js';
import type { ServiceName } from '../upstreams/services.js';
import { requestIdFrom } from './request-id.js';
import { extractTraceContext, TRACING_OFF } from './tracing.js';

/** How an upstream call ended, as metrics and Server-Timing name it. */
export type CallOutcome =
  'ok' | 'timeout' | 'unavailable' | 'bad_response' | 'rate_limited' | 'circuit_open';

export const OUTCOME_OF: Record<UpstreamErrorCode, CallOutcome> = {
  UPSTREAM_TIMEOUT: 'timeout',
  UPSTREAM_UNAVAILABLE: 'unavailable',
  UPSTREAM_BAD_RESPONSE: 'bad_response',
  UPSTREAM_RATE_LIMITED: 'rate_limited',
};

export type UpstreamCall = { service: ServiceName; durationMs: number; outcome: CallOutcome };

/**
 * What became of a retry a failed call was due: made (`spent`), refused by the
 * service's retry budget (`refused`), or given up because the client left while
 * it waited (`cancelled`).
 */
export type RetryOutcome = 'spent' | 'refused' | 'cancelled';
export const RETRY_OUTCOMES: readonly RetryOutcome[] = ['spent', 'refused', 'cancelled'];
export type CacheName = 'promo' | 'catalog' | 'page';
export type CacheResult = 'hit' | 'miss' | 'stale';

/** Process-wide counters that records feed (metrics.ts). Built once and injected. */
export type MetricsSink = {
  onCall(call: UpstreamCall): void;
  onRetry(service: ServiceName, outcome: RetryOutcome): void;
  onDroppedItem(service: ServiceName): void;
  onCache(cache: CacheName, result: CacheResult, count?: number): void;
};

export const silentSink: MetricsSink = {
  onCall: () => {},
  onRetry: () => {},
  onDroppedItem: () => {},
  onCache: () => {},
};

/** One entry of a response's `Server-Timing` header. */
export type TimingEntry = { name: string; durationMs: number; description: string };

/** A field served from a value past its freshness. */
export type StaleNote = {
  path: Array<string | number>;
  ageSeconds: number;
  reason: 'revalidating' | 'upstream_failed';
};

/** A field whose upstream failed and that was answered by its declared fallback. */
export type FallbackNote = {
  path: Array<string | number>;
  fallback: string;
  code: UpstreamErrorCode;
  service: ServiceName;
};

/**
 * Everything one request did, in one place: the upstream client, the loaders and
 * the fallbacks write to it; the plugins read from it (Server-Timing, the log
 * line, `extensions.stale`/`fallbacks`, spans). Process-wide metrics are fed from
 * the same calls, so no layer reports twice.
 */
export class RequestRecord {
  /** `performance.now()` when the request arrived. */
  readonly startedAt = performance.now();
  readonly timings: TimingEntry[] = [];
  readonly stale: StaleNote[] = [];
  readonly fallbacks: FallbackNote[] = [];
  /** List fields tracked by the fallbacks (fallbacks/list-field.ts), by response path. */
  readonly fields: Array<Array<string | number>> = [];
  /**
   * What a shared cache of the whole answer needs to know (inbound/page-cache.ts):
   * the operation's type, and whether its execution reported errors or answered
   * incrementally (use-answer-facts.ts).
   */
  readonly answer: {
    operation: OperationTypeNode | undefined;
    errors: boolean;
    incremental: boolean;
  } = { operation: undefined, errors: false, incremental: false };
  /** Where this request's spans hang: the incoming `traceparent`, then the operation's span. */
  #spanParent: Context;
  #maxAgeMs = Infinity;

  constructor(
    readonly requestId: string,
    /** Epoch ms by which the whole response is due; every upstream call fits inside it. */
    readonly deadlineAt: number,
    /** Aborts when the client goes away. */
    readonly signal: AbortSignal | undefined,
    readonly tracer: Tracer,
    traceContext: Context,
    private readonly metrics: MetricsSink,
    /** The client's request headers: those a service forwards (outbound/forward-headers.ts). */
    readonly clientHeaders: Headers = new Headers(),
  ) {
    this.#spanParent = traceContext;
  }

  /** A record for work outside any HTTP request (tests, benchmarks). */
  static detached({
    deadlineMs = Infinity,
    signal,
    metrics = silentSink,
    tracer = TRACING_OFF,
    clientHeaders,
  }: {
    deadlineMs?: number;
    signal?: AbortSignal;
    metrics?: MetricsSink;
    tracer?: Tracer;
    clientHeaders?: Headers;
  } = {}): RequestRecord {
    return new RequestRecord(
      'detached',
      Date.now() + deadlineMs,
      signal,
      tracer,
      ROOT_CONTEXT,
      metrics,
      clientHeaders,
    );
  }

  get spanParent(): Context {
    return this.#spanParent;
  }

  /** The operation's span started (use-tracing.ts): later spans hang below it. */
  enterSpan(context: Context): void {
    this.#spanParent = context;
  }

  /**
   * How long the answer may be reused: the shortest freshness among the data it
   * used (promo's remaining freshness, the book cache's TTL, popular picks'
   * max-age). `Infinity` until some data says otherwise.
   */
  get maxAgeMs(): number {
    return this.#maxAgeMs;
  }

  /** Data with `ms` of freshness left went into the answer. */
  limitMaxAge(ms: number): void {
    if (ms < this.#maxAgeMs) this.#maxAgeMs = Math.max(0, ms);
  }

  upstreamCall(call: UpstreamCall): void {
    this.metrics.onCall(call);
    this.timings.push({
      name: call.service,
      durationMs: call.durationMs,
      description: call.outcome,
    });
  }

  upstreamRetry(service: ServiceName, outcome: RetryOutcome): void {
    this.metrics.onRetry(service, outcome);
  }

  /** `count` lookups with one result; `timing`: also an entry in Server-Timing. */
  cacheLookup(
    cache: CacheName,
    result: CacheResult,
    { count = 1, durationMs = 0, timing = true } = {},
  ): void {
    this.metrics.onCache(cache, result, count);
    if (timing) this.timings.push({ name: cache, durationMs, description: result });
  }

  droppedItem(service: ServiceName): void {
    this.metrics.onDroppedItem(service);
  }

  servedStale(note: StaleNote): void {
    this.stale.push(note);
  }

  servedFallback(note: FallbackNote): void {
    this.fallbacks.push(note);
  }

  trackField(path: Array<string | number>): void {
    this.fields.push(path);
  }
}

/** Options of `createRequestRecords`. */
export type RequestRecordsOptions = {
  requestDeadlineMs: number;
  metrics: MetricsSink;
  tracer: Tracer;
};

/** The record of each request, made on first ask, the same for every part that asks. */
export type RequestRecords = { of(request: Request): RequestRecord };

export function createRequestRecords({
  requestDeadlineMs,
  metrics,
  tracer,
}: RequestRecordsOptions): RequestRecords {
  const records = new WeakMap<Request, RequestRecord>();
  return {
    of(request) {
      let record = records.get(request);
      if (record === undefined) {
        record = new RequestRecord(
          requestIdFrom(request.headers.get('x-request-id')),
          Date.now() + requestDeadlineMs,
          request.signal,
          tracer,
          extractTraceContext(request.headers),
          metrics,
          request.headers,
        );
        records.set(request, record);
      }
      return record;
    },
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import ky, { HTTPError, type KyInstance } from 'ky';
import {
  UpstreamError,
  type ServiceName,
  type UpstreamErrorCode,
  type UpstreamFailureDetail,
} from '../errors.js';
import type { Logger } from '../logger.js';
import {
  OUTCOME_OF,
  silentObserver,
  type CallOutcome,
  type UpstreamCall,
  type UpstreamObserver,
} from '../observability/observer.js';
import { inSpan, injectTraceContext, type TraceParent } from '../observability/tracing.js';
import { SpanKind } from '@opentelemetry/api';
import { createPooledFetch } from './pooled-fetch.js';
import { BodyTooLargeError, readBody } from './read-body.js';
import { retryAfterMs, sharedMaxAgeMs } from './response-headers.js';

/**
 * How one upstream is called. Each service declares its own in
 * src/upstreams/policies.ts; nothing here falls back on a library default.
 */
export type UpstreamPolicy = {
  /**
   * Budget for one attempt: connect, headers *and* body. ky's own `timeout` stops
   * at the headers, so it is off and this deadline is enforced here instead.
   */
  timeoutMs: number;
  /**
   * Extra attempts after the first. Only for connection errors and 502/503/504
   * (every call is an idempotent GET), and for a 429 whose `Retry-After` fits
   * the time left. Never past the request deadline.
   */
  retries: number;
  /** Wait before retry n: uniformly random in [0, min(maxMs, baseMs·2ⁿ)] ("full jitter"). */
  backoff: { baseMs: number; maxMs: number };
  /**
   * Opens after `threshold` consecutive failed calls (a call counts once, after its
   * retries); lets one probe through after `halfOpenAfterMs`.
   */
  breaker: { threshold: number; halfOpenAfterMs: number };
  /** Largest body accepted. */
  maxBodyBytes: number;
};

/** What one GraphQL request imposes on every upstream call it makes. */
export type CallOptions = {
  /**
   * Epoch ms by which the whole GraphQL response is due. A call gets
   * min(its own timeout, time left) and tells the upstream in `x-request-budget-ms`.
   */
  deadlineAt?: number;
  /** Aborts the call early, e.g. when the client went away. */
  signal?: AbortSignal;
  /** Forwarded as `x-request-id`, to follow one page through every service's logs. */
  requestId?: string;
  /** Hears of every call this request makes (for its Server-Timing header). */
  onCall?: (call: UpstreamCall) => void;
  /** Parent for this call's span; its trace context is sent as `traceparent`. */
  trace?: TraceParent;
};

export type GetJsonOptions = CallOptions & { searchParams?: Record<string, string | number> };

/** A parsed JSON body, and how long a shared cache may reuse it (from Cache-Control). */
export type UpstreamResponse = { data: unknown; maxAgeMs: number | undefined };

/** Request header telling an upstream how many ms it has before its answer is useless. */
export const BUDGET_HEADER = 'x-request-budget-ms';

/** GETs JSON from one upstream; every failure comes out as an `UpstreamError`. */
export type UpstreamClient = {
  readonly service: ServiceName;
  getJson(path: string, options?: GetJsonOptions): Promise<UpstreamResponse>;
};

export type UpstreamClientOptions = {
  service: ServiceName;
  /** Base URL; request paths are relative to it. */
  baseUrl: string;
  policy: UpstreamPolicy;
  logger: Logger;
  /** Source of jitter; tests may pin it. Default `Math.random`. */
  random?: () => number;
  /** Process-wide call events (metrics). Default: none. */
  observer?: UpstreamObserver;
  /** The transport under ky. Default: a keep-alive undici pool for `baseUrl` (pooled-fetch.ts). */
  fetch?: typeof globalThis.fetch;
};

const RETRYABLE_STATUSES = new Set([502, 503, 504]);

export function createUpstreamClient({
  service,
  baseUrl,
  policy,
  logger,
  random = Math.random,
  observer = silentObserver,
  fetch = createPooledFetch(baseUrl).fetch,
}: UpstreamClientOptions): UpstreamClient {
  const http: KyInstance = ky.create({
    fetch,
    prefixUrl: baseUrl,
    headers: { accept: 'application/json' },
    // Retries and timeouts are ours (see UpstreamPolicy); a redirect is a broken
    // contract, not a hop to follow.
    retry: 0,
    timeout: false,
    redirect: 'manual',
    throwHttpErrors: true,
  });
  // For log messages only: what was called, as one URL.
  const base = baseUrl.replace(/\/$/, '');

  // Only failures that say the upstream is unwell count towards opening: not a
  // malformed answer, not rate limiting, not our own deadline or a client leaving.
  const breaker: CircuitBreakerPolicy = circuitBreaker(
    handleWhen(
      (error) =>
        error instanceof UpstreamError &&
        error.upstreamAtFault &&
        (error.code === 'UPSTREAM_UNAVAILABLE' || error.code === 'UPSTREAM_TIMEOUT'),
    ),
    {
      halfOpenAfter: policy.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(policy.breaker.threshold),
    },
  );
  breaker.onBreak(() => logger.warn(`[${service}] circuit opened: calls fail fast`));
  breaker.onHalfOpen(() => logger.info(`[${service}] circuit half-open: probing`));
  breaker.onReset(() => logger.info(`[${service}] circuit closed: upstream recovered`));

  function fail(code: UpstreamErrorCode, message: string, detail: UpstreamFailureDetail = {}) {
    logger.warn(`[${service}] ${code} ${message}`);
    return new UpstreamError(service, code, message, detail);
  }

  /** One HTTP exchange within `budgetMs`. */
  async function attempt(
    path: string,
    options: GetJsonOptions,
    budgetMs: number,
    traceHeaders: Record<string, string>,
  ) {
    const url = `${base}/${path}`;
    // One controller per attempt, its timer cleared as soon as the attempt ends:
    // AbortSignal.timeout/any would leave a timer and listeners behind for every
    // call, firing long after it finished (measured: BENCHMARKS.md).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(`no response within ${budgetMs} ms`, 'TimeoutError'));
    }, budgetMs);
    const onClientGone = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onClientGone();
    else options.signal?.addEventListener('abort', onClientGone, { once: true });
    const { signal } = controller;

    let text: string;
    let maxAgeMs: number | undefined;
    try {
      const response = await http.get(path, {
        searchParams: options.searchParams,
        headers: {
          [BUDGET_HEADER]: String(budgetMs),
          ...(options.requestId !== undefined && { 'x-request-id': options.requestId }),
          ...traceHeaders,
        },
        signal,
      });
      maxAgeMs = sharedMaxAgeMs(response.headers.get('cache-control'));
      text = await readBody(response, policy.maxBodyBytes, signal);
    } catch (cause) {
      const { code, ...detail } = classify(cause, timedOut, budgetMs === policy.timeoutMs);
      throw fail(code, `GET ${url}: ${describe(cause, budgetMs)}`, { ...detail, cause });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onClientGone);
    }
    try {
      return { data: JSON.parse(text) as unknown, maxAgeMs };
    } catch (cause) {
      throw fail('UPSTREAM_BAD_RESPONSE', `GET ${url}: body is not JSON`, { cause });
    }
  }

  return {
    service,

    async getJson(path, options = {}) {
      if (!options.trace) return measuredCall(path, options, {});
      const { tracer, context } = options.trace;
      return inSpan(
        tracer,
        `GET ${service}`,
        context,
        {
          kind: SpanKind.CLIENT,
          attributes: { 'http.request.method': 'GET', 'peer.service': service },
        },
        (spanContext) => {
          const traceHeaders: Record<string, string> = {};
          injectTraceContext(spanContext, traceHeaders);
          return measuredCall(path, options, traceHeaders);
        },
      );
    },
  };

  /** A whole call (breaker, retries), reported to metrics and the request's timings. */
  async function measuredCall(
    path: string,
    options: GetJsonOptions,
    traceHeaders: Record<string, string>,
  ): Promise<UpstreamResponse> {
    const started = performance.now();
    const report = (outcome: CallOutcome) => {
      const event = { service, durationMs: performance.now() - started, outcome };
      observer.onCall(event);
      options.onCall?.(event);
    };
    try {
      // The breaker sees whole calls, retries included: a call that succeeds on
      // its retry is a success, so a noisy-but-working upstream stays closed.
      const response = await breaker.execute(() => withRetries(path, options, traceHeaders));
      report('ok');
      return response;
    } catch (error) {
      if (error instanceof UpstreamError) report(OUTCOME_OF[error.code]);
      if (!(error instanceof BrokenCircuitError)) throw error;
      report('circuit_open');
      // Not logged per call: the breaker logged once when it opened.
      throw new UpstreamError(service, 'UPSTREAM_UNAVAILABLE', 'circuit open', {
        upstreamAtFault: false,
      });
    }
  }

  async function withRetries(
    path: string,
    options: GetJsonOptions,
    traceHeaders: Record<string, string>,
  ): Promise<UpstreamResponse> {
    const deadlineAt = options.deadlineAt ?? Infinity;
    for (let attemptNo = 0; ; attemptNo++) {
      const budgetMs = Math.floor(Math.min(policy.timeoutMs, deadlineAt - Date.now()));
      if (budgetMs <= 0) {
        throw fail('UPSTREAM_TIMEOUT', `GET ${base}/${path}: the request deadline has passed`, {
          upstreamAtFault: false,
        });
      }
      let error: UpstreamError;
      try {
        return await attempt(path, options, budgetMs, traceHeaders);
      } catch (caught) {
        if (!(caught instanceof UpstreamError)) throw caught;
        error = caught;
      }

      const delayMs = retryDelayMs(error, attemptNo, policy, random);
      // Waiting must leave time for the next attempt to be worth making.
      if (delayMs === undefined || Date.now() + delayMs >= deadlineAt) throw error;
      logger.debug(`[${service}] retry ${attemptNo + 1} in ${Math.round(delayMs)} ms`);
      try {
        await sleep(delayMs, undefined, { signal: options.signal, ref: false });
      } catch {
        throw error; // The client left while we waited.
      }
    }
  }
}

// Private helpers.

/** How long to wait before retrying, or `undefined` to give up now. */
function retryDelayMs(
  error: UpstreamError,
  attemptNo: number,
  policy: UpstreamPolicy,
  random: () => number,
): number | undefined {
  if (attemptNo >= policy.retries || !error.upstreamAtFault) return undefined;
  // A 429 is retried only when the upstream says when; without that we fail fast.
  if (error.code === 'UPSTREAM_RATE_LIMITED') return error.retryAfterMs;
  const transient =
    error.code === 'UPSTREAM_UNAVAILABLE' &&
    (error.status === undefined || RETRYABLE_STATUSES.has(error.status));
  if (!transient) return undefined;
  return random() * Math.min(policy.backoff.maxMs, policy.backoff.baseMs * 2 ** attemptNo);
}

function classify(
  error: unknown,
  timedOut: boolean,
  ownTimeout: boolean,
): UpstreamFailureDetail & { code: UpstreamErrorCode } {
  if (timedOut) return { code: 'UPSTREAM_TIMEOUT', upstreamAtFault: ownTimeout };
  if (error instanceof BodyTooLargeError) return { code: 'UPSTREAM_BAD_RESPONSE' };
  if (error instanceof HTTPError) {
    // Free the connection: nobody will read this body.
    void error.response.body?.cancel().catch(() => {});
    const { status, headers } = error.response;
    if (status === 429) {
      return {
        code: 'UPSTREAM_RATE_LIMITED',
        status,
        retryAfterMs: retryAfterMs(headers.get('retry-after')),
      };
    }
    return { code: status >= 500 ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_BAD_RESPONSE', status };
  }
  if (error instanceof Error && error.name === 'AbortError') {
    // Not our deadline: the client went away.
    return { code: 'UPSTREAM_UNAVAILABLE', upstreamAtFault: false };
  }
  // Refused, reset, DNS, or the body stream broke: the service is not reachable.
  return { code: 'UPSTREAM_UNAVAILABLE' };
}

function describe(error: unknown, budgetMs: number): string {
  if (error instanceof HTTPError) return `HTTP ${error.response.status}`;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no complete response within ${budgetMs} ms`;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

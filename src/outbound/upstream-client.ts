import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind, type Context } from '@opentelemetry/api';
import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import ky, { HTTPError, type KyInstance, type Options as KyOptions } from 'ky';
import { upstreamFailure, UpstreamError } from '../errors/upstream-error.js';
import type { Logger } from '../logger.js';
import {
  OUTCOME_OF,
  type CallOutcome,
  type RequestRecord,
} from '../observability/request-record.js';
import { inSpan, injectTraceContext } from '../observability/tracing.js';
import type { UpstreamPolicy } from '../upstreams/policy.js';
import type { ServiceName } from '../upstreams/services.js';
import { classifyFailure, describeFailure } from './classify-failure.js';
import { forwardedHeaders } from './forward-headers.js';
import { createPooledFetch, type PooledFetchInit } from './pooled-fetch.js';
import { readBody } from './read-body.js';
import { createRetryBudget } from './retry-budget.js';
import { sharedMaxAgeMs } from './response-headers.js';
import { retryDelayMs } from './retry-delay.js';

/** What one GraphQL request imposes on every upstream call it makes. */
export type CallOptions = {
  /**
   * The request the call is made for: its deadline (a call gets min(its own
   * timeout, time left) and tells the upstream in `x-request-budget-ms`), its
   * cancellation, its id (sent as `x-request-id`), and where the call is recorded.
   */
  record: RequestRecord;
  /** Parent of this call's span (its trace context is sent as `traceparent`). Default: the record's. */
  parent?: Context;
  /**
   * A load shared by many requests (a cache refill): it gets this deadline instead
   * of the record's, and is not cancelled when the record's client goes away.
   */
  shared?: { deadlineAt: number };
};

export type GetJsonOptions = CallOptions & { searchParams?: Record<string, string | number> };

/** A parsed JSON body, and how long a shared cache may reuse it (from Cache-Control). */
export type UpstreamResponse = { data: unknown; maxAgeMs: number | undefined };

/** Request header telling an upstream how many ms it has before its answer is useless. */
export const BUDGET_HEADER = 'x-request-budget-ms';

/** GETs JSON from one upstream; every failure comes out as an `UpstreamError`. */
export type UpstreamClient = {
  readonly service: ServiceName;
  getJson(path: string, options: GetJsonOptions): Promise<UpstreamResponse>;
};

export type UpstreamClientOptions = {
  service: ServiceName;
  /** Base URL; request paths are relative to it. */
  baseUrl: string;
  policy: UpstreamPolicy;
  logger: Logger;
  /** Source of jitter; tests may pin it. Default `Math.random`. */
  random?: () => number;
  /** Client headers passed on, normalised (`<SERVICE>_FORWARD_HEADERS`). Default: none. */
  forwardHeaders?: readonly string[];
  /**
   * This process's own event loop, as admission reads it: a timeout while it
   * kept ready work waiting is this process's, not the upstream's, and neither
   * opens the breaker nor is retried. Default: none (every timeout is the
   * upstream's).
   */
  ownLoop?: OwnLoop;
};

/** Readings of this process's event loop (admission.ts has both), in ms. */
export type OwnLoop = {
  /** How long ready work waits now: a timeout at ten times this or less is ours. */
  standingWaitMs(): number;
  /** The longest it waited lately (one long turn shows here): at five times or less, ours too. */
  longestWaitMs(): number;
};

export function createUpstreamClient({
  service,
  baseUrl,
  policy,
  logger,
  random = Math.random,
  forwardHeaders = [],
  ownLoop,
}: UpstreamClientOptions): UpstreamClient {
  // Retries this service may make, shared by every request (retry-budget.ts).
  const retryBudget = createRetryBudget(policy.retryBudget);
  const http: KyInstance = ky.create({
    // The transport under ky: a keep-alive undici pool for this origin.
    fetch: createPooledFetch(baseUrl, { tls: policy.tls, connections: policy.maxConnections })
      .fetch,
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

  /** One HTTP exchange within `budgetMs`. */
  async function attempt(path: string, call: Call, budgetMs: number) {
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
    const clientSignal = call.signal;
    const onClientGone = () => controller.abort(clientSignal?.reason);
    if (clientSignal?.aborted) onClientGone();
    else clientSignal?.addEventListener('abort', onClientGone, { once: true });
    const { signal } = controller;

    let text: string;
    let maxAgeMs: number | undefined;
    try {
      const options: KyOptions & PooledFetchInit = {
        headers: {
          // First, so that nothing forwarded could replace the gateway's own (config refuses those too).
          ...call.forwarded,
          [BUDGET_HEADER]: String(budgetMs),
          'x-request-id': call.requestId,
          ...call.traceHeaders,
        },
        // Beside ky's Request, not as ky's `signal`: why, at `PooledFetchInit`.
        callSignal: signal,
      };
      const response = await http.get(path, options);
      maxAgeMs = sharedMaxAgeMs(response.headers.get('cache-control'));
      text = await readBody(response, policy.maxBodyBytes, signal);
    } catch (cause) {
      // Free the connection: nobody will read this body.
      if (cause instanceof HTTPError) void cause.response.body?.cancel().catch(() => {});
      // A timeout while this process's own loop keeps ready work waiting is
      // the process's doing: a call spends several turns of the loop here
      // (sending, the headers, the body), so at a tenth of the budget per turn
      // much of the budget went by in our queue, and an answer may be sitting
      // unread in the socket. Counting it against the upstream would open the
      // breaker of a healthy service whenever this process is overloaded, and
      // fail its fields for the breaker's whole pause after the overload ended
      // (measured at three times the peak: BENCHMARKS.md). Envoy's outlier
      // detection keeps the same split (locally originated errors apart).
      // One long turn counts too, from a fifth of the budget: a cold process
      // taking its first burst of hundreds of pages read no standing wait yet,
      // and its calls' timeouts opened a healthy service's breaker.
      const asked = timedOut && ownLoop !== undefined;
      const waitMs = asked ? ownLoop.standingWaitMs() : 0;
      const longestMs = asked ? ownLoop.longestWaitMs() : 0;
      const ours = waitMs * 10 >= budgetMs || longestMs * 5 >= budgetMs;
      const { code, ...detail } = classifyFailure(
        cause,
        timedOut,
        budgetMs === policy.timeoutMs && !ours,
      );
      const message =
        `GET ${url}: ${describeFailure(cause, budgetMs)}` +
        (ours
          ? ` (this process was saturated: ready work waited ${Math.round(waitMs)} ms, lately up to ${Math.round(longestMs)} ms)`
          : '');
      throw upstreamFailure(logger, service, code, message, { ...detail, cause });
    } finally {
      clearTimeout(timer);
      clientSignal?.removeEventListener('abort', onClientGone);
    }
    try {
      return { data: JSON.parse(text) as unknown, maxAgeMs };
    } catch (cause) {
      throw upstreamFailure(
        logger,
        service,
        'UPSTREAM_BAD_RESPONSE',
        `GET ${url}: body is not JSON`,
        {
          cause,
        },
      );
    }
  }

  return {
    service,

    getJson(path, options) {
      const { record, shared } = options;
      return inSpan(
        record.tracer,
        `GET ${service}`,
        options.parent ?? record.spanParent,
        {
          kind: SpanKind.CLIENT,
          attributes: { 'http.request.method': 'GET', 'peer.service': service },
        },
        (spanContext) => {
          const traceHeaders: Record<string, string> = {};
          injectTraceContext(spanContext, traceHeaders);
          return measuredCall(withQuery(path, options.searchParams), {
            record,
            deadlineAt: shared?.deadlineAt ?? record.deadlineAt,
            signal: shared ? undefined : record.signal,
            requestId: record.requestId,
            traceHeaders,
            forwarded:
              forwardHeaders.length === 0
                ? undefined
                : forwardedHeaders(forwardHeaders, record.clientHeaders),
          });
        },
      );
    },
  };

  /** A whole call (breaker, retries), reported to the request's record. */
  async function measuredCall(path: string, call: Call): Promise<UpstreamResponse> {
    const started = performance.now();
    const report = (outcome: CallOutcome) =>
      call.record.upstreamCall({ service, durationMs: performance.now() - started, outcome });
    try {
      // The breaker sees whole calls, retries included: a call that succeeds on
      // its retry is a success, so a noisy-but-working upstream stays closed.
      const response = await breaker.execute(() => withRetries(path, call));
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

  async function withRetries(path: string, call: Call): Promise<UpstreamResponse> {
    // Calls earn retries; a call the breaker refused never reaches here, so an
    // open circuit earns nothing.
    retryBudget.recordCall();
    for (let attemptNo = 0; ; attemptNo++) {
      const budgetMs = Math.floor(Math.min(policy.timeoutMs, call.deadlineAt - Date.now()));
      if (budgetMs <= 0) {
        const message = `GET ${base}/${path}: the request deadline has passed`;
        throw upstreamFailure(logger, service, 'UPSTREAM_TIMEOUT', message, {
          upstreamAtFault: false,
        });
      }
      let error: UpstreamError;
      try {
        return await attempt(path, call, budgetMs);
      } catch (caught) {
        if (!(caught instanceof UpstreamError)) throw caught;
        error = caught;
      }

      const delayMs = retryDelayMs(error, attemptNo, policy, random);
      // Waiting must leave time for the next attempt to be worth making.
      if (delayMs === undefined || Date.now() + delayMs >= call.deadlineAt) throw error;
      // Asked last, so the budget counts only retries that would otherwise be made.
      if (!retryBudget.trySpend()) {
        call.record.upstreamRetry(service, 'refused');
        throw error;
      }
      logger.debug(`[${service}] retry ${attemptNo + 1} in ${Math.round(delayMs)} ms`);
      try {
        await sleep(delayMs, undefined, { signal: call.signal, ref: false });
      } catch {
        call.record.upstreamRetry(service, 'cancelled');
        throw error; // The client left while we waited.
      }
      call.record.upstreamRetry(service, 'spent');
    }
  }
}

// Private helpers.

/** One call's particulars, resolved from its options and record. */
type Call = {
  /** Where the call and its retries are reported. */
  record: RequestRecord;
  deadlineAt: number;
  signal: AbortSignal | undefined;
  requestId: string;
  traceHeaders: Record<string, string>;
  /** Client headers passed on (normalised), when the service forwards any. */
  forwarded: Record<string, string> | undefined;
};

/**
 * The path with its query string. Built here rather than by ky's `searchParams`,
 * with which ky 1 builds every Request twice (once without the query, once
 * with it): each Request on Node 20 ties its signal to a fresh controller
 * through a `WeakRef` and a finalization registration, which outlive the young
 * generation and die in a major collection (bench/levers.md, issue 20).
 */
function withQuery(path: string, searchParams: GetJsonOptions['searchParams']): string {
  if (searchParams === undefined) return path;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(searchParams)) query.append(name, String(value));
  return `${path}?${query.toString()}`;
}

import ky, { HTTPError, type KyInstance } from 'ky';
import { UpstreamError, type ServiceName, type UpstreamErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { BodyTooLargeError, readBody } from './read-body.js';

/** How the gateway talks to one upstream service. */
export type UpstreamClientOptions = {
  service: ServiceName;
  /** Base URL; request paths are relative to it. */
  baseUrl: string;
  /**
   * Budget for the whole exchange: connect, headers *and* body. ky's own `timeout`
   * stops at the headers, so it is off and this deadline is enforced here instead.
   */
  timeoutMs: number;
  /** Largest body accepted. Default 1 MiB. */
  maxBodyBytes?: number;
  logger: Logger;
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
};

export type GetJsonOptions = CallOptions & { searchParams?: Record<string, string | number> };

/** Request header telling an upstream how many ms it has before its answer is useless. */
export const BUDGET_HEADER = 'x-request-budget-ms';

/** GETs JSON from one upstream; every failure comes out as an `UpstreamError`. */
export type UpstreamClient = {
  readonly service: ServiceName;
  getJson(path: string, options?: GetJsonOptions): Promise<unknown>;
};

export function createUpstreamClient({
  service,
  baseUrl,
  timeoutMs,
  maxBodyBytes = 1024 * 1024,
  logger,
}: UpstreamClientOptions): UpstreamClient {
  const http: KyInstance = ky.create({
    prefixUrl: baseUrl,
    headers: { accept: 'application/json' },
    // Policy stated here, not inherited: no retries (not yet budgeted), our own
    // timeout (see above), and a redirect is a broken contract, not a hop to follow.
    retry: 0,
    timeout: false,
    redirect: 'manual',
    throwHttpErrors: true,
  });

  // For log messages only: what was called, as one URL.
  const base = baseUrl.replace(/\/$/, '');

  return {
    service,
    async getJson(path, options = {}) {
      const url = `${base}/${path}`;
      const budgetMs = Math.floor(
        Math.min(timeoutMs, (options.deadlineAt ?? Infinity) - Date.now()),
      );
      if (budgetMs <= 0) {
        throw fail('UPSTREAM_TIMEOUT', `GET ${url}: the request deadline has passed`, undefined);
      }
      const deadline = AbortSignal.timeout(budgetMs);
      const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;

      let text: string;
      try {
        const response = await http.get(path, {
          searchParams: options.searchParams,
          headers: { [BUDGET_HEADER]: String(budgetMs) },
          signal,
        });
        text = await readBody(response, maxBodyBytes);
      } catch (cause) {
        throw fail(classify(cause, deadline), `GET ${url}: ${describe(cause, budgetMs)}`, cause);
      }

      try {
        return JSON.parse(text) as unknown;
      } catch (cause) {
        throw fail('UPSTREAM_BAD_RESPONSE', `GET ${url}: body is not JSON`, cause);
      }
    },
  };

  function fail(code: UpstreamErrorCode, message: string, cause: unknown): UpstreamError {
    logger.warn(`[${service}] ${code} ${message}`);
    return new UpstreamError(service, code, message, { cause });
  }
}

// Private helpers.

function classify(error: unknown, deadline: AbortSignal): UpstreamErrorCode {
  if (deadline.aborted) return 'UPSTREAM_TIMEOUT';
  if (error instanceof BodyTooLargeError) return 'UPSTREAM_BAD_RESPONSE';
  if (error instanceof HTTPError) {
    // Free the connection: nobody will read this body.
    void error.response.body?.cancel().catch(() => {});
    const { status } = error.response;
    return status >= 500 || status === 429 ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_BAD_RESPONSE';
  }
  // Refused, reset, DNS, or the body stream broke: the service is not reachable.
  return 'UPSTREAM_UNAVAILABLE';
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof HTTPError) return `HTTP ${error.response.status}`;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no complete response within ${timeoutMs} ms`;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

import { DEFAULT_CONNECTIONS } from '../outbound/pooled-fetch.js';
import type { UpstreamTls } from '../outbound/upstream-tls.js';

/**
 * How one upstream is called. Each service declares its own default in its
 * folder (`src/upstreams/<service>/index.ts`); every number can be overridden
 * through the environment (`<SERVICE>_TIMEOUT_MS`, …). Nothing here falls back
 * on a library default.
 */
export type UpstreamPolicy = {
  /**
   * Budget for one attempt: connect, headers *and* body. ky's own `timeout` stops
   * at the headers, so it is off and this deadline is enforced by the client.
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
   * Retries across all requests, over a rolling 10 s: at most `percent`% of
   * calls plus `minPerSecond` per second (outbound/retry-budget.ts). Past it a
   * failed call is not retried.
   */
  retryBudget: { percent: number; minPerSecond: number };
  /**
   * Opens after `threshold` consecutive failed calls (a call counts once, after its
   * retries); lets one probe through after `halfOpenAfterMs`.
   */
  breaker: { threshold: number; halfOpenAfterMs: number };
  /** Largest body accepted. */
  maxBodyBytes: number;
  /** Most sockets open to the service at once; calls past it wait for one, within their budget. */
  maxConnections: number;
  /** A private CA and a client certificate (`<SERVICE>_CA_FILE`, …); unset: Node's defaults. */
  tls?: UpstreamTls | undefined;
};

const MiB = 1024 * 1024;

/**
 * What every service shares unless it says otherwise; each adds its timeout.
 *
 * - Timeouts sit under the 1.5 s request deadline, so a slow upstream costs its
 *   field, not the page.
 * - One retry, jittered over at most 200 ms: enough to ride out a dropped
 *   keep-alive socket or a rolling restart (502/503/504), too little to pile load
 *   on a struggling service.
 * - Retries at most 10% of calls (plus one a second, so a quiet service can
 *   still retry): with half its calls failing, a service sees 1.1× its load,
 *   not 1.5× (Google SRE's retry budget).
 * - The breaker opens after 5 consecutive failures and probes again after 5 s:
 *   a dead upstream then costs nothing, and recovery is noticed within seconds.
 * - Up to 1,024 sockets (pooled-fetch.ts says why): pages waiting on a slow
 *   service are not held back by a pool of ours.
 */
export const SHARED_POLICY = {
  retries: 1,
  backoff: { baseMs: 25, maxMs: 200 },
  retryBudget: { percent: 10, minPerSecond: 1 },
  breaker: { threshold: 5, halfOpenAfterMs: 5000 },
  maxBodyBytes: MiB,
  maxConnections: DEFAULT_CONNECTIONS,
} as const satisfies Omit<UpstreamPolicy, 'timeoutMs'>;

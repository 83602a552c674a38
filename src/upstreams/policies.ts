import type { ServiceName } from '../errors.js';
import type { UpstreamPolicy } from '../http/upstream-client.js';

const MiB = 1024 * 1024;

/**
 * How each upstream is called, by default. Every number is overridable through
 * the environment (see config.ts and the README); the reasons stay here.
 *
 * - Timeouts sit under the 1.5 s request deadline, so a slow upstream costs its
 *   field, not the page. Recommendations get the most: they are computed per user.
 * - One retry, jittered over at most 200 ms: enough to ride out a dropped
 *   keep-alive socket or a rolling restart (502/503/504), too little to pile load
 *   on a struggling service.
 * - The breaker opens after 5 consecutive failures and probes again after 5 s:
 *   a dead upstream then costs nothing, and recovery is noticed within seconds.
 */
const shared = {
  retries: 1,
  backoff: { baseMs: 25, maxMs: 200 },
  breaker: { threshold: 5, halfOpenAfterMs: 5000 },
  maxBodyBytes: MiB,
} as const satisfies Omit<UpstreamPolicy, 'timeoutMs'>;

export const DEFAULT_POLICIES: Record<ServiceName, UpstreamPolicy> = {
  promo: { ...shared, timeoutMs: 800 },
  recommendations: { ...shared, timeoutMs: 1000 },
  catalog: { ...shared, timeoutMs: 800 },
};

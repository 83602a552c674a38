import type { ServiceName, UpstreamErrorCode } from '../errors.js';

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
export type CacheResult = 'hit' | 'miss' | 'stale';

/** Process-wide events, for metrics. Built once and injected (see metrics.ts). */
export type UpstreamObserver = {
  onCall(call: UpstreamCall): void;
  onDroppedItem(service: ServiceName): void;
  onCache(cache: 'promo' | 'catalog', result: CacheResult, count?: number): void;
};

export const silentObserver: UpstreamObserver = {
  onCall: () => {},
  onDroppedItem: () => {},
  onCache: () => {},
};

/** One entry of a response's `Server-Timing` header. */
export type TimingEntry = { name: string; durationMs: number; description: string };

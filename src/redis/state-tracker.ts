import type { Logger } from '../logger.js';
import type { RedisState, SharedStateMetrics } from '../observability/metrics.js';

/** Options of `createStateTracker`. */
export type StateTrackerOptions = { logger: Logger; metrics: SharedStateMetrics };

/** What every Redis command and connection event reports to. */
export type StateTracker = {
  /** Redis answered, failed or timed out; logs only when this changes the state. */
  note(state: RedisState, detail?: string): void;
  readonly state: RedisState | 'unknown';
};

/**
 * Redis's health as this replica sees it. A page never fails because of Redis,
 * so nobody would notice an outage without this: it logs once per change of
 * state (never once per request, which would flood the log during an outage at
 * the worst moment) and keeps the `bff_redis_state` gauge current.
 */
export function createStateTracker({ logger, metrics }: StateTrackerOptions): StateTracker {
  let state: RedisState | 'unknown' = 'unknown';
  return {
    note(next, detail) {
      if (next === state) return;
      const previous = state;
      state = next;
      metrics.redisState(next);
      const why = detail ? `: ${detail}` : '';
      if (next === 'up') {
        logger.info(`Redis is up (was ${previous}): caches and rate limits are shared again`);
      } else {
        logger.warn(
          `Redis is ${next === 'down' ? 'down' : 'answering too slowly'} (was ${previous})${why}; serving from process memory, rate limits per replica`,
        );
      }
    },
    get state() {
      return state;
    },
  };
}

import { UpstreamError } from '../errors/upstream-error.js';
import type { CallOptions } from '../http/upstream-client.js';
import type { Logger } from '../logger.js';
import type { ServiceName } from '../upstreams/registry.js';

/** How old a served value is, how long a fresh one stays fresh, and why it was served stale. */
export type Freshness =
  | { state: 'fresh'; ageMs: number; freshForMs: number }
  | { state: 'stale'; ageMs: number; reason: 'revalidating' | 'upstream_failed' };

export type Cached<T> = { value: T; freshness: Freshness };

/** Options of `createSwrCache`. */
export type SwrCacheOptions<T> = {
  service: ServiceName;
  /**
   * Loads a new value. Shared by every waiting request, so it runs detached from
   * any one of them: the upstream's own timeout bounds it, not a request deadline.
   * `trigger` is the call that started it (for its request id and trace).
   * `maxAgeMs` (from Cache-Control) overrides `ttlMs` when present.
   */
  load: (trigger: CallOptions) => Promise<{ value: T; maxAgeMs: number | undefined }>;
  /** Freshness when `load` gives no max-age. 0: do not keep such values. */
  ttlMs: number;
  /** Past freshness: serve at once and refresh in the background, for this long. */
  staleWhileRevalidateMs: number;
  /** Past freshness: serve when a refresh fails, for this long. Errors are never cached. */
  staleIfErrorMs: number;
  logger: Logger;
  now?: () => number;
};

export type SwrCache<T> = {
  /** The value, waiting at most until the caller's deadline when there is nothing to serve. */
  get(call: CallOptions): Promise<Cached<T>>;
};

/**
 * A one-value cache shared across requests, in the manner of HTTP's
 * `stale-while-revalidate` and `stale-if-error` (RFC 5861). Concurrent misses share
 * one load (single flight); a failed load stores nothing.
 */
export function createSwrCache<T>({
  service,
  load,
  ttlMs,
  staleWhileRevalidateMs,
  staleIfErrorMs,
  logger,
  now = Date.now,
}: SwrCacheOptions<T>): SwrCache<T> {
  let entry: { value: T; storedAt: number; freshUntil: number } | undefined;
  let inflight: Promise<Cached<T>> | undefined;

  function refresh(trigger: CallOptions): Promise<Cached<T>> {
    inflight ??= load(trigger)
      .then(({ value, maxAgeMs }) => {
        const lifetime = maxAgeMs ?? ttlMs;
        const storedAt = now();
        if (lifetime > 0) entry = { value, storedAt, freshUntil: storedAt + lifetime };
        // A value not kept (no-store, or no lifetime) is fresh for no time at all.
        const freshForMs = Math.max(0, lifetime);
        return { value, freshness: { state: 'fresh', ageMs: 0, freshForMs } } as const;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  const stale = (
    from: NonNullable<typeof entry>,
    reason: 'revalidating' | 'upstream_failed',
  ): Cached<T> => ({
    value: from.value,
    freshness: { state: 'stale', ageMs: now() - from.storedAt, reason },
  });

  return {
    async get(call) {
      const current = entry;
      const at = now();
      if (current && at < current.freshUntil) {
        return {
          value: current.value,
          freshness: {
            state: 'fresh',
            ageMs: at - current.storedAt,
            freshForMs: current.freshUntil - at,
          },
        };
      }
      if (current && at < current.freshUntil + staleWhileRevalidateMs) {
        refresh(call).catch((error: unknown) =>
          logger.warn(`[${service}] background refresh failed: ${String(error)}`),
        );
        return stale(current, 'revalidating');
      }
      try {
        return await untilDeadline(refresh(call), call, service);
      } catch (error) {
        const last = entry;
        if (last && now() < last.freshUntil + staleIfErrorMs) {
          logger.warn(`[${service}] serving stale value: ${String(error)}`);
          return stale(last, 'upstream_failed');
        }
        throw error;
      }
    },
  };
}

// Private helpers.

/**
 * Waits for a shared load, but no longer than this caller's deadline or presence:
 * the load goes on for the others (and for the cache).
 */
function untilDeadline<V>(shared: Promise<V>, call: CallOptions, service: ServiceName): Promise<V> {
  const { deadlineAt, signal } = call.record;
  if (deadlineAt === Infinity && signal === undefined) return shared;
  return new Promise<V>((resolve, reject) => {
    const giveUp = (reason: string, upstreamAtFault: boolean) =>
      reject(new UpstreamError(service, 'UPSTREAM_TIMEOUT', reason, { upstreamAtFault }));
    const timer =
      deadlineAt === Infinity
        ? undefined
        : setTimeout(
            () => giveUp('the request deadline passed while waiting for a shared load', false),
            Math.max(0, deadlineAt - Date.now()),
          );
    const onAbort = () => giveUp('the client went away', false);
    signal?.addEventListener('abort', onAbort, { once: true });
    shared.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  });
}

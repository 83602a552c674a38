import { UpstreamError } from '../errors/upstream-error.js';
import type { CallOptions } from '../outbound/upstream-client.js';
import type { Logger } from '../logger.js';
import type { ServiceName } from '../upstreams/services.js';

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
  /** A second level shared by replicas (Redis). Default: none, this process only. */
  shared?: SwrSharedLevel<T> | undefined;
  /** Hears which level served a value without a load (metrics). */
  onHit?: (level: 'memory' | 'redis') => void;
  now?: () => number;
};

/**
 * A stored value with its absolute timestamps, so that every replica reading it
 * decides fresh / stale / expired the same way, whatever its own settings.
 */
export type SwrEntry<T> = {
  value: T;
  storedAt: number;
  /** Served as fresh until then. */
  freshUntil: number;
  /** Past freshness, served at once (and refreshed in the background) until then. */
  revalidateUntil: number;
  /** Past freshness, served when a refresh fails until then. */
  staleIfErrorUntil: number;
};

/** Who refreshes when several replicas share the value (redis-swr-level.ts). */
export type RefreshClaim =
  { kind: 'mine'; release(): void } | { kind: 'theirs' } | { kind: 'unavailable' };

/**
 * A second level shared by replicas (Redis). Each method fails soft: a read
 * that fails is a miss, a claim that cannot be made is `unavailable`.
 */
export type SwrSharedLevel<T> = {
  read(): Promise<SwrEntry<T> | undefined>;
  /** Fire-and-forget. */
  write(entry: SwrEntry<T>): void;
  /** Tries to become the one replica that refreshes (a short lock). */
  claimRefresh(): Promise<RefreshClaim>;
  /**
   * While another replica refreshes: its entry once stored (newer than
   * `storedAfter`), or `undefined` if it gives up, Redis fails, or the claim expires.
   */
  awaitRefresh(storedAfter: number): Promise<SwrEntry<T> | undefined>;
  /** How long a copy in this process is served without asking the shared level again. */
  localTtlMs: number;
};

export type SwrCache<T> = {
  /** The value, waiting at most until the caller's deadline when there is nothing to serve. */
  get(call: CallOptions): Promise<Cached<T>>;
  /**
   * Forgets this process's copy (an operator's purge): the next `get` reads the
   * shared level or loads. A load or read already under way is not kept.
   */
  purge(): void;
};

/**
 * A one-value cache shared across requests, in the manner of HTTP's
 * `stale-while-revalidate` and `stale-if-error` (RFC 5861). Concurrent misses share
 * one load (single flight); a failed load stores nothing.
 *
 * With a `shared` level (Redis), this process's copy is a first level kept at
 * most `localTtlMs` before the shared one is read again; a refresh is claimed
 * across replicas, so one replica calls the upstream and the others pick up
 * its result. Whatever the shared level does, the in-process behaviour remains:
 * a failing shared level is a miss, and single flight falls back to this process.
 */
export function createSwrCache<T>({
  service,
  load,
  ttlMs,
  staleWhileRevalidateMs,
  staleIfErrorMs,
  logger,
  shared,
  onHit,
  now = Date.now,
}: SwrCacheOptions<T>): SwrCache<T> {
  let entry: SwrEntry<T> | undefined;
  /** Until when `entry` is served without reading the shared level. */
  let checkedUntil = -Infinity;
  let inflight: Promise<Cached<T>> | undefined;
  let reading: Promise<boolean> | undefined;
  /**
   * Counts purges: a load or read that started before one may carry what was
   * purged, so it serves its caller but is not kept.
   */
  let generation = 0;

  const adopt = (found: SwrEntry<T> | undefined, startedIn: number) => {
    if (startedIn !== generation) return;
    if (found && (entry === undefined || found.storedAt > entry.storedAt)) entry = found;
  };

  async function loadAndStore(trigger: CallOptions): Promise<Cached<T>> {
    const startedIn = generation;
    const { value, maxAgeMs } = await load(trigger);
    const lifetime = maxAgeMs ?? ttlMs;
    const storedAt = now();
    if (lifetime > 0 && startedIn === generation) {
      const freshUntil = storedAt + lifetime;
      entry = {
        value,
        storedAt,
        freshUntil,
        revalidateUntil: freshUntil + staleWhileRevalidateMs,
        staleIfErrorUntil: freshUntil + staleIfErrorMs,
      };
      checkedUntil = storedAt + (shared?.localTtlMs ?? Infinity);
      shared?.write(entry);
    }
    // A value not kept (no-store, or no lifetime) is fresh for no time at all.
    return { value, freshness: { state: 'fresh', ageMs: 0, freshForMs: Math.max(0, lifetime) } };
  }

  /** One replica loads; the others wait for its result, or load themselves if it fails. */
  async function refreshAcrossReplicas(
    level: SwrSharedLevel<T>,
    trigger: CallOptions,
  ): Promise<Cached<T>> {
    const startedIn = generation;
    const claim = await level.claimRefresh();
    if (claim.kind === 'theirs') {
      const theirs = await level.awaitRefresh(entry?.storedAt ?? -Infinity);
      if (theirs) {
        adopt(theirs, startedIn);
        checkedUntil = now() + level.localTtlMs;
        onHit?.('redis');
        return served(theirs, 'revalidating');
      }
    }
    try {
      return await loadAndStore(trigger);
    } finally {
      if (claim.kind === 'mine') claim.release();
    }
  }

  function refresh(trigger: CallOptions): Promise<Cached<T>> {
    if (inflight) return inflight;
    const started: Promise<Cached<T>> = (
      shared ? refreshAcrossReplicas(shared, trigger) : loadAndStore(trigger)
    ).finally(() => {
      // A purge may have let a newer refresh start meanwhile: that one stays.
      if (inflight === started) inflight = undefined;
    });
    inflight = started;
    return started;
  }

  /**
   * Reads the shared level (one read at a time) and keeps what is newer than
   * ours; says whether the shared level supplied it.
   */
  function readShared(level: SwrSharedLevel<T>): Promise<boolean> {
    if (reading) return reading;
    const startedIn = generation;
    const started: Promise<boolean> = level
      .read()
      .then((found) => {
        const before = entry;
        adopt(found, startedIn);
        if (startedIn === generation) checkedUntil = now() + level.localTtlMs;
        return entry !== before;
      })
      .finally(() => {
        if (reading === started) reading = undefined;
      });
    reading = started;
    return started;
  }

  const served = (from: SwrEntry<T>, reason: 'revalidating' | 'upstream_failed'): Cached<T> => {
    const at = now();
    const ageMs = at - from.storedAt;
    return at < from.freshUntil
      ? {
          value: from.value,
          freshness: { state: 'fresh', ageMs, freshForMs: from.freshUntil - at },
        }
      : { value: from.value, freshness: { state: 'stale', ageMs, reason } };
  };

  return {
    purge() {
      generation += 1;
      entry = undefined;
      checkedUntil = -Infinity;
      inflight = undefined;
      reading = undefined;
    },
    async get(call) {
      let level: 'memory' | 'redis' = 'memory';
      // The shared level is asked once our copy is `localTtlMs` old, or no longer
      // fresh: another replica may have refreshed it already.
      const ours = entry;
      if (shared && (ours === undefined || now() >= ours.freshUntil || now() >= checkedUntil)) {
        level = (await readShared(shared)) ? 'redis' : 'memory';
      }
      const current = entry;
      const at = now();
      if (current && at < current.freshUntil) {
        onHit?.(level);
        return served(current, 'revalidating');
      }
      if (current && at < current.revalidateUntil) {
        refresh(call).catch((error: unknown) =>
          logger.warn(`[${service}] background refresh failed: ${String(error)}`),
        );
        onHit?.(level);
        return served(current, 'revalidating');
      }
      try {
        return await untilDeadline(refresh(call), call, service);
      } catch (error) {
        const last = entry;
        if (last && now() < last.staleIfErrorUntil) {
          logger.warn(`[${service}] serving stale value: ${String(error)}`);
          return served(last, 'upstream_failed');
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

/**
 * A rate as GCRA sees it: one page every `intervalMs` on average, and up to
 * `burst` pages at once from a viewer who has been away.
 */
export type GcraLimit = { intervalMs: number; burst: number };

/** Allowed (and the viewer's new theoretical arrival time to store), or refused and for how long. */
export type GcraDecision =
  { allowed: true; tatMs: number } | { allowed: false; retryAfterMs: number };

/**
 * `perMinute` pages a minute, `burst` of them at once. Throws on a limit that
 * cannot be kept (config.ts validates the variables before this is reached).
 */
export function gcraLimit(perMinute: number, burst: number): GcraLimit {
  if (!(perMinute > 0) || !(burst >= 1 && burst <= perMinute)) {
    throw new RangeError(
      `a GCRA limit needs perMinute > 0 and 1 ≤ burst ≤ perMinute, got ${perMinute} and ${burst}`,
    );
  }
  return { intervalMs: 60_000 / perMinute, burst };
}

/**
 * Float rounding at epoch-millisecond magnitudes (one ulp of 1.7e12 is about
 * 0.0002 ms): a page due exactly on time must not be refused for it.
 */
export const SLACK_MS = 0.01;

/**
 * GCRA, the generic cell rate algorithm (ATM's "virtual scheduling" form of a
 * leaky bucket), as one pure decision: the viewer's whole state is one number,
 * the theoretical arrival time (TAT) of their next page if they kept exactly to
 * the rate. A page at `nowMs` is allowed when, counting it, the viewer is no
 * more than `burst` intervals ahead of schedule; the allowed page moves the TAT
 * one interval on. Unlike a fixed window there is no edge to straddle: within
 * any `w` ms a viewer gets at most `burst + w / intervalMs` pages, so never more
 * than `perMinute + burst` in any minute.
 *
 * `storedTatMs` is undefined for a viewer never seen (or whose TAT expired). The
 * Lua script in redis-gcra.ts is this function, line for line.
 */
export function gcra(
  storedTatMs: number | undefined,
  nowMs: number,
  { intervalMs, burst }: GcraLimit,
): GcraDecision {
  const tat = Math.max(storedTatMs ?? nowMs, nowMs);
  const nextTat = tat + intervalMs;
  const overMs = nextTat - nowMs - burst * intervalMs;
  if (overMs > SLACK_MS) return { allowed: false, retryAfterMs: overMs };
  return { allowed: true, tatMs: nextTat };
}

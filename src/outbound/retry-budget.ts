/** Options of `createRetryBudget`. */
export type RetryBudgetOptions = {
  /** Retries allowed per 100 calls over the window (`<SERVICE>_RETRY_BUDGET_PERCENT`). */
  percent: number;
  /**
   * Retries allowed per second of the window whatever the traffic
   * (`<SERVICE>_RETRY_BUDGET_MIN_PER_SECOND`), so a quiet service can still retry.
   */
  minPerSecond: number;
  /** How far back calls and retries are counted. Default 10 000 ms. */
  windowMs?: number;
  /** Clock in ms; tests inject one. Default `performance.now`. */
  now?: () => number;
};

/** How many retries one upstream may still make, shared by every request calling it. */
export type RetryBudget = {
  /** A call was made (its first attempt): it earns `percent`% of a retry. */
  recordCall(): void;
  /** Whether one more retry fits the budget; when it does, it is counted as spent. */
  trySpend(): boolean;
};

/** Buckets per window: the window slides by a tenth of itself. */
const BUCKETS = 10;

/**
 * A retry budget: over the last `windowMs`, retries ≤ `percent`% of calls +
 * `minPerSecond` × the window's seconds. Past it a failed call is not retried,
 * so a struggling upstream sees at most (1 + percent/100) times its normal load
 * instead of (1 + retries) times, which is what turns a brownout into an outage.
 *
 * The idea is Google SRE's "Handling Overload" (a per-client retry budget of
 * 10% of requests); the shape (percent of calls plus a floor per second over a
 * sliding window of deposits and withdrawals) is Finagle's `RetryBudget`, and
 * gRPC's retry throttling (a token bucket refilled by successes) aims at the
 * same thing. The floor matters: without it, a service called once a minute
 * could never retry a dropped keep-alive socket.
 */
export function createRetryBudget({
  percent,
  minPerSecond,
  windowMs = 10_000,
  now = () => performance.now(),
}: RetryBudgetOptions): RetryBudget {
  const bucketMs = windowMs / BUCKETS;
  // A ring of buckets, each counting the calls and retries of one slice of time.
  const calls = new Array<number>(BUCKETS).fill(0);
  const retries = new Array<number>(BUCKETS).fill(0);
  let current = Math.floor(now() / bucketMs);

  /** Empties the buckets the window slid past, and gives the current one's index. */
  function slide(): number {
    const slice = Math.floor(now() / bucketMs);
    for (let stale = current + 1; stale <= Math.min(slice, current + BUCKETS); stale++) {
      const index = stale % BUCKETS;
      calls[index] = 0;
      retries[index] = 0;
    }
    current = Math.max(current, slice);
    return current % BUCKETS;
  }
  const sum = (counts: number[]) => counts.reduce((total, count) => total + count, 0);
  const floor = (minPerSecond * windowMs) / 1000;

  return {
    recordCall() {
      calls[slide()]! += 1;
    },
    trySpend() {
      const index = slide();
      if (sum(retries) + 1 > (sum(calls) * percent) / 100 + floor) return false;
      retries[index]! += 1;
      return true;
    },
  };
}

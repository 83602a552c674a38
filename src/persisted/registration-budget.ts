/** Options of `createRegistrationBudget`. */
export type RegistrationBudgetOptions = {
  /** New documents registered per minute, process-wide; `0`: none. */
  perMinute: number;
  now?: () => number;
};

/**
 * A token bucket for registrations: up to `perMinute` at once, refilled evenly
 * over the minute. It bounds how fast anyone can push documents through the
 * store, so registering junk cannot churn out the documents real clients use.
 */
export function createRegistrationBudget({
  perMinute,
  now = Date.now,
}: RegistrationBudgetOptions): { take(): boolean } {
  let tokens = perMinute;
  let last = now();
  return {
    take() {
      const at = now();
      tokens = Math.min(perMinute, tokens + ((at - last) / 60_000) * perMinute);
      last = at;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

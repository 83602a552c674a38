import { LRUCache } from 'lru-cache';
import { createRegistrationBudget } from './registration-budget.js';

/** Options of `createClientRegistrationBudgets`. */
export type ClientRegistrationBudgetsOptions = {
  /** New documents one client may register per minute; `0`: none. */
  perMinute: number;
  /** Clients tracked at once; the least recently seen is forgotten first. Default 10,000. */
  maxClients?: number;
  now?: () => number;
};

/**
 * One registration budget per client address, in front of the process-wide one:
 * a single flooder spends its own budget, not everyone's, so it can neither use
 * up the minute's registrations nor churn out the documents real clients use.
 * Bounded: a forgotten client starts again with a full budget, which costs at
 * most one budget per forgotten address.
 */
export function createClientRegistrationBudgets({
  perMinute,
  maxClients = 10_000,
  now = Date.now,
}: ClientRegistrationBudgetsOptions): { take(client: string): boolean } {
  const budgets = new LRUCache<string, { take(): boolean }>({ max: maxClients });
  return {
    take(client) {
      let budget = budgets.get(client);
      if (budget === undefined) {
        budget = createRegistrationBudget({ perMinute, now });
        budgets.set(client, budget);
      }
      return budget.take();
    },
  };
}

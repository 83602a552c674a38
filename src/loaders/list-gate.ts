import type { GraphQLResolveInfo } from 'graphql';
import { usesIncrementalDelivery } from '../execution/incremental.js';

/**
 * Holds a request's book batch until every homepage list that may still add
 * book ids has arrived, so a page costs one catalog call instead of one per
 * list. It costs the page no time: the response waits for the slower list
 * anyway, and its books follow in the same batch as the faster list's.
 *
 * A list that is slow to fail must not starve the others' books, so a batch is
 * held at most until `releaseAt` (epoch ms): the request's deadline less the
 * catalog's own timeout, leaving the catalog its full budget.
 *
 * Not for incremental delivery: when the operation uses `@defer` or `@stream`,
 * an early part must not wait for a deferred list, so lists are not tracked and
 * each gets its own batch, as without the gate.
 */
export class ListGate {
  #pending = 0;
  #held: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #releaseAt: number;

  constructor({ releaseAt = Infinity }: { releaseAt?: number } = {}) {
    this.#releaseAt = releaseAt;
  }

  /** Tracks a list field's result until it settles; returns it unchanged. */
  track<T>(list: Promise<T>, info: GraphQLResolveInfo): Promise<T> {
    const { operation, fragments } = info;
    if ([operation, ...Object.values(fragments)].some(usesIncrementalDelivery)) return list;
    this.#pending++;
    const settled = () => {
      this.#pending--;
      if (this.#pending === 0) this.#release();
    };
    list.then(settled, settled);
    return list;
  }

  /** DataLoader's `batchScheduleFn`: dispatch now-ish, or once the last tracked list is in. */
  readonly schedule = (dispatch: () => void): void => {
    const waitMs = this.#releaseAt - Date.now();
    if (this.#pending === 0 || waitMs <= 0) return afterThisTick(dispatch);
    this.#held.push(dispatch);
    // setTimeout fires at once for anything past 2³¹−1 ms: no release time, no timer.
    if (waitMs < 2 ** 31) this.#timer ??= setTimeout(() => this.#release(), waitMs);
  };

  #release() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const dispatch of this.#held.splice(0)) afterThisTick(dispatch);
  }
}

// Private helpers.

/**
 * DataLoader's own default schedule: after the promise jobs of this tick, so the
 * loads that graphql-js makes while completing a list all join one batch.
 */
function afterThisTick(fn: () => void) {
  void Promise.resolve().then(() => process.nextTick(fn));
}

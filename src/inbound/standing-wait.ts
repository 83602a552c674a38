/** Options of `createStandingWait`. */
export type StandingWaitOptions = {
  /** How long the minimum is taken over, in ms (CoDel's "interval"). */
  intervalMs: number;
  /** How often a probe is sent, in ms. Default 10. */
  everyMs?: number;
};

/** How long work that is ready to run waits for the event loop, as CoDel reads a queue. */
export type StandingWait = {
  /**
   * The smallest wait (ms) any probe saw over the last completed interval: `0`
   * while the loop is idle or catches up now and then, large only when the loop
   * never once emptied its queue over a whole interval. Read during a long
   * turn of the loop, at least the lesser of the last probe's wait and what
   * the probe still waiting has waited so far.
   */
  currentMs(): number;
  /**
   * The longest wait (ms) any probe saw over the current and the last interval,
   * the probe still waiting included: one long turn shows here at once, where
   * `currentMs` rightly reads it as nothing. Not for admission (one pause is
   * not a queue); for telling whether something that timed out just now could
   * have been kept waiting by this process.
   */
  longestMs(): number;
  close(): void;
};

/**
 * The gateway's own queue, measured as CoDel measures a router's (Nichols and
 * Jacobson, "Controlling Queue Delay"; Facebook's "Fail at Scale" applies it to
 * a server's request queue): not how full the queue is, but how long what
 * enters it waits, and only the *minimum* of that over an interval. A burst
 * that the loop works off within the interval leaves the minimum near zero
 * (a good queue); a minimum that stays high means every probe waited, so the
 * loop has more ready work than it can do (a standing queue): admitting more
 * only makes everything already admitted later.
 *
 * The queue is Node's event loop, where every admitted request's callbacks
 * wait their turn. A probe is a timer (the timers phase) that, once it runs,
 * asks for a `setImmediate` (the check phase, after the poll phase has run every
 * I/O callback that was ready): its wait, from when the timer was due to when
 * the immediate ran, is what a request's callback becoming ready at that
 * moment waits: the callbacks queued ahead of it, and the time the loop was
 * blocked. Requests waiting on an upstream queue nothing here, so many slow
 * upstream calls leave it at zero, unlike a limit learnt from round-trip times.
 *
 * One probe at a time, a timer and an immediate every `everyMs`; the timer is
 * `unref`ed, so the probes never keep a stopping process alive.
 *
 * Probes return only between turns, and at two or three times the peak one
 * turn can run for hundreds of milliseconds (a poll phase reading hundreds of
 * requests and answers): a reading made of returned probes alone stayed at the
 * quiet spell's zero for a second or more into a spike, and all that while
 * every request was admitted. So the probe still waiting counts too, for what
 * it has waited so far, and as CoDel asks, only with the one before it: the
 * lesser of the two. A long turn right after a quiet spell (a pause, a burst)
 * follows a probe that waited nothing, and reads as nothing.
 */
export function createStandingWait({
  intervalMs,
  everyMs = 10,
}: StandingWaitOptions): StandingWait {
  let current = 0;
  let intervalStart = performance.now();
  let intervalMin = Number.POSITIVE_INFINITY;
  let intervalMax = 0;
  let lastIntervalMax = 0;
  let probes = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  // When the probe out now was due, and what the last one to return waited.
  let dueAt = Number.POSITIVE_INFINITY;
  let lastWaitMs = 0;

  const record = (waitMs: number, now: number) => {
    lastWaitMs = waitMs;
    intervalMin = Math.min(intervalMin, waitMs);
    intervalMax = Math.max(intervalMax, waitMs);
    probes++;
    // Two probes at least: one probe that waited longer than the interval (a
    // burst, a long pause) shows the queue was long, not that it stayed long;
    // the probe sent right after it tells whether it drained.
    if (now - intervalStart >= intervalMs && probes >= 2) {
      current = intervalMin;
      intervalMin = Number.POSITIVE_INFINITY;
      lastIntervalMax = intervalMax;
      intervalMax = 0;
      probes = 0;
      intervalStart = now;
    }
  };
  const probe = () => {
    dueAt = performance.now() + everyMs;
    timer = setTimeout(() => {
      setImmediate(() => {
        if (closed) return;
        const now = performance.now();
        // Timers may fire up to a millisecond early or late on an idle loop: never below 0.
        record(Math.max(0, now - dueAt), now);
        probe();
      });
    }, everyMs);
    timer.unref();
  };
  probe();

  return {
    currentMs: () => Math.max(current, Math.min(lastWaitMs, performance.now() - dueAt)),
    longestMs: () => Math.max(intervalMax, lastIntervalMax, performance.now() - dueAt),
    close() {
      closed = true;
      dueAt = Number.POSITIVE_INFINITY;
      clearTimeout(timer);
    },
  };
}

/** Options of `createSojourn`. */
export type SojournOptions = {
  /** How long the minimum is taken over, in ms (CoDel's "interval"). */
  intervalMs: number;
  /**
   * Requests an interval needs before its minimum counts. Default 3: one slow
   * request alone (a slow body, a key fetch) is no queue.
   */
  minSamples?: number;
  /** Clock in ms; tests may drive it. Default `performance.now`. */
  now?: () => number;
};

/** How long admitted requests waited before their work ran, read as CoDel reads a queue. */
export type Sojourn = {
  /** One admitted request reached execution `waitedMs` after it arrived. */
  record(waitedMs: number): void;
  /**
   * The smallest wait of the requests that reached execution during the last
   * completed interval; `0` when fewer than `minSamples` did (nothing admitted
   * is queueing).
   */
  currentMs(): number;
};

/**
 * The second reading of the gateway's own queue, beside the loop probe
 * (standing-wait.ts): the sojourn of admitted requests from their arrival to
 * the start of their execution (body read, parse, validation, the token check),
 * which is what Fail at Scale's CoDel measures on a server's request queue. A
 * probe waits at most one turn of the event loop, and turns vary a lot under
 * load (one short turn makes the probe's minimum small while pages take seconds);
 * a request's sojourn spans the several turns its own work takes, so its
 * minimum over an interval stays high exactly while every admitted request
 * queues behind the others. It grows only with this process's own backlog:
 * upstream calls start after execution does, so slow upstreams never raise it.
 */
export function createSojourn({
  intervalMs,
  minSamples = 3,
  now = () => performance.now(),
}: SojournOptions): Sojourn {
  let current = 0;
  let intervalStart = now();
  let intervalMin = Number.POSITIVE_INFINITY;
  let samples = 0;

  /** Closes the intervals that ended; one with too few requests reads 0. */
  const roll = (at: number) => {
    if (at - intervalStart < intervalMs) return;
    const ended = Math.floor((at - intervalStart) / intervalMs);
    current = ended === 1 && samples >= minSamples ? intervalMin : 0;
    intervalMin = Number.POSITIVE_INFINITY;
    samples = 0;
    intervalStart += ended * intervalMs;
  };

  return {
    record(waitedMs) {
      const at = now();
      roll(at);
      intervalMin = Math.min(intervalMin, Math.max(0, waitedMs));
      samples++;
    },
    currentMs() {
      roll(now());
      return current;
    },
  };
}

import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Options of `createEventLoopDelay`. */
export type EventLoopDelayOptions = {
  /** How often Node's timer samples the loop, in ms. Default 10 (as fastify's under-pressure). */
  resolutionMs?: number;
  /** How long one reading averages over, in ms. Default 250. */
  windowMs?: number;
};

/** The event loop's recent delay. */
export type EventLoopDelay = {
  /** Mean delay (ms) over the last completed window: how late timers and I/O callbacks run. */
  currentMs(): number;
  close(): void;
};

/**
 * Event-loop delay as fastify's under-pressure measures it (the mean of
 * `monitorEventLoopDelay` over a window, less the sampling resolution), without
 * fastify: under-pressure is a fastify plugin and the gateway runs on node:http.
 *
 * Windows roll when read, not on a timer of their own: a timer would be late
 * exactly when the loop is busy, and an idle process reads nothing. The mean
 * (not the max) keeps one garbage-collection pause from shedding a whole window;
 * a loop busy with many requests' callbacks raises every sample, so the mean.
 */
export function createEventLoopDelay({
  resolutionMs = 10,
  windowMs = 250,
}: EventLoopDelayOptions = {}): EventLoopDelay {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  let windowStart = performance.now();
  let last = 0;
  return {
    currentMs() {
      const now = performance.now();
      if (now - windowStart >= windowMs) {
        // No sample at all means the timer never ran in the window: the loop was
        // blocked for all of it.
        last =
          histogram.count === 0
            ? now - windowStart
            : Math.max(0, histogram.mean / 1e6 - resolutionMs);
        histogram.reset();
        windowStart = now;
      }
      return last;
    },
    close: () => histogram.disable(),
  };
}

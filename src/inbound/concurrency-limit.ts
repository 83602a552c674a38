/** Options of `createConcurrencyLimit`. */
export type ConcurrencyLimitOptions = {
  /** The standing wait (ms) the limit holds the process under. */
  aimMs: number;
  /** The process's standing wait now, in ms (admission's reading). */
  readWaitMs: () => number;
  /**
   * The share of the time since the last call that the event loop spent
   * working, 0 to 1 (Node's event loop utilisation). Default: never busy.
   */
  readBusy?: () => number;
  /** The highest the limit goes: MAX_IN_FLIGHT, or `Infinity` for none. */
  ceiling: number;
  /** How often the limit is adjusted, in ms. */
  intervalMs: number;
  /**
   * After a cut, how long before the next one, in ms: the wait reading's own
   * window, so that one standing queue is cut for once, not again for every
   * interval its reading still shows it draining.
   */
  holdMs: number;
  /**
   * A request that took longer than this (ms, from admission to its answer)
   * is running late: the limit is cut only while more than `lateShare` of the
   * requests answered over an interval were. The cut also keeps in flight no
   * more than the process answers within it.
   */
  lateMs: number;
  /**
   * The same mark while what is in flight holds steady and the limit refuses
   * nothing (ms): clients at full use whose pages still finish inside it are
   * left alone. Default `lateMs`.
   */
  steadyLateMs?: number;
  /** Default 0.05. */
  lateShare?: number;
  /** From this share of the loop's time at work, the process has no CPU to spare. Default 0.95. */
  busyMark?: number;
  /** The lowest the limit goes. Default 8. */
  floor?: number;
  /** Clock in ms; tests may drive it. Default `performance.now`. */
  now?: () => number;
};

/** How many requests may be in flight at once, learnt from the process's standing wait. */
export type ConcurrencyLimit = {
  /**
   * The limit in force, with `inFlight` requests in flight now (adjusted first
   * if an interval has ended).
   */
  current(inFlight: number): number;
  /**
   * One admission decision was taken with `inFlight` requests in flight (this
   * one not included); `refused` when the limit refused it.
   */
  record(inFlight: number, refused: boolean): void;
  /** An admitted request was answered (or its client went away) `durationMs` after admission. */
  finished(durationMs: number): void;
};

/**
 * An in-flight limit that adapts, as Netflix's concurrency-limits and Envoy's
 * adaptive concurrency filter do, but steered by the gateway's *own* queue
 * (the standing wait, standing-wait.ts and sojourn.ts) where they read round-trip
 * times: a slow upstream lengthens every page without queueing anything here,
 * so it never shrinks this limit.
 *
 * Why a limit at all, when the standing wait already sheds past its target:
 * that rule is all or nothing and lags by its reading's window. At two or three
 * times the peak it admits everything until the reading catches up (hundreds of
 * pages that now share the CPU and all finish late), then refuses everything
 * until the queue drains, and again. A limit turns the same reading into a
 * steady number of pages sharing the CPU: each page that finishes lets one in,
 * so admitted pages keep their pace while the rest are refused at once, for the
 * price of a few header writes each.
 *
 * AIMD, as TCP and concurrency-limits' AIMD limit: while the process is
 * saturated (the wait past the aim, or a loop with no idle moment while what is
 * in flight keeps growing), the limit is cut to what was in flight (and to no
 * more than the process answers within `lateMs` at its present pace), in
 * proportion to how far past the aim (by half at most, by a tenth at least),
 * then held for the reading's window; under the aim, it grows by a tenth while
 * it refuses requests, and doubles while the wait is under half the aim and the
 * loop has idle moments (CPU to spare), back to the ceiling. It also doubles
 * while it refuses, none of the pages answered over the interval ran late, and
 * its queue is answered within a quarter of `lateMs` at the interval's pace:
 * the fill of a closed loop of clients looks like a spike's first moments
 * (pages just arrived, few answered yet), and its cut then took seconds to
 * grow back a tenth at a time, refusing clients whose pages were all in time
 * (TCP's slow start after a timeout; the steps above are its congestion
 * avoidance).
 *
 * A cut also needs pages running late (more than `lateShare` of those answered
 * over the interval took over `lateMs`, or what is in flight would take longer
 * than `lateMs` to be answered at the present pace): a busy loop whose pages
 * still finish well inside their deadline is a process at full use, not an
 * overloaded one, and refusing pages there would only turn clients away.
 * Lateness alone never cuts: pages late for a slow upstream wait on nothing
 * here. While what is in flight holds steady and the limit refuses nothing,
 * late means past `steadyLateMs` instead: clients at full use fill the process
 * once and then wait for their answers, and while those still come inside the
 * deadline there is nothing to protect (a closed loop of 256 clients whose
 * pages took 0.9 to 1.2 s of a 1.5 s deadline had most answers refused at
 * `lateMs`). A queue that grows, or one the limit already holds back, is read
 * against `lateMs`, so a spike is still cut early and its admitted pages keep
 * their pace.
 */
export function createConcurrencyLimit({
  aimMs,
  readWaitMs,
  readBusy = () => 0,
  busyMark = 0.95,
  ceiling,
  intervalMs,
  holdMs,
  lateMs,
  steadyLateMs = lateMs,
  lateShare = 0.05,
  floor = 8,
  now = () => performance.now(),
}: ConcurrencyLimitOptions): ConcurrencyLimit {
  let limit = ceiling;
  let intervalStart = now();
  let holdUntil = Number.NEGATIVE_INFINITY;
  // Over the current interval: the most in flight at its start or at a decision, and whether the limit refused any.
  let peak = 0;
  let bound = false;
  let answered = 0;
  let late = 0;
  let lateWhenSteady = 0;
  // Pages answered per ms, smoothed over intervals (0: none read yet).
  let smoothedPace = 0;
  // The most in flight over the last interval, and for how many intervals running it grew.
  let lastPeak = 0;
  let growing = 0;

  const adjust = (at: number, inFlight: number) => {
    const elapsedMs = at - intervalStart;
    if (elapsedMs < intervalMs) return;
    intervalStart = at;
    peak = Math.max(peak, inFlight);
    const waitMs = readWaitMs();
    // Saturated: work waits for the loop past the aim, or the loop had no idle
    // moment while what is in flight grew two intervals running. The second is
    // a spike of two or three times the peak: each turn stays short, so the wait
    // can stay under its aim, but hundreds of pages share the turns, each needs
    // many, and all finish late. A closed loop of clients at full use fills
    // once, then holds steady, and is left alone. Read from each interval's
    // peak, not from what is in flight at its end: a closed loop's pages are
    // answered in waves, and at 256 clients that one sample swung between 130
    // and 256, which read as growth two intervals running.
    const busy = readBusy() >= busyMark;
    growing = peak > lastPeak + Math.max(floor, lastPeak / 10) ? growing + 1 : 0;
    lastPeak = peak;
    const saturated = waitMs > aimMs || (busy && growing >= 2);
    // Pages show lateness once answered, half a deadline after a spike began.
    // The queue in hand shows it sooner (Little's law): what is in flight takes
    // this long to be answered at the present pace. Read only from `floor`
    // pages answered or more, and it cuts only a saturated process, whose pages
    // wait for the CPU, not for upstreams. A queue that grows, or a limit that
    // refuses, is overload in the making, read against `lateMs`; what holds
    // steady unrefused (a closed loop of clients at full use) is read against
    // the later steady mark. The present pace is the interval's, or its running
    // average if higher (a quarter per interval, whatever its length), so that
    // one interval holding a pause (a major collection, a slow turn of the
    // machine) reads as a shorter queue and sizes no deep cut: without it, a
    // limit that grows back quickly (below) was cut deep again by the first
    // such interval.
    const intervalPace = answered / elapsedMs;
    smoothedPace =
      smoothedPace === 0 ? intervalPace : smoothedPace + (intervalPace - smoothedPace) / 4;
    const pace = Math.max(intervalPace, smoothedPace);
    const drainMs = answered >= floor ? inFlight / pace : 0;
    const steady = growing === 0 && !bound;
    const runningLate = steady
      ? lateWhenSteady > answered * lateShare || drainMs > steadyLateMs
      : late > answered * lateShare || drainMs > lateMs;
    // Doubled back: CPU to spare (the wait under half the aim, idle moments),
    // or refusing while its pages are answered in time from a short queue
    // (read at the interval's own pace: a slowing process does not double),
    // so a cut that went too deep (at a closed loop's fill, read as a spike's
    // start) is undone in a few intervals, not the seconds a tenth at a time takes.
    const idle = waitMs <= aimMs / 2 && !busy;
    const cutTooDeep =
      bound && late === 0 && answered >= floor && peak / intervalPace <= lateMs / 4;
    if (saturated && runningLate) {
      if (at >= holdUntil) {
        const by = Math.min(0.9, Math.max(0.5, aimMs / waitMs));
        // Little's law: no more in flight than the process answers within
        // `lateMs` at its present pace, so that a spike's queue is cut to size
        // in one step rather than halved once per hold.
        const drainable = pace * lateMs;
        limit = Math.max(floor, Math.floor(Math.min(limit, peak, drainable) * by));
        holdUntil = at + holdMs;
      }
    } else if (waitMs > aimMs) {
      // A busy loop whose pages still finish in time: at full use, not overloaded.
    } else if (idle || cutTooDeep) {
      limit = Math.min(ceiling, Math.max(limit, floor) * 2);
    } else if (bound) {
      limit = Math.min(ceiling, Math.max(limit + 1, Math.floor(limit * 1.1)));
    }
    // Each interval's peak starts from what is in flight as it begins: an
    // interval with no decision in it (the process paused, then answered a
    // queue at once) was read as nothing in flight, and its cut went to the floor.
    peak = inFlight;
    bound = false;
    answered = 0;
    late = 0;
    lateWhenSteady = 0;
  };

  return {
    current(inFlight) {
      adjust(now(), inFlight);
      return limit;
    },
    record(inFlight, refused) {
      peak = Math.max(peak, inFlight + (refused ? 0 : 1));
      if (refused) bound = true;
    },
    finished(durationMs) {
      answered++;
      if (durationMs > lateMs) late++;
      if (durationMs > steadyLateMs) lateWhenSteady++;
    },
  };
}

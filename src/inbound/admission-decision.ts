// Whether a request is admitted, as pure decisions: admission.ts and
// use-shed-late-requests.ts act on them; the tests read them as tables.

/** Why a request is shed, as metrics and logs name it. */
export const SHED_REASONS = ['in_flight', 'standing_wait', 'concurrency', 'deadline'] as const;
export type ShedReason = (typeof SHED_REASONS)[number];

/**
 * Who asks, in the order they are shed (Google SRE's "criticality", with two
 * levels). An anonymous page is the same for every visitor: a cache (this
 * replica's, another's, a CDN) or a retry a second later serves it, and crawlers
 * and scripts are among those visitors. A signed-in page is personal, no cache
 * holds it, and the viewer is often in the middle of something (a basket).
 */
export type Viewer = 'anonymous' | 'signed_in';

/** The bounds admission enforces. */
export type AdmissionLimits = {
  /** Whether anything is shed at all (ADMISSION). */
  enabled: boolean;
  /** Most requests in flight at once, a ceiling for memory (MAX_IN_FLIGHT); `0`: none. */
  maxInFlight: number;
  /** The standing wait (ms) past which every page is shed. */
  waitTargetMs: number;
};

/** What the process is doing when a request arrives. */
export type Load = {
  viewer: Viewer;
  /** Requests admitted and not finished yet (this one not included). */
  inFlight: number;
  /** The event loop's standing wait (standing-wait.ts), in ms. */
  standingWaitMs: number;
  /**
   * The adaptive in-flight limit (concurrency-limit.ts), which holds the wait
   * under a quarter of its target once pages run late; anonymous pages may fill
   * `ANONYMOUS_SHARE` of it. `Infinity` (the default): none.
   */
  concurrencyLimit?: number;
};

/**
 * The share of the learnt limit that anonymous pages may fill; the rest is kept
 * for signed-in pages. This is where the order of shedding lives: once the limit
 * binds, anonymous misses are refused first, and while signed-in pages keep
 * coming they take every slot a finished page frees past this share. A pure
 * order of the limit, not of the wait: a process serving only anonymous pages
 * in time refuses none of them (a lower wait target for them once did, at full
 * use with every page inside a fifth of its deadline).
 */
export const ANONYMOUS_SHARE = 0.9;

/**
 * The target, from the one number an operator already chose: the request
 * deadline. A page takes several turns of the event loop (token check,
 * execution, each wave of upstream answers, the response) and waits about the
 * standing wait at each: at full use, closed loops of 128 and 256 clients took
 * 3 to 4 times the reading per page. At a fifth of the deadline a page spends
 * most of its deadline waiting; past it, admitted pages miss theirs. (A tenth
 * once refused 128 clients whose pages all took under 600 ms.)
 */
export function waitTarget(requestDeadlineMs: number): number {
  return requestDeadlineMs / 5;
}

/** The learnt limit as it applies to a viewer: `ANONYMOUS_SHARE` of it for anonymous pages. */
export function viewerLimit(limit: number, viewer: Viewer): number {
  return viewer === 'anonymous' ? Math.floor(limit * ANONYMOUS_SHARE) : limit;
}

/**
 * `null` admits the request; otherwise the reason it is shed. The in-flight
 * ceiling is checked first: it is exact, where the wait is a reading of the
 * recent past. Then the wait past its target (the loop is saturated whatever
 * is in flight: a blocked loop, a burst the limit has not caught up with), then
 * the adaptive limit, which keeps the wait from getting there.
 */
export function shedReason(load: Load, limits: AdmissionLimits): ShedReason | null {
  if (!limits.enabled) return null;
  if (limits.maxInFlight > 0 && load.inFlight >= limits.maxInFlight) return 'in_flight';
  if (load.standingWaitMs > limits.waitTargetMs) return 'standing_wait';
  const limit = viewerLimit(load.concurrencyLimit ?? Number.POSITIVE_INFINITY, load.viewer);
  if (load.inFlight >= limit) return 'concurrency';
  return null;
}

/**
 * Whether a request that has not started executing is too late to start: less
 * than `marginMs` is left before its deadline, so every upstream call would get
 * (nearly) no budget and the page would be fallbacks and nulls, sent late.
 */
export function tooLateToStart({
  deadlineAt,
  now,
  marginMs,
}: {
  deadlineAt: number;
  now: number;
  marginMs: number;
}): boolean {
  return deadlineAt - now < marginMs;
}

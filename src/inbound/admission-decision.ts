// Whether a request is admitted, as pure decisions: admission.ts and
// use-shed-late-requests.ts act on them; the tests read them as tables.

/** Why a request is shed, as metrics and logs name it. */
export const SHED_REASONS = ['in_flight', 'event_loop_delay', 'deadline'] as const;
export type ShedReason = (typeof SHED_REASONS)[number];

/** The bounds admission enforces; `0` turns one off. */
export type AdmissionLimits = {
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Largest event-loop delay (ms) at which new requests are still admitted. */
  maxEventLoopDelayMs: number;
};

/** What the process is doing when a request arrives. */
export type Load = {
  /** Requests admitted and not finished yet (this one not included). */
  inFlight: number;
  /** The event-loop delay of the last sampling window, in ms. */
  eventLoopDelayMs: number;
};

/**
 * `null` admits the request; otherwise the reason it is shed. The in-flight
 * bound is checked first: it is exact, where the delay is a sample of the past.
 */
export function shedReason(load: Load, limits: AdmissionLimits): ShedReason | null {
  if (limits.maxInFlight > 0 && load.inFlight >= limits.maxInFlight) return 'in_flight';
  if (limits.maxEventLoopDelayMs > 0 && load.eventLoopDelayMs > limits.maxEventLoopDelayMs) {
    return 'event_loop_delay';
  }
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

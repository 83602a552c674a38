import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody } from '../errors/vocabulary.js';
import type { AdmissionMetrics } from '../observability/metrics.js';
import {
  shedReason,
  viewerLimit,
  waitTarget,
  type AdmissionLimits,
  type Viewer,
} from './admission-decision.js';
import type { StepAnswer } from './server.js';
import type { ShedReporter } from './shed-reporter.js';
import { createConcurrencyLimit } from './concurrency-limit.js';
import { createSojourn } from './sojourn.js';
import { createStandingWait, type StandingWait } from './standing-wait.js';

/** Options of `createAdmission`. */
export type AdmissionOptions = {
  /** ADMISSION: `false` sheds nothing (requests are still counted, for the gauge). */
  enabled: boolean;
  /** MAX_IN_FLIGHT, a ceiling for memory; `0`: none. */
  maxInFlight: number;
  /** REQUEST_DEADLINE_MS, from which the wait targets follow (admission-decision.ts). */
  requestDeadlineMs: number;
  metrics: AdmissionMetrics;
  reporter: ShedReporter;
  /** `Retry-After` of a shed answer, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** The wait reading; default: `createStandingWait()` over a fifth of the deadline (closed with the admission). */
  standingWait?: StandingWait;
};

/** Admission control: a front step, and what it knows. */
export type Admission = {
  /**
   * Sheds a request (503 `OVERLOADED`) or admits it. A front step (it never
   * waits), and also
   * what the page cache asks on a miss: a hit is never shed for being one of
   * many (it costs less than the refusal would), so admission sits behind it.
   */
  step: (req: IncomingMessage, res: ServerResponse) => false | StepAnswer;
  /**
   * One admitted request reached execution `waitedMs` after it arrived: fed by
   * the late-start check (use-shed-late-requests.ts), read as the sojourn
   * (sojourn.ts, its minimum over a fifteenth of the deadline: 100 ms at 1.5 s,
   * CoDel's own interval).
   */
  recordSojourn(waitedMs: number): void;
  /** Requests admitted, their body read, and not finished. */
  readonly inFlight: number;
  /**
   * How long ready work waits for the event loop now (ms): the reading
   * admission sheds by, read whether or not shedding is on.
   */
  standingWaitMs(): number;
  /** The longest any ready work waited for the event loop lately (ms): one long turn shows here. */
  longestWaitMs(): number;
  close(): void;
};

/**
 * Admission control by the gateway's own saturation, decided before any work
 * is done for a request (no token check, no parsing, no upstream call; only an
 * anonymous page-cache miss has had its body read, to look it up), so an
 * overload is answered at once with "come back shortly" instead of queueing
 * requests that would miss their deadline.
 *
 * What it does not take from Fail at Scale: adaptive LIFO. Node's HTTP server
 * has no request queue of ours to reorder (accepted sockets are served as the
 * loop reads them), and shedding at the door keeps what queue there is short.
 *
 * The signal is the process's standing wait: CoDel on the request queue, as
 * Facebook's "Fail at Scale" describes it, read two ways and shed on either:
 * the event loop's probe (standing-wait.ts) and the sojourn of admitted
 * requests before their execution starts (sojourn.ts), whose minimum over an
 * interval stays high while pages take seconds even when some turns of the
 * loop are short. It rises only
 * when this process has more ready work than CPU, which is the one case where
 * admitting more makes admitted pages late. A limit learnt from latency
 * (Netflix's Gradient2 or Vegas, Envoy's adaptive concurrency) was rejected:
 * they read round-trip times, which grow when an *upstream* slows down, and
 * would then shrink and refuse pages this process could still serve with
 * fallbacks; a fixed in-flight bound is Little's law for one latency, wrong for
 * every other. Requests that are only waiting on upstreams cost nothing here.
 *
 * Order of shedding (Google SRE's criticality): probes never (routes.ts sends
 * them past every front step: an overloaded
 * replica is alive and ready; shedding protects it, and taking every replica
 * out during a fleet-wide spike would be an outage); page-cache hits never for
 * being many; anonymous pages first, once the learnt limit binds (they fill
 * only part of it); signed-in pages last.
 *
 * `maxInFlight` is a ceiling for memory, not for speed. A request counts from
 * when its body has arrived (slow-body clients hold no slot, issue 22 item C):
 * sockets trickling a body in cost a socket each, bounded by REQUEST_TIMEOUT_MS.
 */
export function createAdmission({
  enabled,
  maxInFlight,
  requestDeadlineMs,
  metrics,
  reporter,
  retryAfterSeconds = 1,
  standingWait = createStandingWait({ intervalMs: requestDeadlineMs / 5 }),
}: AdmissionOptions): Admission {
  const sojourn = createSojourn({ intervalMs: requestDeadlineMs / 15 });
  // The process's standing wait, read two ways (either shows a standing queue):
  // the loop probe, which waits about one turn of the loop, and the sojourn of
  // admitted requests before execution, which spans at least two (the body,
  // then parsing and the token check): half of it is one turn's wait.
  const standingWaitMs = () => Math.max(standingWait.currentMs(), sojourn.currentMs() / 2);
  const limits: AdmissionLimits = {
    enabled,
    maxInFlight,
    waitTargetMs: waitTarget(requestDeadlineMs),
  };
  metrics.limits(enabled ? limits : { enabled, maxInFlight: 0, waitTargetMs: 0 });
  metrics.readStandingWaitFrom(standingWaitMs);
  // The adaptive limit holds the wait under a quarter of its target once pages
  // run late (past half their deadline; past 0.8 of it while what is in flight
  // holds steady and nothing is refused), so the target itself is crossed only
  // by what the limit cannot foresee; anonymous pages fill only part of it
  // (admission-decision.ts), so they are refused first. A quarter: the aim
  // stayed where it was (a twentieth of the deadline) when the target rose to
  // a fifth, since at half the target spikes on slow upstreams were cut too
  // late and collapsed (bench/levers.md, fifth pass).
  const ceiling = maxInFlight > 0 ? maxInFlight : Number.POSITIVE_INFINITY;
  const concurrency = createConcurrencyLimit({
    aimMs: limits.waitTargetMs / 4,
    readWaitMs: standingWaitMs,
    readBusy: loopBusy(),
    ceiling,
    intervalMs: requestDeadlineMs / 15,
    holdMs: requestDeadlineMs / 5,
    lateMs: requestDeadlineMs / 2,
    steadyLateMs: requestDeadlineMs * 0.8,
  });
  // The limit learnt so far. At the ceiling nothing is learnt: MAX_IN_FLIGHT
  // alone applies (as `in_flight`), to every viewer alike, and no share of it
  // is kept from anonymous pages (at MAX_IN_FLIGHT=1 none would be left).
  const learntLimit = () => {
    const limit = concurrency.current(inFlight);
    return limit < ceiling ? limit : Number.POSITIVE_INFINITY;
  };
  metrics.readConcurrencyLimitFrom((viewer) => (enabled ? viewerLimit(learntLimit(), viewer) : 0));
  // A shed answer costs a few header writes: its body is built once.
  const body = Buffer.from(errorBody('OVERLOADED'));
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
    'retry-after': String(retryAfterSeconds),
    'cache-control': 'no-store',
  };
  const SHED: StepAnswer = { code: 'OVERLOADED' };
  let inFlight = 0;

  const count = (req: IncomingMessage, res: ServerResponse) => {
    const admittedAt = performance.now();
    let counted = false;
    let finished = false;
    const up = () => {
      if (finished || counted) return;
      counted = true;
      inFlight++;
      metrics.inFlight(inFlight);
    };
    // 'close' follows the end of every response, and a client going away too:
    // counted down exactly once, whichever way the request ends.
    res.once('close', () => {
      finished = true;
      if (!counted) return;
      inFlight--;
      metrics.inFlight(inFlight);
      concurrency.finished(performance.now() - admittedAt);
    });
    // Counted once its body is in (Node's parser sets `complete`; 'end' follows
    // when whoever reads it, yoga or the page cache, has read it all).
    if (bodyPending(req)) req.once('end', up);
    else up();
  };

  const step = (req: IncomingMessage, res: ServerResponse): false | StepAnswer => {
    const reason = shedReason(
      {
        viewer: viewerOf(req),
        inFlight,
        standingWaitMs: standingWaitMs(),
        concurrencyLimit: learntLimit(),
      },
      limits,
    );
    concurrency.record(inFlight, reason === 'concurrency');
    if (reason !== null) {
      reporter.shed(reason);
      res.writeHead(503, headers);
      res.end(body);
      return SHED;
    }
    count(req, res);
    return false;
  };

  return {
    step,
    recordSojourn: sojourn.record,
    get inFlight() {
      return inFlight;
    },
    standingWaitMs,
    longestWaitMs: () => standingWait.longestMs(),
    close: () => standingWait.close(),
  };
}

// Private helpers.

/** As the anonymous rate limit and the token check tell: a blank Authorization is anonymous. */
function viewerOf(req: IncomingMessage): Viewer {
  return (req.headers.authorization ?? '').trim() === '' ? 'anonymous' : 'signed_in';
}

/** Whether part of the request's body has still to arrive. */
function bodyPending(req: IncomingMessage): boolean {
  if (req.complete || req.readableEnded) return false;
  return req.headers['content-length'] !== undefined
    ? req.headers['content-length'] !== '0'
    : req.headers['transfer-encoding'] !== undefined;
}

/**
 * A reader of the event loop's utilisation (Node's `eventLoopUtilization`: the
 * share of time the loop spent outside waiting for I/O) since its last reading.
 */
function loopBusy(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    return utilization;
  };
}

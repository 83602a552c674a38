import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody } from '../errors/vocabulary.js';
import type { AdmissionMetrics } from '../observability/metrics.js';
import { shedReason, type AdmissionLimits } from './admission-decision.js';
import { createEventLoopDelay, type EventLoopDelay } from './event-loop-delay.js';
import { pathOf } from './node-exchange.js';
import type { FrontStep, StepAnswer } from './server.js';
import type { ShedReporter } from './shed-reporter.js';

/** Options of `createAdmission`. */
export type AdmissionOptions = AdmissionLimits & {
  metrics: AdmissionMetrics;
  reporter: ShedReporter;
  /** Paths never counted nor shed. Default `/health`, `/ready`, `/metrics`. */
  exempt?: readonly string[];
  /** `Retry-After` of a shed answer, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** The delay reading; default: `createEventLoopDelay()` (closed with the admission). */
  eventLoopDelay?: EventLoopDelay;
};

/** Admission control: a front step, and what it knows. */
export type Admission = {
  /** The front step: sheds a request (503 `OVERLOADED`) or counts it in flight. */
  step: FrontStep;
  /** Requests admitted and not finished. */
  readonly inFlight: number;
  close(): void;
};

/**
 * Admits or sheds each request before anything else is done for it (no body
 * read, no token check, no upstream call), so a spike is answered at once with
 * "come back shortly" instead of queueing requests that would miss their
 * deadline. Two bounds, either off at `0`: requests in flight (exact; the main
 * bound) and the event-loop delay (a reading of the recent past; it catches CPU
 * pressure the count does not, such as a pod throttled below its usual CPU).
 *
 * A shed answer costs a few header writes: its body is built once. Health,
 * readiness and metrics are never shed or counted: an overloaded replica is
 * still alive and ready, since shedding already protects it, and taking every
 * replica out of rotation during a fleet-wide spike would be an outage.
 */
export function createAdmission({
  maxInFlight,
  maxEventLoopDelayMs,
  metrics,
  reporter,
  exempt = ['/health', '/ready', '/metrics'],
  retryAfterSeconds = 1,
  eventLoopDelay = createEventLoopDelay(),
}: AdmissionOptions): Admission {
  const limits = { maxInFlight, maxEventLoopDelayMs };
  const exemptPaths = new Set(exempt);
  const body = Buffer.from(errorBody('OVERLOADED'));
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
    'retry-after': String(retryAfterSeconds),
    'cache-control': 'no-store',
  };
  let inFlight = 0;
  const SHED: StepAnswer = { code: 'OVERLOADED' };
  metrics.readEventLoopDelayFrom(() => eventLoopDelay.currentMs());

  const step = (req: IncomingMessage, res: ServerResponse): false | StepAnswer => {
    if (exemptPaths.has(pathOf(req.url))) return false;
    const reason = shedReason({ inFlight, eventLoopDelayMs: eventLoopDelay.currentMs() }, limits);
    if (reason !== null) {
      reporter.shed(reason);
      res.writeHead(503, headers);
      res.end(body);
      return SHED;
    }
    inFlight++;
    metrics.inFlight(inFlight);
    // 'close' follows the end of every response, and a client going away too:
    // counted down exactly once, whichever way the request ends.
    res.once('close', () => {
      inFlight--;
      metrics.inFlight(inFlight);
    });
    return false;
  };

  return {
    step,
    get inFlight() {
      return inFlight;
    },
    close: () => eventLoopDelay.close(),
  };
}

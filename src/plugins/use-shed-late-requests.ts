import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import { requestError } from '../errors/vocabulary.js';
import { tooLateToStart } from '../inbound/admission-decision.js';
import type { ShedReporter } from '../inbound/shed-reporter.js';
import type { RequestRecords } from '../observability/request-record.js';

/** Options of `useShedLateRequests`. */
export type ShedLateRequestsOptions = {
  records: RequestRecords;
  reporter: ShedReporter;
  /** A request with less than this left before its deadline is not started, in ms. */
  marginMs: number;
  /**
   * Told, at each execution start, how long the request waited since it
   * arrived (admission's sojourn reading, inbound/sojourn.ts). Default: nobody.
   */
  onSojourn?: (waitedMs: number) => void;
  /** `Retry-After` of the answer, in seconds. Default 1 (as admission.ts). */
  retryAfterSeconds?: number;
};

/**
 * No doomed work: a request whose deadline is (nearly) past by the time it could
 * start is answered 503 `OVERLOADED` instead of being run late. Checked twice:
 * once its body is read (before parsing, validation and the token check), and
 * again just before execution (before any upstream call), since the token check
 * may wait too. Admission bounds how many requests wait; this catches the ones
 * that waited anyway (a slow body, a busy loop, a pause).
 */
export function useShedLateRequests({
  records,
  reporter,
  marginMs,
  onSojourn,
  retryAfterSeconds = 1,
}: ShedLateRequestsOptions): Plugin {
  const late = (request: Request) =>
    tooLateToStart({ deadlineAt: records.of(request).deadlineAt, now: Date.now(), marginMs });
  const overloaded = () => {
    reporter.shed('deadline');
    return {
      errors: [
        requestError('OVERLOADED', {
          headers: { 'Retry-After': String(retryAfterSeconds), 'Cache-Control': 'no-store' },
        }),
      ],
    };
  };
  return {
    onParams({ request, setResult }) {
      if (late(request)) setResult(overloaded());
    },
    onExecute({ args, setResultAndStopExecution }) {
      const { request } = args.contextValue as YogaInitialContext;
      onSojourn?.(performance.now() - records.of(request).startedAt);
      if (late(request)) setResultAndStopExecution(overloaded());
    },
  };
}

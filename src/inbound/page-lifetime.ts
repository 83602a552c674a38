import { OperationTypeNode } from 'graphql';
import type { RequestRecord } from '../observability/request-record.js';

/** What decides whether an answer may be stored, and for how long. */
export type AnswerFacts = {
  status: number;
  contentType: string | null;
  /** A `Set-Cookie` on the answer: it belongs to one client. */
  setsCookie: boolean;
  /** From the request's record (use-cache-control.ts, the fallbacks, the caches). */
  operation: OperationTypeNode | undefined;
  errors: boolean;
  incremental: boolean;
  staleValues: number;
  fallbacks: number;
  /** The shortest freshness among the data the answer used. */
  maxAgeMs: number;
};

/** The facts of an answer, from its response and its request's record. */
export function answerFacts(response: Response, record: RequestRecord): AnswerFacts {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    setsCookie: response.headers.has('set-cookie'),
    operation: record.answer.operation,
    errors: record.answer.errors,
    incremental: record.answer.incremental,
    staleValues: record.stale.length,
    fallbacks: record.fallbacks.length,
    maxAgeMs: record.maxAgeMs,
  };
}

/**
 * How long an answer may be reused, in ms; 0: not at all. Only a complete
 * answer to a query is stored: status 200, single JSON result, no cookie set,
 * no errors, no stale value, no fallback; and never for longer than the freshest data in it
 * allows, nor than `capMs`.
 */
export function reusableForMs(facts: AnswerFacts, capMs: number): number {
  const complete =
    facts.status === 200 &&
    /^application\/(graphql-response\+)?json\b/.test(facts.contentType ?? '') &&
    !facts.setsCookie &&
    facts.operation === OperationTypeNode.QUERY &&
    !facts.errors &&
    !facts.incremental &&
    facts.staleValues === 0 &&
    facts.fallbacks === 0;
  if (!complete) return 0;
  return Math.max(0, Math.min(capMs, facts.maxAgeMs));
}

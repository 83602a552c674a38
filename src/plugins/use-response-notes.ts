import type { Plugin } from 'graphql-yoga';
import type { ServiceName, UpstreamErrorCode } from '../errors.js';

/** A field served from a value past its freshness. */
export type StaleNote = {
  path: Array<string | number>;
  ageSeconds: number;
  reason: 'revalidating' | 'upstream_failed';
};

/** A field whose upstream failed and that was answered by its declared fallback. */
export type FallbackNote = {
  path: Array<string | number>;
  fallback: string;
  code: UpstreamErrorCode;
  service: ServiceName;
};

/** Collected per request in the context; empty in the common case. */
export type ResponseNotes = { stale: StaleNote[]; fallbacks: FallbackNote[] };

/**
 * Puts what the resolvers noted into the response's `extensions.stale` and
 * `extensions.fallbacks`, so clients and dashboards can tell a degraded answer
 * from a healthy one. Nothing is added when there is nothing to say.
 */
export function useResponseNotes(): Plugin<{ notes?: ResponseNotes }> {
  return {
    onExecute({ args }) {
      const notes = (args.contextValue as { notes?: ResponseNotes }).notes;
      return {
        onExecuteDone({ result, setResult }) {
          if (!notes || (notes.stale.length === 0 && notes.fallbacks.length === 0)) return;
          if (Symbol.asyncIterator in result) return; // Incremental delivery: not yet.
          setResult({
            ...result,
            extensions: {
              ...result.extensions,
              ...(notes.stale.length > 0 && { stale: notes.stale }),
              ...(notes.fallbacks.length > 0 && { fallbacks: notes.fallbacks }),
            },
          });
        },
      };
    },
  };
}

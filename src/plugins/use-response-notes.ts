import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { RequestRecords } from '../observability/request-record.js';

/** Options of `useResponseNotes`. */
export type ResponseNotesOptions = {
  /** Where the fallbacks wrote what they served (request-record.ts). */
  records: RequestRecords;
};

/**
 * Puts the stale values and fallbacks a request served into the response's
 * `extensions.stale` and `extensions.fallbacks`, so clients and dashboards can
 * tell a degraded answer from a healthy one. Nothing is added when there is
 * nothing to say.
 */
export function useResponseNotes({ records }: ResponseNotesOptions): Plugin {
  return {
    onExecute({ args }) {
      const { request } = args.contextValue as YogaInitialContext;
      const record = records.of(request);
      return {
        onExecuteDone({ result, setResult }) {
          const { stale, fallbacks } = record;
          if (stale.length === 0 && fallbacks.length === 0) return;
          if (Symbol.asyncIterator in result) return; // Incremental delivery: not yet.
          setResult({
            ...result,
            extensions: {
              ...result.extensions,
              ...(stale.length > 0 && { stale }),
              ...(fallbacks.length > 0 && { fallbacks }),
            },
          });
        },
      };
    },
  };
}

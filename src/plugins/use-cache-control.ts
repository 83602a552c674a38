import { getOperationAST, OperationTypeNode } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { RequestRecords } from '../observability/request-record.js';

/** Options of `useCacheControl`. */
export type CacheControlOptions = {
  /** Where the facts about each answer are written (request-record.ts). */
  records: RequestRecords;
};

/** What every answer says unless the page cache found it reusable. */
export const PRIVATE_NO_STORE = 'private, no-store';

/**
 * Two halves of one policy, "only a complete anonymous query answer is ever
 * shared": notes on the request's record what the page cache needs to decide
 * (the operation's type, whether execution reported errors, whether the answer
 * is incremental), and marks every response `Cache-Control: private, no-store`
 * unless something already said otherwise. The page cache (inbound/page-cache.ts)
 * replaces that header on the answers it stores; nothing else is ever public.
 */
export function useCacheControl({ records }: CacheControlOptions): Plugin {
  return {
    onExecute({ args }) {
      const { request } = args.contextValue as YogaInitialContext;
      const { answer } = records.of(request);
      const operation = getOperationAST(args.document, args.operationName)?.operation;
      // A batch is only as shareable as its least shareable operation.
      if (answer.operation === undefined || answer.operation === OperationTypeNode.QUERY) {
        answer.operation = operation;
      }
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result) answer.incremental = true;
          else if (result.errors !== undefined && result.errors.length > 0) answer.errors = true;
        },
      };
    },
    onResponse({ response }) {
      if (!response.headers.has('cache-control')) {
        response.headers.set('cache-control', PRIVATE_NO_STORE);
      }
    },
  };
}

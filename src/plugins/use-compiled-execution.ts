import { useGraphQlJit } from '@envelop/graphql-jit';
import { GraphQLError, type ExecutionResult, type Source } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { usesIncrementalDelivery } from '../execution/incremental.js';

/**
 * Executes operations with graphql-jit, which compiles each document once (yoga
 * caches the parsed document) into a function: the largest single cut in CPU per
 * page that the benchmark found after the upstream transport (BENCHMARKS.md).
 *
 * graphql-jit has no `@defer`/`@stream`: those operations keep yoga's executor.
 * Where graphql-jit answers differently from graphql-js, this restores the
 * graphql-js answer: a result without `data` (variables that cannot be coerced)
 * is a request error, answered with 400 as GraphQL over HTTP asks.
 */
export function useCompiledExecution(): Plugin[] {
  return [
    // Seam: envelop's Plugin<{}> is yoga's Plugin with a narrower context.
    useGraphQlJit(
      {},
      { enableIf: ({ document }) => !usesIncrementalDelivery(document) },
    ) as unknown as Plugin,
    {
      onExecute({ args }) {
        const source = args.document.loc?.source;
        return {
          onExecuteDone({ result, setResult }) {
            if (Symbol.asyncIterator in result || !result.errors?.length) return;
            if (result.data === undefined) return setResult(asRequestErrors(result));
            if (source)
              setResult({ ...result, errors: result.errors.map((e) => located(e, source)) });
          },
        };
      },
    },
  ];
}

/**
 * graphql-jit's errors carry `locations` but no AST nodes or source positions,
 * from which yoga rebuilds every error it sends; the locations would be lost.
 * Rebuilt here on the document's source, as graphql-js would have made them.
 */
function located(error: GraphQLError, source: Source): GraphQLError {
  if (error.nodes !== undefined || error.locations === undefined) return error;
  const lines = source.body.split('\n');
  const offsetOf = ({ line, column }: { line: number; column: number }) =>
    lines.slice(0, line - 1).reduce((offset, text) => offset + text.length + 1, 0) + column - 1;
  return new GraphQLError(error.message, {
    source,
    positions: error.locations.map(offsetOf),
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

function asRequestErrors(result: ExecutionResult): ExecutionResult {
  return {
    errors: result.errors?.map(
      (error) =>
        new GraphQLError(error.message, {
          path: error.path,
          extensions: { ...error.extensions, http: { status: 400 } },
        }),
    ),
  };
}

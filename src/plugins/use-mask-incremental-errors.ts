import type { GraphQLError } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';

type MaskError = (error: unknown, message: string) => Error;
type IncrementalPart = { errors?: readonly GraphQLError[] };

/**
 * yoga masks the errors of a single result and of each part's top-level
 * `errors`, but not those inside `incremental[]`: a failed @defer/@stream field
 * would show its upstream URL. This applies the same `maskError` there.
 */
export function useMaskIncrementalErrors({
  maskError,
  message = 'Unexpected error.',
}: {
  maskError: MaskError;
  message?: string;
}): Plugin {
  return {
    onExecute() {
      return {
        onExecuteDone(payload) {
          return handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
            const incremental = (result as { incremental?: IncrementalPart[] }).incremental;
            if (!incremental?.some((part) => part.errors?.length)) return;
            setResult({
              ...result,
              incremental: incremental.map((part) =>
                part.errors
                  ? { ...part, errors: part.errors.map((error) => maskError(error, message)) }
                  : part,
              ),
            } as typeof result);
          });
        },
      };
    },
  };
}

import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Plugin } from 'graphql-yoga';
import { operationName } from '../observability/operation-name.js';
import type { GatewayContext } from '../context.js';

/**
 * One span per GraphQL operation, a child of the incoming `traceparent`; the
 * resolvers' and upstream calls' spans hang below it (context.trace).
 */
export function useTracing(): Plugin {
  return {
    onExecute({ args }) {
      const context = args.contextValue as unknown as GatewayContext;
      const operation = operationName(args.operationName, args.document);
      const span = context.trace.tracer.startSpan(
        `query ${operation}`,
        { kind: SpanKind.SERVER, attributes: { 'graphql.operation.name': operation } },
        context.trace.context,
      );
      context.trace.context = trace.setSpan(context.trace.context, span);
      return {
        onExecuteDone(payload) {
          const finish = (errors: number) => {
            if (errors > 0) span.setStatus({ code: SpanStatusCode.ERROR });
            span.setAttribute('graphql.errors', errors);
            span.end();
          };
          if (!(Symbol.asyncIterator in payload.result)) {
            finish(payload.result.errors?.length ?? 0);
            return;
          }
          let errors = 0;
          return {
            onNext: ({ result }) => {
              errors += result.errors?.length ?? 0;
            },
            onEnd: () => finish(errors),
          };
        },
      };
    },
  };
}

import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import { operationName } from '../observability/operation-name.js';
import type { RequestRecords } from '../observability/request-record.js';

/** Options of `useTracing`. */
export type TracingPluginOptions = {
  /** Where each request's tracer and trace context are (request-record.ts). */
  records: RequestRecords;
};

/**
 * One span per GraphQL operation, a child of the incoming `traceparent`; the
 * request's record then hangs the fields' and upstream calls' spans below it.
 */
export function useTracing({ records }: TracingPluginOptions): Plugin {
  return {
    onExecute({ args }) {
      const { request } = args.contextValue as YogaInitialContext;
      const record = records.of(request);
      const operation = operationName(args.operationName, args.document);
      const span = record.tracer.startSpan(
        `query ${operation}`,
        { kind: SpanKind.SERVER, attributes: { 'graphql.operation.name': operation } },
        record.spanParent,
      );
      record.enterSpan(trace.setSpan(record.spanParent, span));
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

import type { SpanKind } from '@opentelemetry/api';
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/**
 * The tracer when tracing is off. `inSpan` knows it, and then makes no span and
 * no extra async frame: with tracing off, every list field, upstream call and
 * book batch would otherwise pay for a no-op span and an `async` wrapper (about
 * 1% of a page's CPU in its profile, plus the microtasks).
 */
export const TRACING_OFF: Tracer = trace.getTracer('tracing-off');

/** A span that records nothing, handed to `inSpan`'s work when tracing is off. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** W3C `traceparent`/`tracestate`, in and out; used explicitly, never as a global. */
const propagator = new W3CTraceContextPropagator();

/** A tracer, and how to flush it at shutdown. Off: the API's no-op tracer. */
export type Tracing = { tracer: Tracer; shutdown(): Promise<void> };

/** Options of `createTracing`. */
export type TracingOptions = {
  /** OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT); spans are batched to it. */
  otlpEndpoint?: string | undefined;
  /** Any exporter, spans sent one by one (tests use the in-memory one). */
  exporter?: SpanExporter;
  serviceName?: string;
};

/**
 * OpenTelemetry tracing, off unless an endpoint or exporter is given. Spans are
 * parented explicitly (the request's trace context travels in the GraphQL
 * context and in each upstream call's options), so no global context manager
 * or provider is installed.
 */
export function createTracing({
  otlpEndpoint,
  exporter,
  serviceName = 'homepage-bff',
}: TracingOptions): Tracing {
  const processor = exporter
    ? new SimpleSpanProcessor(exporter)
    : otlpEndpoint
      ? new BatchSpanProcessor(
          new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, '')}/v1/traces` }),
        )
      : undefined;
  if (!processor) return { tracer: TRACING_OFF, shutdown: async () => {} };
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  return { tracer: provider.getTracer(serviceName), shutdown: () => provider.shutdown() };
}

/** The trace context a request arrived with (`traceparent`), or the root. */
export function extractTraceContext(headers: Headers): Context {
  return propagator.extract(ROOT_CONTEXT, headers, {
    get: (carrier, key) => carrier.get(key) ?? undefined,
    keys: (carrier) => [...carrier.keys()],
  });
}

/** Adds `traceparent` (and `tracestate`) for `context` to outgoing headers. */
export function injectTraceContext(context: Context, headers: Record<string, string>): void {
  propagator.inject(context, headers, {
    set: (carrier, key, value) => {
      carrier[key] = value;
    },
  });
}

/** What `inSpan` starts its span with. */
export type SpanOptions = { kind?: SpanKind; attributes?: Record<string, string | number> };

/** The work `inSpan` runs: given the span's context (for children) and the span itself. */
export type SpanWork<T> = (context: Context, span: Span) => Promise<T>;

/**
 * Runs `fn` in a span under `parent`, passing the span's own context on for
 * children; ends it, with an error status when `fn` throws.
 */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  parent: Context,
  options: SpanOptions,
  fn: SpanWork<T>,
): Promise<T> {
  // The same context a no-op span would give: the parent's span context, unchanged.
  if (tracer === TRACING_OFF) {
    try {
      return fn(parent, NO_SPAN);
    } catch (error) {
      return Promise.reject(error as Error); // as the async path would
    }
  }
  return traced(tracer, name, parent, options, fn);
}

// Private helpers.

/** `inSpan` with tracing on: an async frame of its own, so the span ends when `fn` settles. */
const traced: typeof inSpan = async (tracer, name, parent, options, fn) => {
  const span = tracer.startSpan(name, options, parent);
  try {
    return await fn(trace.setSpan(parent, span), span);
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.name : 'error',
    });
    throw error;
  } finally {
    span.end();
  }
};

import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../src/app.js';
import { createTracing } from '../src/observability/tracing.js';
import { HOMEPAGE_QUERY, testGatewayOptions, useTestBeds } from './helpers/gateway.js';

const startBed = useTestBeds();
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

describe('OpenTelemetry tracing', () => {
  it('records operation → field → upstream call spans under the incoming traceparent, and propagates it', async () => {
    const bed = await startBed();
    const exporter = new InMemorySpanExporter();
    const gateway = createGateway({
      ...testGatewayOptions({
        promo: bed.upstreams.promo.url,
        recommendations: bed.upstreams.recommendations.url,
        catalog: bed.upstreams.catalog.url,
      }),
      tracing: createTracing({ exporter }),
    });
    const response = await gateway.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`,
      },
      body: JSON.stringify({ query: HOMEPAGE_QUERY }),
    });
    expect((await response.json()).errors).toBeUndefined();

    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const parentName = (span: ReadableSpan) => {
      const id = span.parentSpanContext?.spanId;
      return id === PARENT_SPAN ? '(incoming)' : (byId.get(id ?? '')?.name ?? '(none)');
    };
    const tree = spans.map((span) => `${parentName(span)} > ${span.name}`).sort();

    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([TRACE_ID]));
    expect(tree).toEqual(
      [
        '(incoming) > query Homepage',
        'query Homepage > Homepage.promo',
        'query Homepage > Homepage.recommendations',
        'Homepage.promo > GET promo',
        'Homepage.recommendations > GET recommendations',
        ...spans.filter((s) => s.name === 'Book.batch').map(() => 'query Homepage > Book.batch'),
        ...spans.filter((s) => s.name === 'GET catalog').map(() => 'Book.batch > GET catalog'),
      ].sort(),
    );
    expect(spans.filter((s) => s.name === 'GET catalog').length).toBeGreaterThan(0);

    // Each upstream saw the trace: its traceparent names the call's own span.
    for (const [service, upstream] of Object.entries(bed.upstreams)) {
      const header = String(upstream.requests[0]?.headers.traceparent);
      const [, traceId, spanId] = header.split('-');
      expect(traceId).toBe(TRACE_ID);
      expect(byId.get(spanId ?? '')?.name).toBe(`GET ${service}`);
    }
  });

  it('is off by default: no traceparent goes upstream', async () => {
    const bed = await startBed();
    await bed.query(HOMEPAGE_QUERY);
    expect(bed.upstreams.promo.requests[0]?.headers.traceparent).toBeUndefined();
  });

  it("is off by default: an incoming traceparent goes upstream as it came, the caller's trace kept", async () => {
    const bed = await startBed();
    const incoming = `00-${TRACE_ID}-${PARENT_SPAN}-01`;
    await bed.request({
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: incoming },
      body: JSON.stringify({ query: HOMEPAGE_QUERY }),
    });
    for (const upstream of Object.values(bed.upstreams)) {
      expect(upstream.requests[0]?.headers.traceparent).toBe(incoming);
    }
  });
});

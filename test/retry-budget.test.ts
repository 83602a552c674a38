import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import {
  RequestRecord,
  silentSink,
  type RetryOutcome,
} from '../src/observability/request-record.js';
import { createRetryBudget } from '../src/outbound/retry-budget.js';
import { createUpstreamClient } from '../src/outbound/upstream-client.js';
import { SHARED_POLICY } from '../src/upstreams/policy.js';
import { recommendationsHandler } from './helpers/fixtures.js';
import { HOMEPAGE_QUERY, useTestBeds } from './helpers/gateway.js';
import { sendJson, startUpstream, type Upstream } from './helpers/upstream.js';

const startBed = useTestBeds();

const upstreams: Upstream[] = [];
afterEach(async () => {
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()));
});

/**
 * One promo client over an upstream that always answers 503, with a long fixed
 * back-off, and the retry outcomes its calls report.
 */
async function alwaysFailing(
  retryBudget: { percent: number; minPerSecond: number },
  onDebug: (message: unknown) => void = () => {},
) {
  const upstream = await startUpstream((_req, res) => sendJson(res, {}, 503));
  upstreams.push(upstream);
  const client = createUpstreamClient({
    service: 'promo',
    baseUrl: upstream.url,
    policy: {
      ...SHARED_POLICY,
      timeoutMs: 1000,
      backoff: { baseMs: 5_000, maxMs: 5_000 },
      retryBudget,
    },
    logger: { ...silentLogger, debug: onDebug },
    random: () => 1,
  });
  const outcomes: RetryOutcome[] = [];
  const metrics = {
    ...silentSink,
    onRetry: (_: unknown, outcome: RetryOutcome) => outcomes.push(outcome),
  };
  return { upstream, client, outcomes, metrics };
}

/** A budget on a clock the test moves by hand. */
function budgetAt(options: { percent: number; minPerSecond: number }) {
  let nowMs = 0;
  const budget = createRetryBudget({ ...options, windowMs: 10_000, now: () => nowMs });
  return {
    budget,
    advance: (ms: number) => (nowMs += ms),
    calls: (count: number) => {
      for (let i = 0; i < count; i++) budget.recordCall();
    },
    /** How many of `count` retries asked for now the budget grants. */
    spend: (count: number) =>
      Array.from({ length: count }, () => budget.trySpend()).filter(Boolean).length,
  };
}

describe('retry budget', () => {
  it.each([
    // percent, floor per second, calls in the window, retries asked, retries granted
    [10, 0, 100, 20, 10],
    [10, 0, 9, 5, 0],
    [10, 1, 0, 20, 10], // a quiet service: the floor, 1/s over 10 s
    [10, 1, 100, 30, 20], // 10% of calls plus the floor
    [0, 0, 1000, 5, 0],
    [100, 0, 7, 10, 7],
    [20, 0.5, 50, 30, 15],
  ])(
    'with %d%% and a floor of %d/s, %d calls earn %d retries asked → %d granted',
    (percent, minPerSecond, calls, asked, granted) => {
      const at = budgetAt({ percent, minPerSecond });
      at.calls(calls);
      expect(at.spend(asked)).toBe(granted);
    },
  );

  it('forgets calls and retries once they slide out of the window', () => {
    const at = budgetAt({ percent: 10, minPerSecond: 0 });
    at.calls(100);
    expect(at.spend(4)).toBe(4);
    at.advance(9_000);
    expect(at.spend(2)).toBe(2); // still within the window: 10 earned, 6 spent
    at.advance(1_000); // the first slice (100 calls, 4 retries) slid out; 2 retries remain
    expect(at.spend(1)).toBe(0);
    at.calls(40); // earn 4
    expect(at.spend(5)).toBe(2);
    at.advance(60_000); // long idle: everything forgotten
    expect(at.spend(1)).toBe(0);
  });

  it('fails a call without retrying it once the budget is spent, and counts the refusal', async () => {
    const { upstream, client, outcomes, metrics } = await alwaysFailing({
      percent: 0,
      minPerSecond: 0,
    });
    const record = RequestRecord.detached({ deadlineMs: 30_000, metrics });

    await expect(client.getJson('promotions', { record })).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
    });
    expect(upstream.requests).toHaveLength(1);
    expect(outcomes).toEqual(['refused']);
  });

  it('counts a retry given up because the client left during its back-off as cancelled', async () => {
    const leaving = new AbortController();
    // The client logs "retry 1 in 5000 ms" as its back-off starts: leave then.
    const { upstream, client, outcomes, metrics } = await alwaysFailing(
      { percent: 10, minPerSecond: 1 },
      (message) => {
        if (String(message).includes('retry 1 in')) queueMicrotask(() => leaving.abort());
      },
    );
    const record = RequestRecord.detached({ deadlineMs: 30_000, metrics, signal: leaving.signal });

    const call = client.getJson('promotions', { record });

    await expect(call).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(upstream.requests).toHaveLength(1);
    expect(outcomes).toEqual(['cancelled']);
  });

  it('limits the calls per page to 1 + budget against an upstream failing every other call', async () => {
    let received = 0;
    const healthy = recommendationsHandler();
    const metrics = createMetrics();
    const bed = await startBed({
      metrics,
      // Personal picks only: a failed call is not followed by a popular-picks call.
      fallbacks: { recommendations: 'none' },
      policies: { recommendations: { retryBudget: { percent: 10, minPerSecond: 0 } } },
      handlers: {
        recommendations: (req, res, url) =>
          ++received % 2 === 1 ? sendJson(res, {}, 503) : healthy(req, res, url),
      },
    });
    const authorization = `Bearer ${await bed.tokenFor('alice')}`;

    const pages = 200;
    for (let i = 0; i < pages; i++) await bed.query(HOMEPAGE_QUERY, { authorization });

    // The upstream's own log: without the budget, every page cost 2 calls.
    expect(bed.upstreams.recommendations.requests.length).toBeLessThanOrEqual(pages * 1.1);
    const text = await metrics.registry.metrics();
    const count = (outcome: string) =>
      Number(
        new RegExp(
          `bff_upstream_retries_total\\{service="recommendations",outcome="${outcome}"\\} (\\d+)`,
        ).exec(text)?.[1],
      );
    expect(count('spent')).toBeGreaterThan(0);
    expect(count('refused')).toBeGreaterThan(0);
    expect(count('spent') + pages).toBe(bed.upstreams.recommendations.requests.length);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth.js';
import { useBuiltServers, type RunningServer } from './helpers/built-server.js';
import { keepLoopBusy } from './helpers/busy-loop.js';
import { TEST_SECRET } from './helpers/gateway.js';

// A timeout while this process's own loop keeps ready work waiting is the
// process's doing, not the upstream's: at three times the peak, counting such
// timeouts opened the breaker of a healthy recommendations service and failed
// its field on every page for the breaker's whole pause (bench/levers.md).

const start = useBuiltServers();

// Recommendations never answers within its 100 ms: every call times out.
const ENV = {
  RECOMMENDATIONS_TIMEOUT_MS: '100',
  RECOMMENDATIONS_FALLBACK: 'none',
  RECOMMENDATIONS_BREAKER_THRESHOLD: '3',
  PAGE_CACHE_TTL_MS: '0',
};

let busy: { stop(): void } | undefined;
afterEach(() => busy?.stop());

async function recommendationsError(server: RunningServer): Promise<string | undefined> {
  const token = await signToken(TEST_SECRET, 'u-1');
  const response = await server.page({ authorization: `Bearer ${token}` });
  const body = (await response.json()) as {
    data: { homepage: { recommendations: unknown } };
    errors?: { path: string[]; extensions: { code: string } }[];
  };
  expect(body.data.homepage.recommendations).toBeNull();
  return body.errors?.find((error) => error.path.includes('recommendations'))?.extensions.code;
}

/** The process's standing wait, as its metrics report it. */
async function standingWaitMs(server: RunningServer): Promise<number> {
  const metrics = await (await fetch(`${server.origin}/metrics`)).text();
  return Number(/^bff_admission_standing_wait_seconds (\S+)/m.exec(metrics)?.[1]) * 1000;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never held: ${check.toString()}`);
}

describe('timeouts while this process is saturated', () => {
  it('do not open the breaker of the upstream: the next page still asks it, and an idle process opens it', async () => {
    const server = await start(ENV, { handlers: { recommendations: () => {} } });
    const calls = () => server.upstreams.recommendations.requests.length;

    // Every turn of the loop, 20 ms of work waits ahead of the rest.
    busy = keepLoopBusy(20);
    await until(async () => (await standingWaitMs(server)) >= 10);
    for (let page = 1; page <= 5; page++) {
      expect(await recommendationsError(server)).toBe('UPSTREAM_TIMEOUT');
      // Asked every time: past the threshold of 3, the breaker stayed closed.
      expect(calls()).toBe(page);
    }

    busy.stop();
    await until(async () => (await standingWaitMs(server)) < 5);
    for (let page = 1; page <= 3; page++) {
      expect(await recommendationsError(server)).toBe('UPSTREAM_TIMEOUT');
    }
    // Three timeouts the upstream's own, in a row: open; the next page asks it nothing.
    const before = calls();
    expect(await recommendationsError(server)).toBe('UPSTREAM_UNAVAILABLE');
    expect(calls()).toBe(before);
  });
});

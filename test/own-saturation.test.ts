import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth.js';
import { eventually, useBuiltServers, type BuiltReplica } from './helpers/built-servers.js';
import { keepLoopBusy, spendCpu } from './helpers/busy-loop.js';
import { TEST_SECRET } from './helpers/gateway.js';

// A timeout while this process's own loop keeps ready work waiting is the
// process's doing, not the upstream's: at three times the peak, counting such
// timeouts opened the breaker of a healthy recommendations service and failed
// its field on every page for the breaker's whole pause (bench/levers.md).

const start = useBuiltServers();

// Recommendations never answers: every call times out. Signed-in pages, no
// fallback, a breaker threshold of 3, and a deadline long enough that
// admission sheds nothing here, however busy the test makes the loop.
const env = (timeoutMs: number) => ({
  RECOMMENDATIONS_TIMEOUT_MS: String(timeoutMs),
  RECOMMENDATIONS_FALLBACK: 'none',
  RECOMMENDATIONS_BREAKER_THRESHOLD: '3',
  REQUEST_DEADLINE_MS: '10000',
  PAGE_CACHE_TTL_MS: '0',
});
const hangs = { handlers: { recommendations: () => {} } };

let busy: { stop(): void } | undefined;
afterEach(() => busy?.stop());

async function recommendationsError(server: BuiltReplica): Promise<string | undefined> {
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
async function standingWaitMs(server: BuiltReplica): Promise<number> {
  const metrics = await (await fetch(`${server.origin}/metrics`)).text();
  return Number(/^bff_admission_standing_wait_seconds (\S+)/m.exec(metrics)?.[1]) * 1000;
}

describe('timeouts while this process is saturated', () => {
  it('do not open the breaker of the upstream: every page still asks it', async () => {
    const server = await start(env(300), hangs);
    // Every turn of the loop, 50 ms of work waits ahead of the rest: over a
    // tenth of the 300 ms budget.
    busy = keepLoopBusy(50);
    await eventually(async () => (await standingWaitMs(server)) >= 30);
    for (let page = 1; page <= 5; page++) {
      expect(await recommendationsError(server)).toBe('UPSTREAM_TIMEOUT');
      // Asked every time: past the threshold of 3, the breaker stayed closed.
      expect(server.upstreams.recommendations.requests).toHaveLength(page);
    }
  });

  it('nor do timeouts right after one long turn of the loop, as a cold process taking its first burst', async () => {
    // The standing wait reads one long turn as nothing; the longest wait shows
    // it. A turn of 400 ms ends just as each 1 s budget runs out: over a fifth.
    const server = await start(env(1000), hangs);
    for (let page = 1; page <= 5; page++) {
      const blocked = new Promise<void>((resolve) =>
        setTimeout(() => {
          spendCpu(400); // as a burst of cold pages would
          resolve();
        }, 600),
      );
      expect(await recommendationsError(server)).toBe('UPSTREAM_TIMEOUT');
      await blocked;
      expect(server.upstreams.recommendations.requests).toHaveLength(page);
    }
  });

  it('while the process has room, open it as before: the page after three asks it nothing', async () => {
    // A budget whose tenth (100 ms) no busy machine's scheduling reaches.
    const server = await start(env(1000), hangs);
    for (let page = 1; page <= 3; page++) {
      expect(await recommendationsError(server)).toBe('UPSTREAM_TIMEOUT');
    }
    expect(await recommendationsError(server)).toBe('UPSTREAM_UNAVAILABLE');
    expect(server.upstreams.recommendations.requests).toHaveLength(3);
  });
});

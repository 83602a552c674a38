import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { limitAnonymousPages } from '../src/inbound/limit-anonymous-pages.js';
import { HOMEPAGE_QUERY } from './helpers/gateway.js';
import { useListening } from './helpers/listening.js';
import { freePort, useProcesses } from './helpers/processes.js';
import { redisUp } from './helpers/redis.js';
import { useReplicas } from './helpers/replicas.js';

// A burst of pages on a replica whose Redis is paused, then restarted under it
// (what `npm run cluster` showed as `MaxListenersExceededWarning: 11 abort
// listeners added to [AbortSignal]`). Any process warning fails the test: a
// warning is how Node reports a leak before it becomes one.

const { redisServers, startReplica } = useReplicas();
const listen = useListening();
const startProcess = useProcesses();

const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);
beforeEach(() => {
  warnings.length = 0;
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

/** `count` pages, `concurrency` at a time, half of them signed in; resolves when all answered. */
async function burst(url: string, count: number, concurrency: number, token: string) {
  let next = 0;
  const statuses: number[] = [];
  const worker = async () => {
    while (next < count) {
      const signedIn = next++ % 2 === 0;
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(signedIn && token !== '' && { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify({ query: HOMEPAGE_QUERY }),
      });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

describe('process warnings under load', () => {
  it('serves 300 pages while Redis is paused and restarted without a single process warning', async () => {
    const redis = await redisServers.start();
    const replica = await startReplica(redis, { perMinute: 1_000_000, timeoutMs: 50 });
    const { rateLimiter } = replica;
    if (!rateLimiter) throw new Error('expected a limiter');
    const { url } = await listen(replica.bed.gateway, [
      limitAnonymousPages({ limiter: rateLimiter, trustedProxies: [] }),
    ]);
    const token = await replica.bed.tokenFor('alice');

    redis.pause();
    const whilePaused = await burst(url, 100, 50, token);
    redis.resume();
    await redis.restart();
    const afterRestart = await burst(url, 100, 50, token);
    const settled = await burst(url, 100, 50, token);
    // Warnings are emitted on the next tick after their cause.
    await new Promise((resolve) => setImmediate(resolve));

    expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([]);
    // Redis is never on the critical path: every page was served.
    expect(new Set([...whilePaused, ...afterRestart, ...settled])).toEqual(new Set([200]));
  });

  it('keeps the gateway process free of warnings under load while its Redis is paused, then restarted', async () => {
    const redis = await redisServers.start();
    const port = await freePort();
    const gateway = startProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redis.url,
      RATE_LIMIT_PER_MINUTE: '1000000',
    });
    for (let i = 0; i < 300 && !gateway.output().includes('Gateway ready'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(gateway.output()).toContain('Gateway ready');
    const origin = `http://127.0.0.1:${port}`;
    await redisUp(origin);

    redis.pause();
    // Anonymous pages: each asks Redis for its rate limit before anything else.
    const statuses = await burst(`${origin}/graphql`, 100, 50, '');
    redis.resume();
    await redis.restart();
    await redisUp(origin);
    statuses.push(...(await burst(`${origin}/graphql`, 100, 50, '')));

    // Node prints every process warning to stderr as "(node:<pid>) <Name>Warning: …".
    expect(gateway.output()).not.toMatch(/Warning/);
    // Answered, even if admission shed some of them on a busy test machine.
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
  });
});

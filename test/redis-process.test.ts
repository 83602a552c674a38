import { describe, expect, it } from 'vitest';
import { freePort, useProcesses } from './helpers/processes.js';
import { redisUp, useRedis } from './helpers/redis.js';

// The process as `npm start` runs it, with REDIS_URL and RATE_LIMIT_PER_MINUTE set.

const start = useProcesses();
const redisServers = useRedis();

async function startGateway(env: Record<string, string>) {
  const port = await freePort();
  const { output } = start({ PORT: String(port), HOST: '127.0.0.1', ...env });
  for (let i = 0; i < 300 && !output().includes('Gateway ready'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!output().includes('Gateway ready')) throw new Error(`never ready:\n${output()}`);
  return { url: `http://127.0.0.1:${port}`, output };
}

const page = (url: string) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: '{ homepage { promo { id book { id } } recommendations { score } } }',
    }),
  });

describe('the gateway process with Redis', () => {
  it('starts, is ready and serves complete pages while its Redis refuses connections, logging it once', async () => {
    const nobody = await freePort();
    const gateway = await startGateway({
      REDIS_URL: `redis://127.0.0.1:${nobody}`,
      RATE_LIMIT_PER_MINUTE: '4',
    });

    expect((await fetch(`${gateway.url}/ready`)).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const response = await page(gateway.url);
      statuses.push(response.status);
      const body = (await response.json()) as { errors?: unknown; data?: unknown };
      if (response.status === 200) {
        expect(body.errors).toBeUndefined();
        expect(body.data).toMatchObject({ homepage: { promo: expect.any(Array) } });
      }
    }

    // Redis down: the limit still holds, counted by this process alone.
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect(gateway.output().match(/Redis is down/g)).toHaveLength(1);
  });

  it('counts an anonymous client across two processes sharing one Redis', async () => {
    const redis = await redisServers.start();
    // A generous timeout: two processes starting on a busy test machine must not
    // turn a shared count into a per-process one (the fail-open path).
    const env = { REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '3', REDIS_TIMEOUT_MS: '1000' };
    const [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
    // Startup does not wait for Redis: wait until each process reports it up.
    await Promise.all([a, b].map((gateway) => redisUp(gateway.url)));

    const statuses = [];
    for (const gateway of [a, b, a, b]) statuses.push((await page(gateway.url)).status);

    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

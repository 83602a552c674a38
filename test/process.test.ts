import { once } from 'node:events';
import { connect } from 'node:net';
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { DEMO_JWT_SECRET } from '../src/demo/settings.js';
import { freePort, useProcesses } from './helpers/processes.js';

// The process as `npm start` runs it (from source here, to skip the build).

const start = useProcesses();

async function waitFor(condition: () => boolean, what: string) {
  for (let i = 0; i < 300; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the gateway process', () => {
  it('starts the demo services, says where to go, serves the homepage and stops on SIGTERM', async () => {
    const port = await freePort();
    const { child, output } = start({ PORT: String(port), HOST: '127.0.0.1' });
    await waitFor(
      () => output().includes('Gateway ready') && output().includes('u-42'),
      'the ready lines',
    );

    expect(output()).toContain(`http://127.0.0.1:${port}/graphql`);
    expect(output()).toMatch(/Authorization": "Bearer ey/);

    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ homepage { promo { id } recommendations { score } } }' }),
    });
    const body = await response.json();
    expect(body.errors).toBeUndefined();
    expect(body.data.homepage.promo.length).toBeGreaterThan(0);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses to start on a partial set of upstream URLs, naming what is missing', async () => {
    const { child, output } = start({
      PROMO_URL: 'http://127.0.0.1:1',
      JWT_SECRET: 'x'.repeat(32),
    });
    const [code] = await once(child, 'exit');

    expect(code).toBe(1);
    expect(output()).toMatch(/RECOMMENDATIONS_URL/);
    expect(output()).toMatch(/CATALOG_URL/);
  });

  it('refuses to start on an invalid PORT, naming it', async () => {
    const { child, output } = start({ PORT: 'not-a-port' });
    const [code] = await once(child, 'exit');

    expect(code).toBe(1);
    expect(output()).toMatch(/^\s+PORT: /m);
  });

  it('prints a token for a user that the demo gateway accepts (npm run token -- u-42)', async () => {
    const { child, output } = start({}, 'src/cli/token.ts', ['u-42']);
    const [code] = await once(child, 'exit');

    expect(code).toBe(0);
    const { payload } = await jwtVerify(
      output().trim(),
      new TextEncoder().encode(DEMO_JWT_SECRET),
      {
        algorithms: ['HS256'],
      },
    );
    expect(payload.sub).toBe('u-42');
    expect(payload.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('drains on SIGTERM: readiness 503, the in-flight request completes, then it exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { child, output } = start({
      PORT: String(port),
      HOST: '127.0.0.1',
      DEMO_PROMO_LATENCY_MS: '800',
      DRAIN_DELAY_MS: '300',
      PROMO_TIMEOUT_MS: '3000',
      REQUEST_DEADLINE_MS: '3000',
    });
    await waitFor(() => output().includes('Gateway ready'), 'the ready line');
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/ready`)).status).toBe(200);

    const inFlight = fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ homepage { promo { id } } }' }),
    }).then((response) => response.json());
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGTERM');
    await waitFor(() => output().includes('draining'), 'the drain line');

    expect((await fetch(`${base}/ready`)).status).toBe(503);
    const body = await inFlight;
    expect(body.errors).toBeUndefined();
    expect(body.data.homepage.promo.length).toBeGreaterThan(0);
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('closes a connection whose headers never finish (slowloris)', async () => {
    const port = await freePort();
    const { output } = start({ PORT: String(port), HOST: '127.0.0.1', HEADERS_TIMEOUT_MS: '500' });
    await waitFor(() => output().includes('Gateway ready'), 'the ready line');

    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    // Resolves only when the server hangs up; the test's own timeout bounds it.
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('sheds past MAX_IN_FLIGHT with 503 OVERLOADED, logs the episode, and stays ready', async () => {
    const port = await freePort();
    const { output } = start({
      PORT: String(port),
      HOST: '127.0.0.1',
      MAX_IN_FLIGHT: '1',
      DEMO_RECOMMENDATIONS_FAULT: 'hang',
      RECOMMENDATIONS_TIMEOUT_MS: '60000',
      REQUEST_DEADLINE_MS: '60000',
    });
    await waitFor(() => output().includes('Gateway ready'), 'the ready line');
    const base = `http://127.0.0.1:${port}`;
    const page = () =>
      fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ homepage { recommendations { score } } }' }),
      });
    const metrics = async () => (await fetch(`${base}/metrics`)).text();

    void page().catch(() => {}); // Hangs on recommendations: holds the only slot.
    for (let i = 0; !/^bff_requests_in_flight 1$/m.test(await metrics()); i++) {
      if (i > 300) throw new Error('timed out waiting for a page in flight');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const shed = await page();

    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    expect((await shed.json()).errors[0].extensions.code).toBe('OVERLOADED');
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    expect(await metrics()).toMatch(/^bff_requests_shed_total\{reason="in_flight"\} 1$/m);
    await waitFor(() => output().includes('load shedding started'), 'the log line');
  });

  it('exits after SIGTERM, past its shutdown timeout, with a burst of requests still hanging', async () => {
    const port = await freePort();
    const { child, output } = start({
      PORT: String(port),
      HOST: '127.0.0.1',
      DEMO_RECOMMENDATIONS_FAULT: 'hang',
      RECOMMENDATIONS_TIMEOUT_MS: '60000',
      REQUEST_DEADLINE_MS: '60000',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    await waitFor(() => output().includes('Gateway ready'), 'the ready line');
    const base = `http://127.0.0.1:${port}`;
    // Pages that hang on recommendations, each on its own connection, and some that finish.
    const burst = Array.from({ length: 60 }, (_, i) =>
      fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            i % 3 === 0
              ? '{ homepage { promo { id } } }'
              : `{ homepage { recommendations { score } } } # ${i}`,
        }),
      }).then(
        (response) => response.arrayBuffer(),
        () => undefined,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));

    child.kill('SIGTERM');
    const [code, signal] = await once(child, 'exit');

    // It exited (by itself, or killed by its watchdog): how fast is not this test's business.
    expect(code !== null || signal !== null).toBe(true);
    await Promise.all(burst);
  }, 60_000);

  it('is killed by its exit watchdog when its main thread is stuck, as in a hung process.exit', async () => {
    const { child, output } = start({}, 'test/helpers/stuck-process.ts', ['300']);
    await waitFor(() => output().includes('watchdog armed'), 'the armed line');

    const [, signal] = await once(child, 'exit');

    expect(signal).toBe('SIGKILL');
  }, 60_000);
});

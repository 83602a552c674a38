import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../src/app.js';
import { signToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { createAdmission, type Admission } from '../src/inbound/admission.js';
import {
  shedReason,
  tooLateToStart,
  viewerLimit,
  waitTarget,
  type AdmissionLimits,
  type Load,
  type ShedReason,
} from '../src/inbound/admission-decision.js';
import { createStandingWait, type StandingWait } from '../src/inbound/standing-wait.js';
import { createGatewayServer } from '../src/inbound/server.js';
import { createShedReporter } from '../src/inbound/shed-reporter.js';
import { silentLogger, type Logger } from '../src/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { RequestRecord } from '../src/observability/request-record.js';
import { useShedLateRequests } from '../src/plugins/use-shed-late-requests.js';
import { perService, perServiceAsync, type PerService } from '../src/upstreams/services.js';
import { catalogHandler, promoHandler, recommendationsHandler } from './helpers/fixtures.js';
import { HOMEPAGE_QUERY, TEST_SECRET, testGatewayOptions } from './helpers/gateway.js';
import { keepLoopBusy, spendCpu } from './helpers/busy-loop.js';
import { startUpstream, type Handler, type Upstream } from './helpers/upstream.js';

describe('the admission decision', () => {
  const limits: AdmissionLimits = {
    enabled: true,
    maxInFlight: 10,
    waitTargetMs: 100,
  };
  const signedIn = (inFlight: number, standingWaitMs: number): Load => ({
    viewer: 'signed_in',
    inFlight,
    standingWaitMs,
  });
  const anonymous = (inFlight: number, standingWaitMs: number): Load => ({
    viewer: 'anonymous',
    inFlight,
    standingWaitMs,
  });
  const cases: Array<[string, Load, AdmissionLimits, ShedReason | null]> = [
    ['admits a signed-in page at the target', signedIn(9, 100), limits, null],
    ['sheds a signed-in page past the target', signedIn(0, 101), limits, 'standing_wait'],
    ['admits an anonymous page at the same target', anonymous(0, 100), limits, null],
    ['sheds an anonymous page past the same target', anonymous(0, 101), limits, 'standing_wait'],
    ['admits any number in flight while nothing waits', signedIn(9, 0), limits, null],
    ['sheds at the in-flight ceiling', signedIn(10, 0), limits, 'in_flight'],
    ['names the in-flight ceiling when both are crossed', anonymous(10, 500), limits, 'in_flight'],
    ['has no ceiling at 0', signedIn(10_000, 0), { ...limits, maxInFlight: 0 }, null],
    [
      'sheds at the adaptive limit',
      { ...signedIn(5, 60), concurrencyLimit: 5 },
      limits,
      'concurrency',
    ],
    ['admits under the adaptive limit', { ...signedIn(4, 60), concurrencyLimit: 5 }, limits, null],
    [
      'sheds an anonymous page from nine tenths of the adaptive limit',
      { ...anonymous(9, 0), concurrencyLimit: 10 },
      { ...limits, maxInFlight: 0 },
      'concurrency',
    ],
    [
      'admits a signed-in page in the tenth kept for it',
      { ...signedIn(9, 0), concurrencyLimit: 10 },
      { ...limits, maxInFlight: 0 },
      null,
    ],
    [
      'admits an anonymous page under nine tenths of the adaptive limit',
      { ...anonymous(8, 0), concurrencyLimit: 10 },
      { ...limits, maxInFlight: 0 },
      null,
    ],
    [
      'names the wait past its target before the adaptive limit',
      { ...signedIn(5, 101), concurrencyLimit: 5 },
      limits,
      'standing_wait',
    ],
    ['sheds nothing when off', anonymous(10_000, 10_000), { ...limits, enabled: false }, null],
  ];
  it.each(cases)('%s', (_name, load, bounds, expected) => {
    expect(shedReason(load, bounds)).toBe(expected);
  });

  it('derives the target from the request deadline', () => {
    expect(waitTarget(1500)).toBe(300);
  });

  it('keeps a tenth of the learnt limit for signed-in pages, at least one slot from 8', () => {
    expect(viewerLimit(100, 'anonymous')).toBe(90);
    expect(viewerLimit(100, 'signed_in')).toBe(100);
    expect(viewerLimit(8, 'anonymous')).toBe(7);
    expect(viewerLimit(Number.POSITIVE_INFINITY, 'anonymous')).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('the late-start decision', () => {
  const cases: Array<[string, { deadlineAt: number; now: number; marginMs: number }, boolean]> = [
    ['starts with the whole budget left', { deadlineAt: 1500, now: 0, marginMs: 150 }, false],
    ['starts with exactly the margin left', { deadlineAt: 1500, now: 1350, marginMs: 150 }, false],
    [
      'refuses with less than the margin left',
      { deadlineAt: 1500, now: 1351, marginMs: 150 },
      true,
    ],
    ['refuses past the deadline', { deadlineAt: 1500, now: 2000, marginMs: 150 }, true],
    [
      'with no margin, starts up to the deadline',
      { deadlineAt: 1500, now: 1499, marginMs: 0 },
      false,
    ],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(tooLateToStart(input)).toBe(expected);
  });
});

describe('the standing-wait reading', () => {
  it('reads a loop that never runs dry as a standing wait at least as long as its busy turns', async () => {
    const wait = createStandingWait({ intervalMs: 50, everyMs: 5 });
    const busy = keepLoopBusy(30);
    try {
      // Every probe waits for at least one busy turn: over an interval, so does the least of them.
      await vi.waitFor(() => expect(wait.currentMs()).toBeGreaterThanOrEqual(30), {
        timeout: 5000,
      });
    } finally {
      busy.stop();
      wait.close();
    }
  });

  /** Readings taken at the end of each of `turns` turns of `turnMs` of CPU, one after another. */
  async function readInLongTurns(wait: StandingWait, turns: number, turnMs: number) {
    const readings: number[] = [];
    await new Promise<void>((done) => {
      const turn = () => {
        spendCpu(turnMs);
        readings.push(wait.currentMs());
        if (readings.length === turns) done();
        else setImmediate(turn);
      };
      setImmediate(turn);
    });
    return readings;
  }

  it('shows one long turn after a quiet spell as the longest wait, where the standing wait reads nothing', async () => {
    const wait = createStandingWait({ intervalMs: 60_000, everyMs: 5 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const [reading] = await readInLongTurns(wait, 1, 200);
      // Read at the end of that one turn: the probe out waited (nearly) all of it.
      expect(reading).toBeLessThan(100);
      expect(wait.longestMs()).toBeGreaterThanOrEqual(150);
      // And after it, once probes returned again: still the longest of the interval.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(wait.longestMs()).toBeGreaterThanOrEqual(150);
      expect(wait.currentMs()).toBeLessThan(100);
    } finally {
      wait.close();
    }
  });

  it('reads long turns of the loop while they run, before any interval has ended', async () => {
    // An interval longer than the test: only the probe still waiting can show the queue.
    const wait = createStandingWait({ intervalMs: 60_000, everyMs: 5 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Turns far longer than any wait a busy machine adds to a probe (CI runs many workers).
      const readings = await readInLongTurns(wait, 5, 200);
      // The first long turn after a quiet spell reads as nothing: it may be one pause.
      expect(readings[0]).toBeLessThan(100);
      // From the second on, the probe before waited a whole turn, and so did this one.
      expect(Math.min(...readings.slice(2))).toBeGreaterThanOrEqual(150);
    } finally {
      wait.close();
    }
  });
});

// A gateway behind its real HTTP server, with admission in front, and upstreams
// on loopback. Recommendations can be held: each request waits until released.

type Saturable = {
  url: string;
  admission: Admission;
  upstreams: PerService<Upstream>;
  /** Requests the recommendations upstream holds unanswered. */
  held: Array<() => void>;
  upstreamCalls(): number;
  releaseAll(): void;
};

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((close) => close()));
});

async function startSaturable({
  maxInFlight = 1,
  standingWaitMs,
  requestDeadlineMs = 20_000,
  logger = silentLogger,
}: {
  maxInFlight?: number;
  /** A fixed wait reading instead of the real one. */
  standingWaitMs?: number;
  requestDeadlineMs?: number;
  logger?: Logger;
} = {}): Promise<Saturable> {
  const held: Array<() => void> = [];
  const healthyPicks = recommendationsHandler();
  const holding: Handler = (req, res, url) => {
    held.push(() => void healthyPicks(req, res, url));
  };
  const handlers: PerService<Handler> = {
    promo: promoHandler(),
    recommendations: holding,
    catalog: catalogHandler(),
  };
  const upstreams = await perServiceAsync((service) => startUpstream(handlers[service]));
  const metrics = createMetrics();
  const reporter = createShedReporter({ metrics: metrics.admission, logger });
  const gateway = createGateway({
    ...testGatewayOptions(
      perService<PerService<string>>((service) => upstreams[service].url),
      { timeoutsMs: { recommendations: 15_000 }, requestDeadlineMs, logger },
    ),
    metrics,
    shedReporter: reporter,
  });
  const fixedWait: StandingWait | undefined =
    standingWaitMs === undefined
      ? undefined
      : { currentMs: () => standingWaitMs, longestMs: () => standingWaitMs, close() {} };
  // A wait target of 200 ms, whatever the test's deadline.
  const admission = createAdmission({
    enabled: true,
    maxInFlight,
    requestDeadlineMs: 1000,
    metrics: metrics.admission,
    reporter,
    ...(fixedWait && { standingWait: fixedWait }),
  });
  const server: Server = createGatewayServer(gateway, {
    limits: loadConfig({}).server,
    steps: [admission.step],
    logger,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const releaseAll = () => held.splice(0).forEach((release) => release());
  open.push(async () => {
    releaseAll();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    admission.close();
    reporter.close();
    await gateway.dispose();
    await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    admission,
    upstreams,
    held,
    upstreamCalls: () =>
      Object.values(upstreams).reduce((sum, upstream) => sum + upstream.requests.length, 0),
    releaseAll,
  };
}

/** A page signed in as `u-42`, or with no credentials. */
async function page(
  url: string,
  signal?: AbortSignal,
  { anonymous = false }: { anonymous?: boolean } = {},
): Promise<Response> {
  return fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(!anonymous && { authorization: `Bearer ${await signToken(TEST_SECRET, 'u-42')}` }),
    },
    body: JSON.stringify({ query: HOMEPAGE_QUERY }),
    signal,
  });
}

/**
 * Starts a page and waits until it holds the recommendations upstream: it is in
 * flight. The answer comes wrapped, or awaiting this would wait for it too.
 */
async function pageInFlight(
  bed: Saturable,
  signal?: AbortSignal,
): Promise<{ answer: Promise<Response> }> {
  const heldBefore = bed.held.length;
  const answer = page(bed.url, signal);
  answer.catch(() => {}); // An aborted page rejects; the test looks at the server.
  await vi.waitFor(() => expect(bed.held.length).toBe(heldBefore + 1));
  return { answer };
}

/**
 * Nine pages held in flight past the steady late mark (800 ms of a 1,000 ms
 * deadline), then the first `late` of them answered: the limit is cut to its
 * floor of 8 at the next interval (1000 / 15 ms), which has passed on return.
 * Gives the pages still held.
 */
async function cutToFloorByLatePages(
  bed: Saturable,
  late: number,
): Promise<Array<{ answer: Promise<Response> }>> {
  const pages = [];
  for (let i = 0; i < 9; i++) pages.push(await pageInFlight(bed));
  await new Promise((resolve) => setTimeout(resolve, 850));
  for (let i = 0; i < late; i++) bed.held.shift()?.();
  for (const { answer } of pages.slice(0, late)) expect((await answer).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 100));
  return pages.slice(late);
}

async function metricsText(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('load shedding', () => {
  it('answers a page over MAX_IN_FLIGHT with 503 OVERLOADED and Retry-After, calling no upstream', async () => {
    const bed = await startSaturable({ maxInFlight: 1 });
    const first = await pageInFlight(bed);
    const callsBefore = bed.upstreamCalls();

    const second = await page(bed.url);

    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(second.headers.get('cache-control')).toBe('no-store');
    expect(second.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await second.json()).toEqual({
      errors: [
        {
          message: 'The gateway is busy; try again shortly.',
          extensions: { code: 'OVERLOADED' },
        },
      ],
    });
    expect(bed.upstreamCalls()).toBe(callsBefore);

    bed.releaseAll();
    const done = await first.answer;
    expect(done.status).toBe(200);
    expect((await done.json()).data.homepage.recommendations.length).toBeGreaterThan(0);
  });

  it('answers /health, /ready and /metrics while saturated, and counts the shed request', async () => {
    const bed = await startSaturable({ maxInFlight: 1 });
    await pageInFlight(bed);
    expect((await page(bed.url)).status).toBe(503);

    expect((await fetch(`${bed.url}/health`)).status).toBe(200);
    expect((await fetch(`${bed.url}/ready`)).status).toBe(200);
    const metrics = await metricsText(bed.url);
    expect(metrics).toMatch(/^bff_requests_shed_total\{reason="in_flight"\} 1$/m);
    expect(metrics).toMatch(/^bff_requests_shed_total\{reason="deadline"\} 0$/m);
    expect(metrics).toMatch(/^bff_requests_in_flight 1$/m);
    expect(bed.admission.inFlight).toBe(1);
  });

  it('sheds every page while the standing wait is over its target', async () => {
    const bed = await startSaturable({ maxInFlight: 0, standingWaitMs: 250 });

    const response = await page(bed.url);

    expect(response.status).toBe(503);
    expect(bed.upstreamCalls()).toBe(0);
    const metrics = await metricsText(bed.url);
    expect(metrics).toMatch(/^bff_requests_shed_total\{reason="standing_wait"\} 1$/m);
    expect(metrics).toMatch(/^bff_admission_standing_wait_seconds 0\.25$/m);
    expect(metrics).toMatch(/^bff_admission_wait_target_seconds 0\.2$/m);
  });

  it('admits signed-in pages while the standing wait is under their target', async () => {
    const bed = await startSaturable({ maxInFlight: 0, standingWaitMs: 150 });
    const response = await pageInFlight(bed);
    bed.releaseAll();
    expect((await response.answer).status).toBe(200);
  });

  it('learns a limit once pages run late with the wait past its aim, and sheds past it as concurrency', async () => {
    // Target 200 ms, aim 50 ms; with what is in flight steady and nothing
    // refused, late past 800 ms (the steady mark, 0.8 of the deadline of
    // 1000 ms): a wait of 150 ms admits pages, and once one of them finishes
    // late the limit is cut to its floor of 8 at the next interval (1000 / 15 ms).
    const bed = await startSaturable({ maxInFlight: 0, standingWaitMs: 150 });
    const pages = await cutToFloorByLatePages(bed, 1);
    const callsBefore = bed.upstreamCalls();

    const tenth = await page(bed.url);

    expect(tenth.status).toBe(503);
    expect(bed.upstreamCalls()).toBe(callsBefore);
    const metrics = await metricsText(bed.url);
    expect(metrics).toMatch(/^bff_requests_shed_total\{reason="concurrency"\} 1$/m);
    expect(metrics).toMatch(/^bff_admission_concurrency_limit\{viewer="signed_in"\} 8$/m);
    bed.releaseAll();
    for (const { answer } of pages) expect((await answer).status).toBe(200);
  });

  it('sheds anonymous pages first once the limit binds: the last tenth of it is kept for signed-in pages', async () => {
    // As above: the limit is cut to its floor of 8, and held there (the wait
    // stays past its aim), so anonymous pages may fill 7 slots.
    const bed = await startSaturable({ maxInFlight: 0, standingWaitMs: 150 });
    const pages = await cutToFloorByLatePages(bed, 2);

    // 7 in flight: an anonymous page is refused, a signed-in one admitted.
    const anonymous = await page(bed.url, undefined, { anonymous: true });
    const signedIn = await pageInFlight(bed);

    expect(anonymous.status).toBe(503);
    const metrics = await metricsText(bed.url);
    expect(metrics).toMatch(/^bff_requests_shed_total\{reason="concurrency"\} 1$/m);
    expect(metrics).toMatch(/^bff_admission_concurrency_limit\{viewer="anonymous"\} 7$/m);
    expect(metrics).toMatch(/^bff_admission_concurrency_limit\{viewer="signed_in"\} 8$/m);
    bed.releaseAll();
    expect((await signedIn.answer).status).toBe(200);
    for (const { answer } of pages) expect((await answer).status).toBe(200);
  });

  it('never cuts its limit while pages finish in time, however busy the loop', async () => {
    const bed = await startSaturable({ maxInFlight: 0, standingWaitMs: 150 });
    for (let round = 0; round < 3; round++) {
      const pages = [];
      for (let i = 0; i < 9; i++) pages.push(await pageInFlight(bed));
      bed.releaseAll();
      for (const { answer } of pages) expect((await answer).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const metrics = await metricsText(bed.url);
    expect(metrics).toMatch(/^bff_requests_shed_total\{reason="concurrency"\} 0$/m);
  });

  it('admits anonymous pages up to MAX_IN_FLIGHT while no limit is learnt, even at 1', async () => {
    const bed = await startSaturable({ maxInFlight: 1 });
    const anonymous = page(bed.url, undefined, { anonymous: true });
    await vi.waitFor(() => expect(bed.held.length).toBe(1));
    bed.releaseAll();
    expect((await anonymous).status).toBe(200);
    expect(await metricsText(bed.url)).toMatch(
      /^bff_admission_concurrency_limit\{viewer="anonymous"\} 0$/m,
    );
  });

  it('counts a page out of flight when it is answered, and when its client goes away', async () => {
    const bed = await startSaturable({ maxInFlight: 1 });
    const answered = await pageInFlight(bed);
    bed.releaseAll();
    expect((await answered.answer).status).toBe(200);
    await vi.waitFor(() => expect(bed.admission.inFlight).toBe(0));

    const client = new AbortController();
    await pageInFlight(bed, client.signal);
    expect(bed.admission.inFlight).toBe(1);
    client.abort();
    await vi.waitFor(() => expect(bed.admission.inFlight).toBe(0));

    // The slot is free again: the next page is admitted, not shed.
    const next = await pageInFlight(bed);
    bed.releaseAll();
    expect((await next.answer).status).toBe(200);
    expect(await metricsText(bed.url)).toMatch(
      /^bff_requests_shed_total\{reason="in_flight"\} 0$/m,
    );
  });

  it('logs once when shedding starts and once when it stops, not per request', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger: Logger = {
      ...silentLogger,
      info: (line) =>
        void (typeof line === 'object' && lines.push(line as Record<string, unknown>)),
      warn: (line) =>
        void (typeof line === 'object' && lines.push(line as Record<string, unknown>)),
    };
    const bed = await startSaturable({ maxInFlight: 1, logger });
    await pageInFlight(bed);
    for (let i = 0; i < 3; i++) expect((await page(bed.url)).status).toBe(503);

    await vi.waitFor(
      () => expect(lines.map((line) => line.msg)).toContain('load shedding stopped'),
      { timeout: 5000 },
    );
    const shedding = lines.filter((line) => String(line.msg).startsWith('load shedding'));
    expect(shedding).toEqual([
      { msg: 'load shedding started', reason: 'in_flight' },
      expect.objectContaining({
        msg: 'load shedding stopped',
        shed: 3,
        byReason: { in_flight: 3 },
      }),
    ]);
  });
});

describe('no doomed work', () => {
  it('answers 503 OVERLOADED, calling no upstream, when a request can start only after its deadline', async () => {
    const bed = await startSaturable({ maxInFlight: 0, requestDeadlineMs: 100 });
    const body = JSON.stringify({ query: HOMEPAGE_QUERY });
    const { port } = new URL(bed.url);

    // Headers now, the body only once the deadline has passed: the request
    // cannot start in time.
    const answer = await new Promise<{
      status: number;
      headers: Record<string, unknown>;
      text: string;
    }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: Number(port),
          path: '/graphql',
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      setTimeout(() => req.end(body), 300);
    });

    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(answer.text)).toEqual({
      errors: [
        { message: 'The gateway is busy; try again shortly.', extensions: { code: 'OVERLOADED' } },
      ],
    });
    expect(bed.upstreamCalls()).toBe(0);
    expect(await metricsText(bed.url)).toMatch(/^bff_requests_shed_total\{reason="deadline"\} 1$/m);
  });
});

describe('the late-start check before execution', () => {
  it('stops a request whose deadline passed after its body was read, before any resolver runs', async () => {
    let resolved = 0;
    // On time when its body is read, late when execution would start (as after
    // a slow token check): the second look must catch it.
    let looks = 0;
    const record = RequestRecord.detached();
    Object.defineProperty(record, 'deadlineAt', {
      get: () => (++looks === 1 ? Date.now() + 60_000 : Date.now() - 1),
    });
    const metrics = createMetrics();
    const reporter = createShedReporter({ metrics: metrics.admission, logger: silentLogger });
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: 'type Query { page: String }',
        resolvers: { Query: { page: () => (resolved++, 'page') } },
      }),
      plugins: [useShedLateRequests({ records: { of: () => record }, reporter, marginMs: 10 })],
    });

    const response = await yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ page }' }),
    });

    expect(looks).toBe(2);
    expect(resolved).toBe(0);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      errors: [
        { message: 'The gateway is busy; try again shortly.', extensions: { code: 'OVERLOADED' } },
      ],
    });
    reporter.close();
  });
});

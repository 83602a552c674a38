import type { Handler } from './upstream.js';
import { sendJson } from './upstream.js';

export type Fault = {
  name: string;
  handler: Handler;
  /** What the gateway must report. */
  code: string;
  /** Requests the upstream must see for one call under the default policy (one retry). */
  calls: number;
};

const status =
  (code: number, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error: `status ${code}` }));
  };

const body =
  (contentType: string, text: string): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': contentType });
    res.end(text);
  };

/**
 * Upstreams that misbehave on purpose, each with the code the gateway must report
 * and how many requests it must receive: only connection errors and 502/503/504
 * are retried; a 429 only when its Retry-After fits the deadline.
 */
export const FAULTS: Fault[] = [
  { name: 'answers 500', code: 'UPSTREAM_UNAVAILABLE', calls: 1, handler: status(500) },
  { name: 'answers 502', code: 'UPSTREAM_UNAVAILABLE', calls: 2, handler: status(502) },
  { name: 'answers 503', code: 'UPSTREAM_UNAVAILABLE', calls: 2, handler: status(503) },
  { name: 'answers 504', code: 'UPSTREAM_UNAVAILABLE', calls: 2, handler: status(504) },
  {
    name: 'answers 429 without Retry-After',
    code: 'UPSTREAM_RATE_LIMITED',
    calls: 1,
    handler: status(429),
  },
  {
    name: 'answers 429 with a Retry-After far past the deadline',
    code: 'UPSTREAM_RATE_LIMITED',
    calls: 1,
    handler: status(429, { 'retry-after': '3600' }),
  },
  {
    name: 'answers 429 with a Retry-After date far past the deadline',
    code: 'UPSTREAM_RATE_LIMITED',
    calls: 1,
    handler: status(429, { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() }),
  },
  {
    name: 'resets the connection',
    code: 'UPSTREAM_UNAVAILABLE',
    calls: 2,
    handler: (req) => {
      req.socket.destroy();
    },
  },
  {
    name: 'resets mid-body',
    code: 'UPSTREAM_UNAVAILABLE',
    calls: 2,
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"promotions":[', () => setTimeout(() => res.socket?.destroy(), 20));
    },
  },
  { name: 'hangs before headers', code: 'UPSTREAM_TIMEOUT', calls: 1, handler: () => {} },
  {
    name: 'sends headers then stalls the body',
    code: 'UPSTREAM_TIMEOUT',
    calls: 1,
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items":[');
    },
  },
  {
    name: 'sends invalid JSON',
    code: 'UPSTREAM_BAD_RESPONSE',
    calls: 1,
    handler: body('application/json', '{"promotions": [ {"id": '),
  },
  {
    name: 'sends an HTML error page',
    code: 'UPSTREAM_BAD_RESPONSE',
    calls: 1,
    handler: body('text/html', '<html><body>Oops</body></html>'),
  },
  {
    name: 'sends JSON of the wrong shape',
    code: 'UPSTREAM_BAD_RESPONSE',
    calls: 1,
    handler: (_req, res) => sendJson(res, { data: { things: [] } }),
  },
  { name: 'answers 404', code: 'UPSTREAM_BAD_RESPONSE', calls: 1, handler: status(404) },
  {
    name: 'redirects',
    code: 'UPSTREAM_BAD_RESPONSE',
    calls: 1,
    handler: (_req, res) => {
      res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' });
      res.end();
    },
  },
  {
    name: 'sends a body over 1 MiB (no content-length)',
    code: 'UPSTREAM_BAD_RESPONSE',
    calls: 1,
    handler: body(
      'application/json',
      JSON.stringify({
        promotions: [],
        items: [],
        books: [],
        padding: 'x'.repeat(2 * 1024 * 1024),
      }),
    ),
  },
  {
    name: 'declares a content-length over 1 MiB',
    code: 'UPSTREAM_BAD_RESPONSE',
    calls: 1,
    handler: (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(5 * 1024 * 1024),
      });
      res.write('{"promotions":[');
    },
  },
];

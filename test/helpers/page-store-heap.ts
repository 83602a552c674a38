import { randomBytes } from 'node:crypto';
import { createMemoryPageStore } from '../../src/inbound/page-store.js';

// Run as a child process with `--expose-gc` (test/page-store-bytes.test.ts): how
// much the heap grows, after a forced collection, once a page store bounded by
// MAX_BYTES has taken many header-heavy pages. Prints one JSON line.

const MAX_BYTES = Number(process.env.MAX_BYTES ?? 2 * 1024 * 1024);
const PAGES = Number(process.env.PAGES ?? 5500);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

/** A distinct, flat string of `length` characters, as Node's HTTP parser makes them. */
const unique = (length: number) => randomBytes(length / 2).toString('hex');

const store = createMemoryPageStore({ maxBytes: MAX_BYTES });
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < PAGES; i++) {
  const origin = `https://${unique(4000)}.example`;
  const body = Buffer.from(`{"data":{"page":${i}}}`.padEnd(300));
  store.set(`key-${unique(40)}`, {
    status: 200,
    // CORS echoes the Origin: a second copy, in the answer's headers.
    headers: {
      'content-type': 'application/json',
      'access-control-allow-origin': origin.slice(0),
      vary: unique(2000),
    },
    body,
    etag: `"${unique(24)}"`,
    storedAt: Date.now(),
    freshUntil: Date.now() + 60_000,
    staleUntil: Date.now() + 120_000,
    replay: {
      method: 'GET',
      url: `http://gateway.test/graphql?query=${unique(2000)}`,
      headers: { origin, accept: unique(2000), 'content-type': 'application/json' },
      body: null,
    },
  });
}
gc();
const after = process.memoryUsage().heapUsed;
console.log(JSON.stringify({ growth: after - before, bytes: store.bytes, maxBytes: MAX_BYTES }));

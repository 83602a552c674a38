import { describe, expect, it } from 'vitest';
import { HOMEPAGE_QUERY, useTestBeds } from './helpers/gateway.js';

// Work that can be done once must not be done per request. zod 4 compiles a
// parser for every schema object the first time it parses (`new Function` in its
// object JIT, 43 µs against 1.5 µs for a parse), and graphql-jit compiles each
// document the same way: so a page that builds a schema, or compiles anything,
// shows up as a `new Function` call. Counted across whole pages, after one page
// has warmed every module-level schema and the document's compiled query.

const startTestBed = useTestBeds();

/** Calls of the global `Function` constructor while `work` runs. */
async function functionBuilds(work: () => Promise<void>): Promise<number> {
  const global = globalThis as { Function: FunctionConstructor };
  const Original = global.Function;
  let builds = 0;
  global.Function = new Proxy(Original, {
    construct(target, args: string[]) {
      builds++;
      return Reflect.construct(target, args) as object;
    },
    apply(target, self, args: string[]) {
      builds++;
      return Reflect.apply(target, self, args) as unknown;
    },
  });
  try {
    await work();
  } finally {
    global.Function = Original;
  }
  return builds;
}

describe('hot path', () => {
  it('builds no parser and compiles nothing per page, signed in or anonymous', async () => {
    // Caches off: every page parses every upstream payload.
    const bed = await startTestBed({
      promoCache: { ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 },
      catalogCache: { ttlMs: 0 },
    });
    const token = await bed.tokenFor('u-1');
    const pages = async () => {
      for (const authorization of [undefined, `Bearer ${token}`]) {
        const { body } = await bed.query(HOMEPAGE_QUERY, { authorization });
        expect(body.errors).toBeUndefined();
        expect(body.data?.homepage.recommendations.length).toBeGreaterThan(0);
      }
    };
    await pages(); // Warm: module-level schemas and the compiled query are built here.
    expect(await functionBuilds(pages)).toBe(0);
  });

  it('notices a schema built per request (the counter works)', async () => {
    const { z } = await import('zod');
    const builds = await functionBuilds(async () => {
      z.object({ id: z.string() }).parse({ id: 'a' });
    });
    expect(builds).toBeGreaterThan(0);
  });
});

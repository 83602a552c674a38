import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../src/logger.js';
import type { SelectedFields } from '../src/observability/schema-field-counter.js';
import { useSchemaUsage } from '../src/plugins/use-schema-usage.js';
import { useBuiltServers } from './helpers/built-server.js';
import { HOMEPAGE_QUERY } from './helpers/gateway.js';

// Who uses which field: counted by the gateway per client name and version, in
// the format `npm run schema:check -- --usage` reads.

const startServer = useBuiltServers();
/** A whole server in development mode (metrics on the main port); its origin. */
const start = async (env: Record<string, string> = {}) =>
  (await startServer({ MAX_IN_FLIGHT: '0', ...env })).origin;

const page = (origin: string, headers: Record<string, string>) =>
  fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query: HOMEPAGE_QUERY }),
  });

function schemaCheck(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/schema-check.ts', ...args],
      { env: { PATH: process.env.PATH, ...env } },
      (error, stdout) =>
        resolve({ code: typeof error?.code === 'number' ? error.code : error ? -1 : 0, stdout }),
    );
  });
}

const metrics = async (origin: string) => (await fetch(`${origin}/metrics`)).text();

describe('schema usage in /metrics', () => {
  it('counts the coordinates each page selects per client name and version', async () => {
    // The page cache would answer repeats before GraphQL runs: off, to count each.
    const origin = await start({ PAGE_CACHE_TTL_MS: '0' });
    const ios = { 'apollographql-client-name': 'ios', 'apollographql-client-version': '3.1' };
    for (const headers of [ios, ios, { 'apollographql-client-name': 'web' }]) {
      expect((await page(origin, headers)).status).toBe(200);
    }
    const text = await metrics(origin);
    expect(text).toContain('# TYPE bff_schema_field_requests_total counter');
    expect(text).toContain(
      'bff_schema_field_requests_total{coordinate="Book.title",client="ios",client_version="3.1"} 2',
    );
    expect(text).toContain(
      'bff_schema_field_requests_total{coordinate="Recommendation.reason",client="web",client_version="none"} 1',
    );
    expect(text).toContain(
      'bff_schema_field_requests_total{coordinate="Query.homepage",client="ios",client_version="3.1"} 2',
    );
    // Counted once per scrape, not again.
    expect(await metrics(origin)).toContain(
      'bff_schema_field_requests_total{coordinate="Book.title",client="ios",client_version="3.1"} 2',
    );
  });

  it('gives a scrape that schema:check --usage reads, naming the client that would break', async () => {
    const origin = await start({ PAGE_CACHE_TTL_MS: '0' });
    const android = {
      'apollographql-client-name': 'android',
      'apollographql-client-version': '7.0',
    };
    expect((await page(origin, android)).status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), 'schema-usage-'));
    try {
      const usage = join(dir, 'metrics.txt');
      writeFileSync(usage, await metrics(origin));
      const candidate = join(dir, 'schema.graphql');
      writeFileSync(
        candidate,
        readFileSync('schema.graphql', 'utf8').replace(
          /\n\s*"Why this book[^\n]*\n\s*reason: String/,
          '',
        ),
      );
      // No kept documents: only the scrape knows who selects the field.
      mkdirSync(join(dir, 'operations'));
      const run = await schemaCheck(
        [
          '--base',
          'schema.graphql',
          '--schema',
          candidate,
          '--operations',
          join(dir, 'operations'),
          '--usage',
          usage,
        ],
        { TRUSTED_DOCUMENTS_MANIFEST: join(dir, 'none.json') },
      );
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        'breaks client android version 7.0: 1 requests selected Recommendation.reason',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts nothing with SCHEMA_USAGE=false', async () => {
    const origin = await start({ PAGE_CACHE_TTL_MS: '0', SCHEMA_USAGE: 'false' });
    expect((await page(origin, { 'apollographql-client-name': 'ios' })).status).toBe(200);
    expect(await metrics(origin)).not.toMatch(/^bff_schema_field_requests_total\{/m);
  });
});

describe('useSchemaUsage', () => {
  const typeDefs = /* GraphQL */ `
    type Query {
      title: String
      headline: String @deprecated(reason: "Use title.")
    }
  `;

  function gateway(logger: Logger) {
    const counted: Array<{ selected: SelectedFields; client: string | undefined }> = [];
    const yoga = createYoga({
      schema: createSchema({
        typeDefs,
        resolvers: { Query: { title: () => 't', headline: () => 'h' } },
      }),
      logging: false,
      plugins: [
        useSchemaUsage({
          counter: {
            count: (selected, client) => counted.push({ selected, client: client?.version }),
          },
          logger,
        }),
      ],
    });
    const ask = (query: string, version: string) =>
      yoga.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'apollographql-client-name': 'ios',
          'apollographql-client-version': version,
        },
        body: JSON.stringify({ query }),
      });
    return { ask, counted };
  }

  it('computes the coordinates of a document once, whatever the number of requests', async () => {
    const { ask, counted } = gateway(silentLogger);
    await ask('{ title }', '1');
    await ask('{ title }', '2');
    expect(counted.map(({ client }) => client)).toEqual(['1', '2']);
    // The same object both times: computed on the first request, then looked up.
    expect(counted[1]?.selected).toBe(counted[0]?.selected);
    expect(counted[0]?.selected.fields).toEqual(['Query.title']);
  });

  it('keeps deprecated fields working and logs their use once per client version and coordinate', async () => {
    const warnings: unknown[] = [];
    const { ask } = gateway({ ...silentLogger, warn: (line) => warnings.push(line) });
    const first = await ask('{ headline }', '3.1');
    expect(await first.json()).toEqual({ data: { headline: 'h' } });
    await ask('{ headline }', '3.1');
    await ask('{ headline title }', '3.1');
    await ask('{ headline }', '3.2');
    expect(warnings).toEqual([
      {
        msg: 'deprecated field used',
        coordinate: 'Query.headline',
        client: 'ios',
        clientVersion: '3.1',
      },
      {
        msg: 'deprecated field used',
        coordinate: 'Query.headline',
        client: 'ios',
        clientVersion: '3.2',
      },
    ]);
  });
});

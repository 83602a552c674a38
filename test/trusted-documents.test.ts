import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../src/logger.js';
import { documentId, readManifest } from '../src/trusted-documents.js';
import { useTestBeds } from './helpers/gateway.js';

const startBed = useTestBeds();
const manifest = readManifest('operations/manifest.json');
const web = readFileSync('operations/web/Homepage.graphql', 'utf8');
const mobile = readFileSync('operations/mobile/HomepageCompact.graphql', 'utf8');
const post = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
  body: JSON.stringify(body),
});

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warn: (...args) => warnings.push(args.join(' ')), warnings };
}

describe('trusted documents', () => {
  it('has every operation file in the manifest, keyed by the sha256 of its text', () => {
    expect(Object.keys(manifest).sort()).toEqual([documentId(web), documentId(mobile)].sort());
  });

  it.each(['off', 'log', 'enforce'] as const)(
    'serves a documentId from the manifest in %s mode',
    async (mode) => {
      const bed = await startBed({ security: { trustedDocuments: { mode, manifest } } });
      const { status, body } = await bed.request(post({ documentId: documentId(mobile) }));

      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data?.homepage.promo[0]).toEqual({
        id: 'p-1',
        title: 'Banner p-1',
        imageUrl: 'https://img.test/p-1.png',
        link: '/campaigns/p-1',
      });
      expect(bed.upstreams.recommendations.requests[0]?.url.searchParams.get('limit')).toBe('6');
    },
  );

  it("accepts Apollo's persistedQuery extension as well", async () => {
    const bed = await startBed({ security: { trustedDocuments: { mode: 'enforce', manifest } } });
    const hash = documentId(web).slice('sha256:'.length);
    const { status, body } = await bed.request(
      post({
        extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
        variables: { limit: 2 },
      }),
    );
    expect(status).toBe(200);
    expect(body.data?.homepage.recommendations).toHaveLength(2);
  });

  it('rejects an unknown documentId with 400 and calls no upstream', async () => {
    const bed = await startBed({ security: { trustedDocuments: { mode: 'off', manifest } } });
    const { status, body } = await bed.request(post({ documentId: `sha256:${'0'.repeat(64)}` }));

    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(bed.upstreams.promo.requests).toHaveLength(0);
  });

  it('enforce: rejects any operation sent as text, even a known one, and calls no upstream', async () => {
    const bed = await startBed({ security: { trustedDocuments: { mode: 'enforce', manifest } } });
    for (const query of ['{ homepage { promo { id } } }', mobile]) {
      const { status, body } = await bed.request(post({ query }));
      expect(status).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    }
    expect(bed.upstreams.promo.requests).toHaveLength(0);
  });

  it('log: runs operations sent as text and logs those not in the manifest', async () => {
    const logger = recordingLogger();
    const bed = await startBed({
      logger,
      security: { trustedDocuments: { mode: 'log', manifest } },
    });
    const unknown = await bed.request(
      post({ query: 'query Sneaky { homepage { promo { id } } }' }),
    );
    const known = await bed.request(post({ query: mobile }));

    expect(unknown.status).toBe(200);
    expect(known.status).toBe(200);
    const untrusted = logger.warnings.filter((line) => line.includes('Untrusted operation'));
    expect(untrusted).toHaveLength(1);
    expect(untrusted[0]).toContain('Sneaky');
  });

  it('off: runs operations sent as text without a word', async () => {
    const logger = recordingLogger();
    const bed = await startBed({
      logger,
      security: { trustedDocuments: { mode: 'off', manifest } },
    });
    expect(
      (await bed.request(post({ query: 'query Other { homepage { promo { id } } }' }))).status,
    ).toBe(200);
    expect(logger.warnings.filter((line) => line.includes('Untrusted'))).toEqual([]);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryPersistedQueryStore } from '../src/persisted/persisted-query-store.js';
import { createRegistrationBudget } from '../src/persisted/registration-budget.js';
import { requestedDocument } from '../src/persisted/requested-document.js';
import { documentId, loadManifest, readManifest } from '../src/trusted-documents.js';
import { useTestBeds } from './helpers/gateway.js';

const startBed = useTestBeds();
const manifest = readManifest('operations/manifest.json');
const ad_hoc = 'query Promos { homepage { promo { id title } } }';
const hashOf = (query: string) => documentId(query).slice('sha256:'.length);
const post = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
  body: JSON.stringify(body),
});
const apq = (hash: string, query?: string) =>
  post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
const [[mobileId, mobile]] = Object.entries(manifest).filter(([, text]) =>
  text.includes('HomepageCompact'),
) as [[string, string]];

describe('which document a request names', () => {
  const url = (search = '') => new URL(`http://gateway.test/graphql${search}`);
  it.each([
    ['nothing', {}, url(), { kind: 'none' }],
    [
      "Apollo's extension",
      { extensions: { persistedQuery: { version: 1, sha256Hash: 'ab' } } },
      url(),
      { kind: 'apq', hash: 'ab', version: 1 },
    ],
    [
      'documentId in the body',
      { documentId: 'sha256:ab' },
      url(),
      { kind: 'id', id: 'sha256:ab', via: 'documentId' },
    ],
    ["Relay's doc_id", { doc_id: 'q1' }, url(), { kind: 'id', id: 'q1', via: 'doc_id' }],
    ['the legacy id', { id: 'q1' }, url(), { kind: 'id', id: 'q1', via: 'id' }],
    [
      'documentId in the URL (GET)',
      {},
      url('?documentId=sha256:cd'),
      { kind: 'id', id: 'sha256:cd', via: 'documentId' },
    ],
    ['doc_id in the URL (GET)', {}, url('?doc_id=q2'), { kind: 'id', id: 'q2', via: 'doc_id' }],
    ['a non-string id', { id: 7 }, url(), { kind: 'none' }],
  ])('%s', (_, params, at, expected) => {
    expect(requestedDocument(params, at)).toEqual(expected);
  });
});

describe('automatic persisted queries', () => {
  it('answers an unknown hash with PersistedQueryNotFound (200, not cacheable) and calls no upstream', async () => {
    const bed = await startBed();
    const { status, headers, body } = await bed.request(apq(hashOf(ad_hoc)));

    expect(status).toBe(200);
    expect(headers.get('cache-control')).toContain('no-cache');
    expect(body.errors?.[0]).toMatchObject({
      message: 'PersistedQueryNotFound',
      extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
    });
    expect(bed.upstreams.promo.requests).toHaveLength(0);
  });

  it('registers a hash sent with its query, and later serves the hash alone', async () => {
    const bed = await startBed();
    const first = await bed.request(apq(hashOf(ad_hoc), ad_hoc));
    const second = await bed.request(apq(hashOf(ad_hoc)));

    expect(first.body.data?.homepage.promo[0].id).toBe('p-1');
    expect(second.status).toBe(200);
    expect(second.body.errors).toBeUndefined();
    expect(second.body.data).toEqual(first.body.data);
  });

  it('refuses a query whose text does not match its hash, and registers nothing', async () => {
    const bed = await startBed();
    const other = hashOf('{ homepage { promo { id } } }');
    const refused = await bed.request(apq(other, ad_hoc));
    const after = await bed.request(apq(other));

    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
    expect(after.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(bed.upstreams.promo.requests).toHaveLength(0);
  });

  it('does not register a document that fails validation', async () => {
    const bed = await startBed();
    const invalid = '{ homepage { nope } }';
    expect((await bed.request(apq(hashOf(invalid), invalid))).status).toBe(400);
    const after = await bed.request(apq(hashOf(invalid)));
    expect(after.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('enforce: never registers, and refuses the text of an unknown hash', async () => {
    const bed = await startBed({ security: { trustedDocuments: { mode: 'enforce', manifest } } });
    const retried = await bed.request(apq(hashOf(ad_hoc), ad_hoc));
    const after = await bed.request(apq(hashOf(ad_hoc)));

    expect(retried.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    expect(after.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(bed.upstreams.promo.requests).toHaveLength(0);
  });

  it('enforce: runs a manifest document sent with its hash and text', async () => {
    const bed = await startBed({ security: { trustedDocuments: { mode: 'enforce', manifest } } });
    const { status, body } = await bed.request(apq(hashOf(mobile), mobile));
    expect(status).toBe(200);
    expect(body.data?.homepage.promo).toHaveLength(2);
  });

  it('stops registering past its budget, still running the queries', async () => {
    const bed = await startBed({ security: { trustedDocuments: { registrationsPerMinute: 1 } } });
    const second = 'query Two { homepage { promo { id } } }';
    await bed.request(apq(hashOf(ad_hoc), ad_hoc));
    const ran = await bed.request(apq(hashOf(second), second));

    expect(ran.body.data?.homepage.promo).toHaveLength(2);
    expect((await bed.request(apq(hashOf(ad_hoc)))).body.errors).toBeUndefined();
    expect((await bed.request(apq(hashOf(second)))).body.errors?.[0]?.extensions?.code).toBe(
      'PERSISTED_QUERY_NOT_FOUND',
    );
  });

  it('answers PersistedQueryNotSupported when APQ is off, so clients stop sending hashes first', async () => {
    const bed = await startBed({ security: { trustedDocuments: { storeMaxBytes: 0 } } });
    const { status, body } = await bed.request(apq(hashOf(ad_hoc)));
    expect(status).toBe(200);
    expect(body.errors?.[0]).toMatchObject({
      message: 'PersistedQueryNotSupported',
      extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' },
    });
    expect((await bed.request(apq(hashOf(ad_hoc), ad_hoc))).body.data?.homepage.promo).toHaveLength(
      2,
    );
  });

  it('treats a failing shared store as a miss, and still runs the text', async () => {
    const failing = {
      get: () => Promise.reject(new Error('connection refused')),
      set: () => Promise.reject(new Error('connection refused')),
    };
    const bed = await startBed({ persistedQueryStore: failing });
    const miss = await bed.request(apq(hashOf(ad_hoc)));
    const retried = await bed.request(apq(hashOf(ad_hoc), ad_hoc));

    expect(miss.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(retried.body.data?.homepage.promo).toHaveLength(2);
  });

  it('keeps the memory store under its byte bound, dropping the least recently used', async () => {
    const store = createMemoryPersistedQueryStore({ maxBytes: 300 });
    await store.set('a', 'x'.repeat(100));
    await store.set('b', 'y'.repeat(100));
    await store.get('a');
    await store.set('c', 'z'.repeat(100));
    await store.set('huge', 'w'.repeat(1000));

    expect(await store.get('a')).toBeDefined();
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('c')).toBeDefined();
    expect(await store.get('huge')).toBeUndefined();
  });

  it('refills the registration budget evenly over a minute', () => {
    let now = 0;
    const budget = createRegistrationBudget({ perMinute: 2, now: () => now });
    expect([budget.take(), budget.take(), budget.take()]).toEqual([true, true, false]);
    now = 30_000;
    expect([budget.take(), budget.take()]).toEqual([true, false]);
  });
});

describe('persisted document ids', () => {
  it.each([
    ['documentId (POST)', () => post({ documentId: mobileId })],
    ['doc_id (POST)', () => post({ doc_id: mobileId })],
    ['id (POST)', () => post({ id: mobileId })],
    [
      'documentId (GET)',
      (): RequestInit => ({ method: 'GET', headers: { accept: 'application/json' } }),
      `?documentId=${mobileId}`,
    ],
    [
      'doc_id (GET)',
      (): RequestInit => ({ method: 'GET', headers: { accept: 'application/json' } }),
      `?doc_id=${mobileId}`,
    ],
  ])('serves a manifest document named by %s', async (_, init, search = '') => {
    const bed = await startBed({ security: { trustedDocuments: { mode: 'enforce', manifest } } });
    const { status, body } = await bed.request({ ...init(), path: `/graphql${search}` });
    expect(status).toBe(200);
    expect(body.data?.homepage.promo).toHaveLength(2);
  });

  it('tells a GET without query or id what to send', async () => {
    const bed = await startBed();
    const { status, body } = await bed.request({
      method: 'GET',
      headers: { accept: 'application/json' },
    });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toContain('documentId');
  });
});

describe('manifest formats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
  const write = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(content));
    return path;
  };
  const query = 'query Hello { homepage { promo { id } } }';

  it("reads graphql-codegen's and Relay's { id: text }, Apollo's manifest, and merges several files", () => {
    const codegen = write('codegen.json', { [hashOf(query)]: query });
    const relay = write('relay.json', { '0123456789abcdef0123456789abcdef': query });
    const apollo = write('apollo.json', {
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: hashOf(mobile), name: 'HomepageCompact', type: 'query', body: mobile }],
    });
    const merged = loadManifest(`${codegen}, ${relay},${apollo}`, 'enforce');

    expect(merged).toEqual({
      [documentId(query)]: query,
      '0123456789abcdef0123456789abcdef': query,
      [documentId(mobile)]: mobile,
    });
    expect(loadManifest(`${codegen}:${apollo}`, 'enforce')).toEqual({
      [documentId(query)]: query,
      [documentId(mobile)]: mobile,
    });
  });

  it.each([
    [
      'a SHA-256 id that does not match its text',
      { [hashOf(query)]: `${query} ` },
      'does not match',
    ],
    [
      'an Apollo manifest of another version',
      { format: 'apollo-persisted-query-manifest', version: 2, operations: [] },
      'not a trusted-document manifest',
    ],
    ['a list', [query], 'not a trusted-document manifest'],
  ])('refuses %s', (_, content, message) => {
    expect(() => readManifest(write('bad.json', content))).toThrow(message);
  });

  it('refuses a missing file unless the mode is off', () => {
    expect(loadManifest(join(dir, 'missing.json'), 'off')).toEqual({});
    expect(() => loadManifest(join(dir, 'missing.json'), 'log')).toThrow('does not exist');
  });
});

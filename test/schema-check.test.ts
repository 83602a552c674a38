import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { documentId } from '../src/trusted-documents.js';

// npm run schema:check as CI runs it: the CLI in a child process, with schemas,
// kept documents and usage files written to a temporary directory.

const SCHEMA = readFileSync('schema.graphql', 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'schema-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** schema.graphql with `lines` added to type Book. */
const withBookFields = (...lines: string[]) =>
  SCHEMA.replace(
    '  coverUrl: String\n}',
    `  coverUrl: String\n${lines.map((l) => `  ${l}\n`).join('')}}`,
  );

let files = 0;
function file(text: string, name = `file-${files++}`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The repository's operations/, plus `extra` documents (path under operations/ → text). */
function operations(extra: Record<string, string>): string {
  const root = join(dir, `operations-${files++}`);
  cpSync('operations', root, { recursive: true });
  for (const [path, text] of Object.entries(extra)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

type Run = { code: number; stdout: string; stderr: string };

function schemaCheck(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/schema-check.ts', ...args],
      { env: { PATH: process.env.PATH, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const BOOK_FIELDS_QUERY = (field: string) =>
  `query Legacy {\n  homepage {\n    recommendations {\n      book {\n        id\n        ${field}\n      }\n    }\n  }\n}\n`;

describe('npm run schema:check', () => {
  it("fails on a rename the web page's document uses, naming the document", async () => {
    const candidate = file(
      SCHEMA.replace('  title: String!\n  authors', '  name: String!\n  authors'),
    );
    const run = await schemaCheck(['--base', 'schema.graphql', '--schema', candidate]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/BREAKING, in use: Book\.title: Field 'title' was removed/);
    expect(run.stdout).toContain('breaks document operations/web/Homepage.graphql (client web)');
    expect(run.stdout).toContain('Book.name');
  });

  it("fails on a field only an older client version's kept document uses, naming client and version", async () => {
    const base = file(withBookFields('subtitle: String'));
    const root = operations({ 'ios/3.1/Legacy.graphql': BOOK_FIELDS_QUERY('subtitle') });
    const run = await schemaCheck(['--base', base, '--operations', root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Book.subtitle');
    expect(run.stdout).toContain(
      `document ${join(root, 'ios/3.1/Legacy.graphql')} (client ios version 3.1)`,
    );
    // The documents of today's clients do not select it.
    expect(run.stdout).not.toContain('Homepage.graphql');
  });

  it('fails on a field only a trusted-document manifest uses, naming its id', async () => {
    const base = file(withBookFields('isbn: String'));
    const legacy = BOOK_FIELDS_QUERY('isbn');
    const manifest = file(JSON.stringify({ [documentId(legacy)]: legacy }), 'manifest.json');
    const run = await schemaCheck(['--base', base], { TRUSTED_DOCUMENTS_MANIFEST: manifest });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `breaks document ${documentId(legacy)} (a trusted-document manifest)`,
    );
  });

  it('fails on a coordinate in use only according to the usage file, naming the client, with replicas summed', async () => {
    const base = file(withBookFields('edition: Int'));
    const usage = file(
      [
        '# HELP bff_schema_field_requests_total Requests whose operation selected a schema coordinate',
        '# TYPE bff_schema_field_requests_total counter',
        'bff_schema_field_requests_total{coordinate="Book.edition",client="android",client_version="2.0",instance="a"} 40',
        'bff_schema_field_requests_total{coordinate="Book.edition",client="android",client_version="2.0",instance="b"} 2 1733300000000',
        'bff_schema_field_requests_total{coordinate="Book.id",client="web",client_version="none"} 900',
        'bff_http_requests_total{client="android",client_version="2.0",status="200"} 42',
      ].join('\n'),
    );
    const run = await schemaCheck(['--base', base, '--usage', usage]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'breaks client android version 2.0: 42 requests selected Book.edition (usage file)',
    );
  });

  it('passes an added field', async () => {
    const candidate = file(withBookFields('"The edition, for collectors." edition: Int'));
    const run = await schemaCheck(['--base', 'schema.graphql', '--schema', candidate]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Book.edition: Field 'edition' was added");
  });

  it('passes the removal of a field nothing uses, listing it as breaking but unused', async () => {
    const base = file(withBookFields('subtitle: String'));
    const usage = file(
      'bff_schema_field_requests_total{coordinate="Book.subtitle",client="ios",client_version="3.0"} 0\n' +
        'bff_schema_field_requests_total{coordinate="Book.id",client="ios",client_version="3.0"} 7\n',
    );
    const run = await schemaCheck(['--base', base, '--usage', usage]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /Breaking, but no kept document or counted client uses it:\n {2}Book\.subtitle: Field 'subtitle' was removed/,
    );
  });

  it.each([
    ['no --base', [], /--base <schema file> is required/],
    ['an unknown option', ['--base', 'schema.graphql', '--bogus'], /bad arguments: .*--bogus/],
    ['an unreadable base', ['--base', join(dir, 'missing.graphql')], /cannot read the base schema/],
    [
      'an unparsable base',
      ['--base', 'package.json'],
      /the base schema package\.json is not a valid schema/,
    ],
  ])('refuses %s with exit 2 and a message', async (_, args, message) => {
    const run = await schemaCheck(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('refuses a kept document that does not parse with exit 2, naming it', async () => {
    const root = operations({ 'ios/3.0/Broken.graphql': 'query Broken {\n  homepage {\n' });
    const run = await schemaCheck(['--base', 'schema.graphql', '--operations', root]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${join(root, 'ios/3.0/Broken.graphql')}: Syntax Error`);
  });

  it('refuses a usage file that is not a scrape with exit 2 and a message', async () => {
    const notMetrics = await schemaCheck(['--base', 'schema.graphql', '--usage', file('hello\n')]);
    expect(notMetrics.code).toBe(2);
    expect(notMetrics.stderr).toMatch(
      /the usage file .* no bff_schema_field_requests_total samples/,
    );
    const broken = await schemaCheck([
      '--base',
      'schema.graphql',
      '--usage',
      file('bff_schema_field_requests_total{coordinate="Book.id" 3\n'),
    ]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/line 1/);
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { documentFiles } from '../schema-check/kept-documents.js';
import { documentId } from '../trusted-documents.js';

// Builds operations/manifest.json from operations/**/*.graphql (at any depth:
// operations/<client>/<version>/…, the kept documents schema:check reads), after checking each
// document against schema.graphql. `--check` fails when the manifest is stale.
//   npm run documents            (write)
//   npm run documents -- --check (CI)

const ROOT = 'operations';
const MANIFEST = join(ROOT, 'manifest.json');

const schema = buildSchema(readFileSync('schema.graphql', 'utf8'));
const files = documentFiles(ROOT);

let failed = false;
const manifest: Record<string, string> = {};
for (const file of files) {
  const document = readFileSync(file, 'utf8');
  const errors = validate(schema, parse(document));
  if (errors.length > 0) {
    failed = true;
    for (const error of errors) console.error(`${relative('.', file)}: ${error.message}`);
    continue;
  }
  manifest[documentId(document)] = document;
  console.log(`${documentId(document)}  ${relative(ROOT, file)}`);
}
if (failed) process.exit(1);

const text = `${JSON.stringify(manifest, null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(MANIFEST, 'utf8');
  } catch {
    // Missing counts as stale.
  }
  if (current !== text) {
    console.error(`${MANIFEST} is stale: run npm run documents`);
    process.exit(1);
  }
} else {
  writeFileSync(MANIFEST, text);
}

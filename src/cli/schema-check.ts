import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { loadConfig } from '../config.js';
import type { SchemaChange } from '../schema-check/classify-changes.js';
import { checkSchema, type CheckReport, type Use } from '../schema-check/check-schema.js';
import { loadKeptDocuments } from '../schema-check/kept-documents.js';
import { parseUsage, type UsageSample } from '../schema-check/usage-file.js';

// Checks that every client version keeps working with the candidate schema:
//   npm run schema:check -- --base schema/released.graphql [--usage metrics.txt]
// Exit 0: no breaking change is in use (those nothing uses are listed);
// 1: a breaking change touches what a kept document selects or the usage file counts;
// 2: the check could not run (arguments, an unreadable or unparsable file).

const USAGE = `Usage: npm run schema:check -- --base <schema file> [--usage <metrics file>]
  --base <file>        the released schema to compare with (e.g. schema/released.graphql)
  --usage <file>       Prometheus text with bff_schema_field_requests_total (a /metrics scrape or a /federate dump)
  --schema <file>      the candidate schema (default: schema.graphql)
  --operations <dir>   the kept documents, at any depth (default: operations)
Manifests named by TRUSTED_DOCUMENTS_MANIFEST are kept documents too.`;

/** A reason the check cannot run: printed, exit 2. */
class CannotCheck extends Error {}
/** Arguments the check cannot run with: printed with the usage, exit 2. */
class BadArguments extends CannotCheck {}

try {
  const options = readOptions(process.argv.slice(2));
  const base = readSchema(options.base, 'base');
  const candidate = readSchema(options.schema, 'candidate');
  const usage = options.usage === undefined ? [] : readUsage(options.usage);
  const manifest = readManifests();
  const documents = loadKeptDocuments(options.operations, manifest);
  const report = await checkSchema({ base, candidate, documents, usage });
  process.exit(print(report, documents.length, usage));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`schema:check cannot run: ${message}`);
  if (error instanceof BadArguments) console.error(USAGE);
  process.exit(2);
}

// Private helpers.

function readOptions(args: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        base: { type: 'string' },
        usage: { type: 'string' },
        schema: { type: 'string', default: 'schema.graphql' },
        operations: { type: 'string', default: 'operations' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new BadArguments(`bad arguments: ${(error as Error).message}`);
  }
  if (values.base === undefined)
    throw new BadArguments('bad arguments: --base <schema file> is required');
  return { ...values, base: values.base };
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CannotCheck(`cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
}

function readSchema(path: string, what: 'base' | 'candidate'): GraphQLSchema {
  const text = readText(path, `${what} schema`);
  try {
    return buildSchema(text);
  } catch (error) {
    throw new CannotCheck(
      `the ${what} schema ${path} is not a valid schema: ${(error as Error).message}`,
    );
  }
}

function readUsage(path: string): UsageSample[] {
  const text = readText(path, 'usage file');
  try {
    return parseUsage(text);
  } catch (error) {
    throw new CannotCheck(`the usage file ${path} is not usable: ${(error as Error).message}`);
  }
}

/** The manifests the gateway would trust (TRUSTED_DOCUMENTS_MANIFEST), read as the gateway reads them. */
function readManifests() {
  try {
    return loadConfig().security.trustedDocuments.manifest;
  } catch (error) {
    throw new CannotCheck(
      `cannot read the trusted-document manifests: ${(error as Error).message}`,
    );
  }
}

function describeChange(change: SchemaChange): string {
  return `${change.coordinate ?? '(schema)'}: ${change.message} [${change.type}]`;
}

function describeUse(use: Use): string {
  if (use.kind === 'usage') {
    return `client ${use.client} version ${use.version}: ${use.requests} requests selected ${use.coordinate} (usage file)`;
  }
  const who =
    use.client === undefined
      ? 'a trusted-document manifest'
      : `client ${use.client}${use.version === undefined ? '' : ` version ${use.version}`}`;
  return `document ${use.source} (${who})`;
}

/** Prints the report; returns the exit code. */
function print(report: CheckReport, documents: number, usage: readonly UsageSample[]): 0 | 1 {
  console.log(
    `Checked against ${documents} kept documents${usage.length > 0 ? ` and ${usage.length} usage series` : ''}.`,
  );
  for (const { change, uses } of report.broken) {
    console.log(`\nBREAKING, in use: ${describeChange(change)}`);
    for (const use of uses) console.log(`  breaks ${describeUse(use)}`);
  }
  for (const { document, message } of report.invalid) {
    const use: Use = { kind: 'document', ...document };
    console.log(`\nBREAKING, in use: ${describeUse(use)} no longer validates: ${message}`);
  }
  const list = (title: string, changes: SchemaChange[]) => {
    if (changes.length === 0) return;
    console.log(`\n${title}:`);
    for (const change of changes) console.log(`  ${describeChange(change)}`);
  };
  list('Breaking, but no kept document or counted client uses it', report.unused);
  list('Dangerous', report.dangerous);
  list('Safe', report.safe);
  const failures = report.broken.length + report.invalid.length;
  if (failures > 0) {
    console.error(
      `\nschema:check failed: ${failures} breaking change(s) in use. Deprecate instead, and remove once usage shows no client sends it (docs: Changing the schema).`,
    );
    return 1;
  }
  console.log('\nschema:check passed: no breaking change touches what a client uses.');
  return 0;
}

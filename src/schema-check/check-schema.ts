import { parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { classifyChanges, touches, type SchemaChange } from './classify-changes.js';
import { coordinatesOf } from './document-coordinates.js';
import type { KeptDocument } from './kept-documents.js';
import type { UsageSample } from './usage-file.js';

/** Who would break: a kept document, or a client version the usage file shows. */
export type Use =
  | { kind: 'document'; source: string; client: string | undefined; version: string | undefined }
  | { kind: 'usage'; coordinate: string; client: string; version: string; requests: number };

/** A breaking change, and every use it would break. */
export type Breakage = { change: SchemaChange; uses: Use[] };

/** A kept document that is valid against the base and not against the candidate. */
export type InvalidDocument = { document: KeptDocument; message: string };

export type CheckReport = {
  /** Breaking changes something uses: the check fails. */
  broken: Breakage[];
  /** Breaking changes nothing kept or counted uses. */
  unused: SchemaChange[];
  /** Kept documents the candidate no longer validates, caught by no change above. */
  invalid: InvalidDocument[];
  dangerous: SchemaChange[];
  safe: SchemaChange[];
};

/** A kept document that does not parse: the check cannot say what it uses. */
export class KeptDocumentError extends Error {
  override name = 'KeptDocumentError';
}

/**
 * Compares the candidate schema with the base, and matches each breaking change
 * against the coordinates kept documents select (computed on the base, where
 * they run today) and those the usage file counts with at least one request.
 */
export async function checkSchema({
  base,
  candidate,
  documents,
  usage,
}: {
  base: GraphQLSchema;
  candidate: GraphQLSchema;
  documents: readonly KeptDocument[];
  usage: readonly UsageSample[];
}): Promise<CheckReport> {
  const changes = await classifyChanges(base, candidate);
  const parsed = documents.map((document) => ({ document, ast: parseKept(document) }));
  const used = parsed.map(({ document, ast }) => ({
    document,
    coordinates: coordinatesOf(base, ast).all,
  }));
  const report: CheckReport = { broken: [], unused: [], invalid: [], dangerous: [], safe: [] };
  for (const change of changes) {
    if (change.criticality !== 'breaking') {
      report[change.criticality].push(change);
      continue;
    }
    const at = change.coordinate;
    const uses: Use[] =
      at === undefined
        ? []
        : [
            ...used
              .filter(({ coordinates }) => coordinates.some((used) => touches(at, used)))
              .map(({ document: { source, client, version } }): Use => ({
                kind: 'document',
                source,
                client,
                version,
              })),
            ...usage
              .filter((sample) => sample.requests > 0 && touches(at, sample.coordinate))
              .map((sample): Use => ({ kind: 'usage', ...sample })),
          ];
    if (uses.length > 0) report.broken.push({ change, uses });
    else report.unused.push(change);
  }
  // A safety net under the coordinate match: a document the candidate refuses
  // (an enum value it passes, removed) breaks whatever the changes say.
  const named = new Set(
    report.broken.flatMap(({ uses }) =>
      uses.flatMap((use) => ('source' in use ? [use.source] : [])),
    ),
  );
  for (const { document, ast } of parsed) {
    if (named.has(document.source)) continue;
    if (validate(base, ast).length > 0) continue;
    const [error] = validate(candidate, ast);
    if (error) report.invalid.push({ document, message: error.message });
  }
  return report;
}

// Private helpers.

function parseKept(document: KeptDocument): DocumentNode {
  try {
    return parse(document.text);
  } catch (error) {
    throw new KeptDocumentError(`${document.source}: ${(error as Error).message}`);
  }
}

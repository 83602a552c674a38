import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The trusted documents: the operations first-party clients send, keyed by
 * document id. Ids are `sha256:<hex of the document text>` (this project's
 * `npm run documents`, graphql-codegen's and Apollo's default hashes), or custom
 * ids (Relay's MD5 or any opaque name), which are taken as given.
 */
export type TrustedDocumentManifest = Record<string, string>;

/** This project's format, graphql-codegen client-preset's and Relay's: `{ "<id>": "<text>" }`. */
const RecordManifest = z.record(z.string().min(1), z.string().min(1));

/** `@apollo/generate-persisted-query-manifest`'s format. */
const ApolloManifest = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(
    z.object({ id: z.string().min(1), name: z.string().optional(), body: z.string().min(1) }),
  ),
});

/** The id a document is known by: `sha256:` and the hex SHA-256 of its exact text. */
export function documentId(document: string): string {
  return `sha256:${createHash('sha256').update(document).digest('hex')}`;
}

/**
 * The one spelling of an id: a bare 64-hex hash (Apollo's `sha256Hash`,
 * codegen's keys) is a SHA-256 and becomes `sha256:<hex>`; anything else is kept.
 */
export function canonicalId(id: string): string {
  const hex = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(id)?.[1];
  return hex === undefined ? id : `sha256:${hex.toLowerCase()}`;
}

/** Reads and validates a manifest file of any accepted format; throws with a readable message. */
export function readManifest(path: string): TrustedDocumentManifest {
  const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const apollo = typeof json === 'object' && json !== null && 'format' in json;
  const parsed = apollo
    ? ApolloManifest.safeParse(json)
    : RecordManifest.transform((record) =>
        Object.entries(record).map(([id, body]) => ({ id, body })),
      ).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${path} is not a trusted-document manifest (ours, graphql-codegen's, Relay's or Apollo's): ${issue?.path.join('.')} ${issue?.message}`,
    );
  }
  const operations = 'operations' in parsed.data ? parsed.data.operations : parsed.data;
  const manifest: TrustedDocumentManifest = {};
  for (const { id, body } of operations) {
    const canonical = canonicalId(id);
    // A SHA-256 id is a claim about the text: check it, so an id never runs other text.
    if (canonical.startsWith('sha256:') && documentId(body) !== canonical) {
      throw new Error(`${path}: ${id} does not match its document`);
    }
    manifest[canonical] = body;
  }
  return manifest;
}

export type TrustedDocumentsMode = 'off' | 'log' | 'enforce';

/**
 * The configured manifests (comma-separated paths: web and mobile ship their
 * own), merged. A missing file counts as empty only when the mode is `off`.
 */
export function loadManifest(paths: string, mode: TrustedDocumentsMode): TrustedDocumentManifest {
  const merged: TrustedDocumentManifest = {};
  // Comma-separated, or colon-separated as in PATH: both are common for lists of files.
  for (const path of paths
    .split(/[,:]/)
    .map((part) => part.trim())
    .filter(Boolean)) {
    if (!existsSync(path)) {
      if (mode !== 'off') throw new Error(`${path} does not exist (run npm run documents)`);
      continue;
    }
    for (const [id, body] of Object.entries(readManifest(path))) {
      if (merged[id] !== undefined && merged[id] !== body) {
        throw new Error(`${path}: ${id} names another document in an earlier manifest`);
      }
      merged[id] = body;
    }
  }
  return merged;
}

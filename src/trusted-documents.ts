import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The manifest of trusted documents: the operations first-party clients send,
 * keyed by document id (`sha256:<hex of the document text>`). Built from
 * operations/**\/*.graphql by `npm run documents`.
 */
export const TrustedDocumentManifest = z.record(
  z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a document id (sha256:<hex>)'),
  z.string().min(1),
);
export type TrustedDocumentManifest = z.infer<typeof TrustedDocumentManifest>;

/** The id a document is known by: `sha256:` and the hex SHA-256 of its exact text. */
export function documentId(document: string): string {
  return `sha256:${createHash('sha256').update(document).digest('hex')}`;
}

/** Reads and validates a manifest file; throws with a readable message. */
export function readManifest(path: string): TrustedDocumentManifest {
  const parsed = TrustedDocumentManifest.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(
      `${path} is not a trusted-document manifest: ${parsed.error.issues[0]?.message}`,
    );
  }
  for (const [id, document] of Object.entries(parsed.data)) {
    if (documentId(document) !== id) throw new Error(`${path}: ${id} does not match its document`);
  }
  return parsed.data;
}

export type TrustedDocumentsMode = 'off' | 'log' | 'enforce';

/** The configured manifest; a missing file is an empty one only when the mode is `off`. */
export function loadManifest(path: string, mode: TrustedDocumentsMode): TrustedDocumentManifest {
  if (!existsSync(path)) {
    if (mode !== 'off') throw new Error(`${path} does not exist (run npm run documents)`);
    return {};
  }
  return readManifest(path);
}

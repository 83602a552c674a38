import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { documentId, type TrustedDocumentManifest } from '../trusted-documents.js';

/**
 * A document some client shipped and may still send: a `.graphql` file under
 * operations/ (at any depth, by convention `operations/<client>/<version>/…`),
 * or an entry of a trusted-document manifest.
 */
export type KeptDocument = {
  /** Where it comes from: the file's path, or `<id>` for a manifest entry. */
  source: string;
  /** From the path (`operations/<client>/…`); `undefined` for a manifest entry. */
  client: string | undefined;
  /** From the path (`operations/<client>/<version>/…`); `undefined` when the path has no version. */
  version: string | undefined;
  text: string;
};

/**
 * Every `.graphql` file under `root`, sorted by path (`npm run documents` builds
 * the manifest from the same files).
 */
export function documentFiles(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.graphql'))
    .map((file) => join(root, file))
    .sort();
}

/**
 * The kept documents: the files under `root`, then the manifest's entries that
 * are not one of those files (the gateway's own manifest is built from them, so
 * the same text counts once, under its path, which names client and version).
 */
export function loadKeptDocuments(root: string, manifest: TrustedDocumentManifest): KeptDocument[] {
  const documents: KeptDocument[] = [];
  const seen = new Set<string>();
  for (const path of documentFiles(root)) {
    const text = readFileSync(path, 'utf8');
    seen.add(documentId(text));
    // operations/<client>/<version>/<file>: a segment is a client or version only
    // when a file sits below it.
    const [client, version] = relative(root, path).split(sep).slice(0, -1);
    documents.push({ source: path, client, version, text });
  }
  for (const [id, text] of Object.entries(manifest)) {
    if (seen.has(documentId(text))) continue;
    documents.push({ source: id, client: undefined, version: undefined, text });
  }
  return documents;
}

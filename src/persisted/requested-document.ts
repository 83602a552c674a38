/** What a request names instead of (or besides) sending a query's text. */
export type RequestedDocument =
  | { kind: 'none' }
  /** Apollo's automatic persisted queries: `extensions.persistedQuery`. */
  | { kind: 'apq'; hash: string; version: unknown }
  /** A persisted document's id, under the parameter the client used. */
  | { kind: 'id'; id: string; via: IdParameter };

/** `documentId` (GraphQL over HTTP), `doc_id` (Relay), `id` (older servers and clients). */
export type IdParameter = 'documentId' | 'doc_id' | 'id';
const ID_PARAMETERS: readonly IdParameter[] = ['documentId', 'doc_id', 'id'];

/**
 * The document a request names: Apollo's extension first, then an id in the
 * body, then an id in the URL. yoga gives a GET request's params only their
 * standard fields (`query`, `operationName`, `variables`, `extensions`), so ids
 * sent as `?documentId=` are read from the URL itself (parsed only when the
 * body names nothing and the URL has a query string).
 */
export function requestedDocument(params: object, url: URL | string): RequestedDocument {
  const { extensions } = params as { extensions?: unknown };
  const persisted = (extensions as { persistedQuery?: unknown } | undefined)?.persistedQuery;
  if (typeof persisted === 'object' && persisted !== null) {
    const { sha256Hash, version } = persisted as { sha256Hash?: unknown; version?: unknown };
    if (typeof sha256Hash === 'string') return { kind: 'apq', hash: sha256Hash, version };
  }
  for (const via of ID_PARAMETERS) {
    const id = (params as Record<string, unknown>)[via];
    if (typeof id === 'string' && id !== '') return { kind: 'id', id, via };
  }
  if (typeof url === 'string' && !url.includes('?')) return { kind: 'none' };
  const { searchParams } = typeof url === 'string' ? new URL(url) : url;
  for (const via of ID_PARAMETERS) {
    const id = searchParams.get(via);
    if (id !== null && id !== '') return { kind: 'id', id, via };
  }
  return { kind: 'none' };
}

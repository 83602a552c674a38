/** The client a request says it comes from (Apollo's client-awareness headers, or the generic ones). */
export type ClientIdentity = { name: string; version: string | undefined };

/** Apollo's headers first (Apollo Client, iOS, Kotlin), then the library-neutral pair. */
const NAME_HEADERS = ['apollographql-client-name', 'graphql-client-name'] as const;
const VERSION_HEADERS = ['apollographql-client-version', 'graphql-client-version'] as const;

/** Client-sent text goes to logs and labels: short, printable, nothing else. */
const clean = (value: string | null): string | undefined => {
  const text = value
    ?.trim()
    .slice(0, 64)
    .replace(/[^\w.@/+:-]/g, '_');
  return text === undefined || text === '' ? undefined : text;
};

/** Where client headers are read from: fetch `Headers`, or Node's own (see front-step-log.ts). */
export type HeaderSource = { get(name: string): string | null };

/** The client a request names, or `undefined` when it names none. */
export function clientOf(headers: HeaderSource): ClientIdentity | undefined {
  const name = clean(NAME_HEADERS.map((header) => headers.get(header)).find((v) => v) ?? null);
  if (name === undefined) return undefined;
  const version = clean(
    VERSION_HEADERS.map((header) => headers.get(header)).find((v) => v) ?? null,
  );
  return { name, version };
}

/** Versions kept per client name; older releases are rarely more than a handful. */
const VERSIONS_PER_CLIENT = 10;

/**
 * Metric labels for clients, with bounded cardinality: clients send any name
 * they like, and every distinct label value is a time series. The first
 * `maxNames` names seen keep theirs (and their first versions); later ones are
 * `other`. A request naming no client is `none`.
 */
export function createClientLabels({ maxNames }: { maxNames: number }) {
  const versions = new Map<string, Set<string>>();
  return (client: ClientIdentity | undefined): { client: string; version: string } => {
    if (client === undefined) return { client: 'none', version: 'none' };
    let known = versions.get(client.name);
    if (known === undefined) {
      if (versions.size >= maxNames) return { client: 'other', version: 'other' };
      known = new Set();
      versions.set(client.name, known);
    }
    const version = client.version ?? 'none';
    if (!known.has(version)) {
      if (known.size >= VERSIONS_PER_CLIENT) return { client: client.name, version: 'other' };
      known.add(version);
    }
    return { client: client.name, version };
  };
}

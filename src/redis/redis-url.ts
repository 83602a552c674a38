// REDIS_URL in its three topologies. A single server keeps the URL ioredis
// itself parses; Sentinel and Cluster list several nodes in one authority,
// which WHATWG URL cannot parse (`a:1,b:2` is not a host and port), so their
// authority is split here.

/** One node of a Sentinel or Cluster list. */
export type RedisNode = { host: string; port: number };

/** Where Redis is, as the connection needs it (connection.ts). */
export type RedisTarget =
  | { kind: 'server'; url: string }
  | {
      kind: 'sentinel';
      /** Sentinels to ask where the master is; any one that answers is enough. */
      sentinels: RedisNode[];
      /** The master's name in the Sentinel configuration. */
      name: string;
      db: number;
      username?: string;
      password?: string;
      /** `?sentinelPassword=`: when the sentinels themselves require a password. */
      sentinelPassword?: string;
    }
  | { kind: 'cluster'; nodes: RedisNode[]; username?: string; password?: string };

/** The forms REDIS_URL accepts, for error messages and the configuration reference. */
export const REDIS_URL_FORMS =
  '`redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS), `redis-sentinel://[user:pass@]host:port,host:port/<master name>[?db=N]` or `redis-cluster://[user:pass@]host:port,host:port`';

/** A REDIS_URL that is none of the accepted forms; the message says what was wrong. */
export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

const SENTINEL_PORT = 26379;
const REDIS_PORT = 6379;

/**
 * Parses REDIS_URL. Throws `RedisUrlError` for anything ioredis would
 * misread or silently ignore (a Sentinel URL without a master name, a
 * Cluster URL with a database, an unknown scheme).
 */
export function parseRedisUrl(raw: string): RedisTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss') {
    try {
      new URL(raw);
    } catch {
      throw new RedisUrlError('is not a valid URL');
    }
    return { kind: 'server', url: raw };
  }
  if (scheme !== 'redis-sentinel' && scheme !== 'redis-cluster') {
    throw new RedisUrlError(`must be one of ${REDIS_URL_FORMS}`);
  }
  const match = /^[^:]+:\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/.exec(raw);
  if (!match) throw new RedisUrlError(`must be one of ${REDIS_URL_FORMS}`);
  const [, userinfo, hostList = '', path = '', query = ''] = match;
  const credentials = parseUserinfo(userinfo);
  const defaultPort = scheme === 'redis-sentinel' ? SENTINEL_PORT : REDIS_PORT;
  const nodes = hostList.split(',').map((entry) => parseNode(entry.trim(), defaultPort));
  const params = new URLSearchParams(query);

  if (scheme === 'redis-cluster') {
    if (path !== '' || params.has('db')) {
      throw new RedisUrlError('a Redis Cluster has only database 0: remove the path and `db`');
    }
    return { kind: 'cluster', nodes, ...credentials };
  }
  const name = decodeURIComponent(path);
  if (name === '') {
    throw new RedisUrlError(
      'needs the master name after the sentinels: redis-sentinel://host:port,host:port/<master name>',
    );
  }
  const dbText = params.get('db') ?? '0';
  const db = Number(dbText);
  if (!/^\d+$/.test(dbText) || db > 15) {
    throw new RedisUrlError(`db must be a database number (0–15), not "${dbText}"`);
  }
  const sentinelPassword = params.get('sentinelPassword') ?? undefined;
  return {
    kind: 'sentinel',
    sentinels: nodes,
    name,
    db,
    ...credentials,
    ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
  };
}

// Private helpers.

function parseUserinfo(userinfo: string | undefined): { username?: string; password?: string } {
  if (userinfo === undefined || userinfo === '') return {};
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon));
  const password = colon === -1 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
  return {
    ...(username === '' ? {} : { username }),
    ...(password === undefined || password === '' ? {} : { password }),
  };
}

/** `host`, `host:port` or `[ipv6]:port`. */
function parseNode(entry: string, defaultPort: number): RedisNode {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(entry);
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (!match?.[1] || port < 1 || port > 65535) {
    throw new RedisUrlError(`"${entry}" is not a host:port (nodes are comma-separated)`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

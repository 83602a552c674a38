import { Cluster } from 'ioredis';
import type { Logger } from '../logger.js';
import type { PageStore } from '../inbound/page-store.js';
import type { RedisClient, RedisConnection } from '../redis/connection.js';
import { KEYS } from '../redis/keys.js';
import {
  createPurgeChannel,
  PURGE_TARGETS,
  type PurgeChannel,
  type PurgeMessage,
  type PurgeTarget,
} from '../redis/purge-channel.js';
import type { BookCache } from './book-cache.js';
import type { SwrCache } from './swr-cache.js';

/** What `?cache=` may name: one cache, or all of them. */
export const PURGE_CHOICES = [...PURGE_TARGETS, 'all'] as const;
export type PurgeChoice = (typeof PURGE_CHOICES)[number];

/**
 * The caches a choice clears. Pages hold promo and books inside them, so
 * purging either clears pages too: else a cached page would keep the wrong
 * price for its whole lifetime after the purge.
 */
export function targetsOf(choice: PurgeChoice): PurgeTarget[] {
  if (choice === 'all') return [...PURGE_TARGETS];
  return choice === 'pages' ? ['pages'] : [choice, 'pages'];
}

/** How a purge went. */
export type PurgeResult = {
  purged: PurgeTarget[];
  /** The one book purged, or `null`: the whole caches. */
  tag: string | null;
  /** `none`: this gateway runs without Redis; `unavailable`: memory only was purged. */
  redis: 'purged' | 'unavailable' | 'none';
  /** Keys deleted from Redis. */
  keysDeleted: number;
  /** Replicas (this one included) that heard of it at once; `null` without Redis. */
  replicasNotified: number | null;
};

/** Options of `createCachePurge`. */
export type CachePurgeOptions = {
  promo: SwrCache<unknown>;
  books: BookCache | null;
  /** The page cache's store; `undefined` when the page cache is off. */
  pages: PageStore | undefined;
  /** Redis shared by the replicas; `null`: this process only. */
  connection: RedisConnection | null;
  logger: Logger;
};

export type CachePurge = {
  purge(message: PurgeMessage): Promise<PurgeResult>;
  /** Closes the purge channel's connection (after the server closed). */
  close(): void;
};

/** Keys deleted per SCAN page: each page is one command within REDIS_TIMEOUT_MS. */
const SCAN_COUNT = 500;

/**
 * Purges the shared caches: this process's memory at once, Redis's copies, and
 * every other replica's memory through the purge channel (redis/purge-channel.ts).
 */
export function createCachePurge({
  promo,
  books,
  pages,
  connection,
  logger,
}: CachePurgeOptions): CachePurge {
  const purgeMemory = ({ targets, tag }: PurgeMessage) => {
    for (const target of targets) {
      if (target === 'promo') promo.purge();
      else if (target === 'books') books?.purge(tag ?? undefined);
      else pages?.clear?.();
    }
  };
  const channel: PurgeChannel | null =
    connection && createPurgeChannel({ connection, onPurge: purgeMemory, logger });

  /** Deletes what a pattern matches; `undefined` when Redis failed on the way. */
  async function deleteMatching(
    redis: RedisConnection,
    pattern: string,
  ): Promise<number | undefined> {
    // SCAN matches whole keys, prefix included; DEL adds the prefix itself.
    const prefix = redis.client.options.keyPrefix ?? '';
    // A Cluster's SCAN reaches one node: each master is scanned on its own, and
    // keys are deleted one by one (a multi-key UNLINK across slots is refused).
    const cluster = redis.client instanceof Cluster ? redis.client : null;
    const nodes: RedisClient[] = cluster ? cluster.nodes('master') : [redis.client];
    let deleted = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const page = await redis.run(() =>
          node.scan(cursor, 'MATCH', `${escapeGlob(prefix)}${pattern}`, 'COUNT', SCAN_COUNT),
        );
        if (page === undefined) return undefined;
        const [next, keys] = page;
        cursor = next;
        if (keys.length > 0) {
          const unprefixed = keys.map((key) => key.slice(prefix.length));
          const count = await redis.run(async (client) =>
            cluster
              ? (await Promise.all(unprefixed.map((key) => cluster.unlink(key)))).reduce(
                  (sum, n) => sum + n,
                  0,
                )
              : client.unlink(...unprefixed),
          );
          if (count === undefined) return undefined;
          deleted += count;
        }
      } while (cursor !== '0');
    }
    return deleted;
  }

  /** The patterns one purge deletes (already escaped). */
  const patternsOf = ({ targets, tag }: PurgeMessage): string[] =>
    targets.flatMap((target) =>
      target === 'books' && tag !== null
        ? [escapeGlob(KEYS.book(tag)), everyVariant(KEYS.book(tag, VARIANT), VARIANT)]
        : KEYS.purgePatterns[target],
    );

  return {
    async purge(message) {
      purgeMemory(message);
      const result = { purged: message.targets, tag: message.tag };
      if (!connection || !channel) {
        return { ...result, redis: 'none', keysDeleted: 0, replicasNotified: null };
      }
      // Deleted before the others are told: told first, one could read the old
      // copy from Redis again.
      let keysDeleted = 0;
      for (const pattern of patternsOf(message)) {
        const deleted = await deleteMatching(connection, pattern);
        if (deleted === undefined) {
          return { ...result, redis: 'unavailable', keysDeleted, replicasNotified: null };
        }
        keysDeleted += deleted;
      }
      const replicasNotified = await channel.publish(message);
      if (replicasNotified === undefined) {
        return { ...result, redis: 'unavailable', keysDeleted, replicasNotified: null };
      }
      return { ...result, redis: 'purged', keysDeleted, replicasNotified };
    },
    close: () => channel?.close(),
  };
}

// Private helpers.

/** Stands for the variant in a key, to be replaced by a wildcard. */
const VARIANT = '\u0000variant\u0000';

/** `key`, escaped, with its variant part (`marker`) matching any variant. */
function everyVariant(key: string, marker: string): string {
  return key.split(marker).map(escapeGlob).join('*');
}

/** `text` as a SCAN pattern matching itself only. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

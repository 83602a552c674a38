import { z } from 'zod';
import type { Logger } from '../logger.js';
import { Cluster } from 'ioredis';
import type { RedisConnection } from './connection.js';
import { KEYS } from './keys.js';
import { execOrThrow } from './read-many.js';

// How every replica's memory learns of a purge made on one of them.
//
// Pub/sub alone is immediate but loses what is published while a replica is
// disconnected; a generation read alone would cost every cache read a round
// trip (or leave replicas stale for as long as they trust their copy). So both:
// the purging replica bumps a counter per cache in one hash (`v1:purge`) and
// publishes a message; a replica clears its memory on the message, and on every
// (re)connection of its subscriber compares the counters with the last it saw,
// clearing what was purged while it was away. Between a disconnect and the
// reconnect a replica serves from memory, as it does anyway while Redis is down,
// and its copies expire on their own (REDIS_LOCAL_TTL_MS, the page lifetime).

/** The caches a purge names. */
export const PURGE_TARGETS = ['promo', 'books', 'pages'] as const;
export type PurgeTarget = (typeof PURGE_TARGETS)[number];

/** What one purge cleared: `tag` is one book id (books only), `null` for everything. */
export const PurgeMessage = z.object({
  targets: z.array(z.enum(PURGE_TARGETS)),
  tag: z.string().nullable(),
});
export type PurgeMessage = z.infer<typeof PurgeMessage>;

/** Options of `createPurgeChannel`. */
export type PurgeChannelOptions = {
  connection: RedisConnection;
  /** Clears this process's memory; called for every purge, this replica's own included. */
  onPurge: (message: PurgeMessage) => void;
  logger: Logger;
};

export type PurgeChannel = {
  /**
   * Bumps the generations of `message.targets` and tells every replica; gives
   * how many subscribers heard it (this one included), or `undefined` when Redis
   * could not be reached.
   */
  publish(message: PurgeMessage): Promise<number | undefined>;
  close(): void;
};

/** The purge channel, with the one subscriber connection of this process. */
export function createPurgeChannel({
  connection,
  onPurge,
  logger,
}: PurgeChannelOptions): PurgeChannel {
  // ioredis prefixes keys, not channels: the prefix is added here so that
  // deployments sharing a Redis (REDIS_KEY_PREFIX) do not purge each other.
  const channel = `${connection.client.options.keyPrefix ?? ''}${KEYS.purgeChannel}`;
  // A subscribed connection can send nothing but (un)subscribe commands: this is
  // the only second connection the gateway opens. ioredis subscribes it again
  // after every reconnect (autoResubscribe). Its commands wait for the
  // connection (offline queue) and get a generous timeout: nothing waits on them.
  const { client } = connection;
  const subscriber =
    client instanceof Cluster
      ? // A Cluster publishes to every node, so any node's subscriber hears it.
        client.duplicate(undefined, {
          enableOfflineQueue: true,
          redisOptions: {
            ...client.options.redisOptions,
            commandTimeout: 5000,
            connectionName: 'homepage-bff-purge',
          },
        })
      : client.duplicate({
          enableOfflineQueue: true,
          commandTimeout: 5000,
          connectionName: 'homepage-bff-purge',
        });
  // The main connection reports Redis's state: one log per change is enough.
  subscriber.on('error', () => {});
  /** The generations last seen; `undefined` until first read. */
  let seen: Record<string, string> | undefined;

  async function catchUp(): Promise<void> {
    const now = await connection.run((redis) => redis.hgetall(KEYS.purge));
    if (now === undefined) return;
    const before = seen;
    seen = now;
    if (before === undefined) return; // nothing cached before the first connection matters
    const missed = PURGE_TARGETS.filter((target) => now[target] !== before[target]);
    if (missed.length === 0) return;
    logger.info(`Purge missed while disconnected from Redis, applied now: ${missed.join(', ')}`);
    onPurge({ targets: missed, tag: null });
  }

  const onReady = () => {
    catchUp().catch((error: unknown) => logger.warn(`Purge catch-up failed: ${String(error)}`));
  };
  // Either connection may come back first; the catch-up reads through the main one.
  subscriber.on('ready', onReady);
  connection.client.on('ready', onReady);
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    let message: PurgeMessage;
    try {
      message = PurgeMessage.parse(JSON.parse(text));
    } catch {
      return logger.warn('Ignored a malformed purge message');
    }
    onPurge(message);
  });
  subscriber.subscribe(channel).catch((error: unknown) => {
    logger.warn(`Purge channel subscription failed: ${String(error)}`);
  });

  return {
    async publish(message) {
      return connection.run(async (redis) => {
        const batch = redis.multi();
        for (const target of message.targets) batch.hincrby(KEYS.purge, target, 1);
        batch.publish(channel, JSON.stringify(message));
        const replies = await execOrThrow(batch);
        // Our own bump is no news on our next reconnect.
        message.targets.forEach((target, index) => {
          seen = { ...seen, [target]: String(replies[index]?.[1]) };
        });
        return Number(replies.at(-1)?.[1] ?? 0);
      });
    },
    close() {
      connection.client.off('ready', onReady);
      subscriber.disconnect();
    },
  };
}

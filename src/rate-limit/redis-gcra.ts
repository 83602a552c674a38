import type { RedisClient } from '../redis/connection.js';
import { SLACK_MS, type GcraLimit } from './gcra.js';

/**
 * gcra.ts's decision inside Redis, so that reading the TAT, deciding and
 * storing the new TAT are one atomic round trip: two replicas counting the same
 * viewer at the same instant cannot both take the last page. The clock is
 * Redis's own (TIME), one clock for every replica however theirs drift; tests
 * may pass `now` instead (ARGV[3]). The key expires when the TAT is reached: by
 * then the viewer is back to a full burst, the same as never seen.
 *
 * KEYS[1] the viewer's TAT; ARGV: interval ms, burst, optional now ms.
 * Returns 0 when allowed, else the ms until a page would be (at least 1).
 */
const GCRA_LUA = `
local now
if ARGV[3] then
  now = tonumber(ARGV[3])
else
  -- TIME before a write: needs effects replication (the default since Redis 5).
  if redis.replicate_commands then redis.replicate_commands() end
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
end
local interval = tonumber(ARGV[1])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = math.max(tonumber(stored), now) end
local nextTat = tat + interval
local over = nextTat - now - tonumber(ARGV[2]) * interval
if over > ${SLACK_MS} then return math.max(1, math.ceil(over)) end
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.max(1, math.ceil(nextTat - now)))
return 0
`;

/** The command's name on the client (ioredis `defineCommand`: EVALSHA, EVAL on a miss). */
const COMMAND = 'bffGcra';

type GcraCommand = {
  [COMMAND](key: string, intervalMs: number, burst: number, ...now: number[]): Promise<number>;
};

/**
 * Counts one page for `key` in Redis: 0 when allowed, else the ms to wait.
 * Registers the script on the client the first time.
 */
export function redisGcra(
  client: RedisClient,
  key: string,
  { intervalMs, burst }: GcraLimit,
  nowMs?: number,
): Promise<number> {
  if (!(COMMAND in client)) client.defineCommand(COMMAND, { numberOfKeys: 1, lua: GCRA_LUA });
  const command = client as unknown as GcraCommand; // defineCommand adds the method at run time
  return nowMs === undefined
    ? command[COMMAND](key, intervalMs, burst)
    : command[COMMAND](key, intervalMs, burst, nowMs);
}

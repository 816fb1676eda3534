import { createHash } from 'node:crypto';

/**
 * The one method of a Redis client the store uses: ioredis's `call()` (v5),
 * typed structurally so that this package's types do not need ioredis. A
 * `Redis` or `Cluster` instance of ioredis fits as it is.
 */
export interface RedisLike {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/** Where the store's entries go: the stream, its consumer group, and this instance's consumer name. */
export interface StreamNames {
  stream: string;
  group: string;
  consumer: string;
}

/**
 * Appends events and puts them in this consumer's pending list in one atomic
 * step: XADD alone would leave an entry no consumer owns, that nobody would
 * claim if this process died. (Re)creates the group first, so a Redis that
 * lost its data (a restart without persistence) does not fail every append.
 * ARGV: group, consumer, then path code and JSON for each event.
 */
const APPEND = `
redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$', 'MKSTREAM')
local claim = {KEYS[1], ARGV[1], ARGV[2], '0'}
local ids = {}
for i = 3, #ARGV, 2 do
  local id = redis.call('XADD', KEYS[1], '*', 'p', ARGV[i], 'j', ARGV[i + 1])
  ids[#ids + 1] = id
  claim[#claim + 1] = id
end
claim[#claim + 1] = 'FORCE'
claim[#claim + 1] = 'JUSTID'
redis.call('XCLAIM', unpack(claim))
return ids`;
const APPEND_SHA = createHash('sha1').update(APPEND).digest('hex');

/** Events per script call: Lua's `unpack` takes a few thousand values at most. */
export const APPEND_CHUNK = 500;
/** IDs per XACK, XDEL or XCLAIM. */
export const ID_CHUNK = 1000;

/** Runs the append script (EVALSHA, falling back to EVAL once Redis forgot it); resolves with the new IDs. */
export async function appendEntries(
  redis: RedisLike,
  names: StreamNames,
  fields: (string | number)[],
): Promise<string[]> {
  const args = [1, names.stream, names.group, names.consumer, ...fields];
  try {
    return (await redis.call('EVALSHA', APPEND_SHA, ...args)) as string[];
  } catch (err) {
    if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
    return (await redis.call('EVAL', APPEND, ...args)) as string[];
  }
}

/** Creates the group (and the stream) unless it exists. */
export async function ensureGroup(redis: RedisLike, { stream, group }: StreamNames): Promise<void> {
  try {
    await redis.call('XGROUP', 'CREATE', stream, group, '$', 'MKSTREAM');
  } catch (err) {
    if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
  }
}

/** Settles entries for good: out of the pending list, then out of the stream. */
export async function removeEntries(
  redis: RedisLike,
  { stream, group }: StreamNames,
  ids: readonly string[],
): Promise<void> {
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const chunk = ids.slice(i, i + ID_CHUNK);
    await Promise.all([
      redis.call('XACK', stream, group, ...chunk),
      redis.call('XDEL', stream, ...chunk),
    ]);
  }
}

/** Resets the idle time of entries this instance still holds, so that no live peer claims them. */
export async function touchEntries(
  redis: RedisLike,
  { stream, group, consumer }: StreamNames,
  ids: readonly string[],
): Promise<void> {
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    await redis.call('XCLAIM', stream, group, consumer, 0, ...ids.slice(i, i + ID_CHUNK), 'JUSTID');
  }
}

import { hostname } from 'node:os';
import { MAX_TIMER_MS } from '../../deadline';
import { describeValue, OursConfigError } from '../../errors';
import { wholeOption } from '../../whole-option';
import { optionNames, refuseUnknownOptions } from '../../unknown-options';
import type { RedisLike, StreamNames } from './commands';

/** Options of `redisStore()`. */
export interface RedisStoreOptions {
  /** An ioredis (v5) `Redis` or `Cluster` instance; the store never connects or quits it. */
  redis: RedisLike;
  /** The stream all instances of the app share. @defaultValue 'ours:events' */
  stream?: string | undefined;
  /** Its consumer group. @defaultValue 'ours' */
  group?: string | undefined;
  /** This instance's name in the group, unique among live instances. @defaultValue `<hostname>-<pid>` */
  consumer?: string | undefined;
  /** Entries idle this long belong to a dead instance and are claimed by a live one. @defaultValue 60000 */
  claimIdleMs?: number | undefined;
  /** The write window: appends go to Redis together this long after the first; what a crash can lose. @defaultValue 20 */
  flushMs?: number | undefined;
}

export interface ResolvedRedisStoreOptions {
  redis: RedisLike;
  names: StreamNames;
  claimIdleMs: number;
  flushMs: number;
}

const REDIS_STORE_OPTIONS = optionNames<RedisStoreOptions>({
  redis: true,
  stream: true,
  group: true,
  consumer: true,
  claimIdleMs: true,
  flushMs: true,
});

function text(option: string, value: string | undefined, fallback: string): string {
  const v = value ?? fallback;
  if (typeof v !== 'string' || v === '')
    throw new OursConfigError(
      `redisStore.${option}`,
      `must be a non-empty string, got ${describeValue(value)}`,
    );
  return v;
}

/** Defaults applied and every value checked, at construction (the only time a store throws). */
export function resolveRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  refuseUnknownOptions(options, REDIS_STORE_OPTIONS, 'redisStore()', 'redisStore.');
  if (typeof options?.redis?.call !== 'function') {
    throw new OursConfigError(
      'redisStore.redis',
      'must be an ioredis (v5) instance, or anything with its call(command, ...args) method',
    );
  }
  return {
    redis: options.redis,
    names: {
      stream: text('stream', options.stream, 'ours:events'),
      group: text('group', options.group, 'ours'),
      consumer: text('consumer', options.consumer, `${hostname()}-${process.pid}`),
    },
    claimIdleMs: wholeOption(
      'redisStore.claimIdleMs',
      options.claimIdleMs,
      60_000,
      30,
      MAX_TIMER_MS,
    ),
    flushMs: wholeOption('redisStore.flushMs', options.flushMs, 20, 1, MAX_TIMER_MS),
  };
}

import { platform } from '#platform';
import type { FileStore, FileStoreOptions } from './file-store';
import type { RedisStore, RedisStoreOptions } from './redis-store';

// The durable stores need Node's file system and sockets: the platform gives
// the real ones on Node, and a clear OursConfigError on Workers and the edge.

/**
 * A durable {@link EventStore} on the local disk, for one process: events
 * survive a crash, a deploy and an outage, and a restarted process delivers
 * them (at least once; `distinctId` makes a resend harmless).
 * Node only (also Bun and Deno): on Workers and edge functions it throws an
 * `OursConfigError` (there is no file system).
 *
 * @example
 * const client = new OursClient({ store: fileStore({ dir: '/var/lib/myapp/ours' }) });
 */
export function fileStore(options: FileStoreOptions): FileStore {
  return platform.fileStore(options);
}

/**
 * A durable {@link EventStore} for a fleet: every instance of the app appends
 * to one Redis Stream (ioredis v5, Redis 6.2 or later), and the events of an
 * instance that dies are delivered by another once idle for `claimIdleMs`.
 * At least once; `distinctId` makes a resend harmless. `ioredis` is an
 * optional peer dependency: this package never loads it, you pass your client.
 * Node only (also Bun and Deno): on Workers and edge functions it throws an
 * `OursConfigError` (ioredis needs TCP sockets).
 *
 * @example
 * import Redis from 'ioredis';
 * const client = new OursClient({ store: redisStore({ redis: new Redis(process.env.REDIS_URL) }) });
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return platform.redisStore(options);
}

import type { EventStore, QueuedEvent, StoreHooks } from './event-store';
import { MemoryStore } from './memory-store';
import { Claimer } from './redis/claimer';
import { ensureGroup, type RedisLike, type StreamNames } from './redis/commands';
import { ownPending, type StoredEntry } from './redis/entries';
import { resolveRedisStoreOptions, type RedisStoreOptions } from './redis/options';
import { isEntryKey, StreamWriter, type EntryKey } from './redis/stream-writer';
import { checkStored, GiveUps, storedEvent } from './stored-event';
import { within } from '../deadline';
import { WriteWindow } from './window';

export type { RedisLike } from './redis/commands';
export type { RedisStoreOptions } from './redis/options';

/** How long `close()` waits for Redis to take the last window, and `flush()` for Redis to list what an earlier process left. */
const REDIS_WAIT_MS = 2000;

/**
 * The fleet's durable store: events wait in this instance's memory and reach
 * a Redis Stream shared by every instance, owned by this instance's consumer;
 * when an instance dies, a live one claims its entries. See {@link redisStore}.
 */
export class RedisStore implements EventStore {
  readonly durable = true;
  readonly names: StreamNames;
  readonly #redis: RedisLike;
  readonly #mirror = new MemoryStore();
  readonly #writer: StreamWriter;
  readonly #window: WriteWindow;
  readonly #claimer: Claimer;
  #ready = false;
  #hooks: StoreHooks | undefined;
  #opening: Promise<void> | undefined;
  #recovered: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: RedisStoreOptions) {
    const { redis, names, claimIdleMs, flushMs } = resolveRedisStoreOptions(options);
    this.#redis = redis;
    this.names = names;
    this.#writer = new StreamWriter(redis, names);
    this.#window = new WriteWindow(
      flushMs,
      () => (this.#ready ? this.#writer.write() : Promise.resolve()),
      (err) => this.#error(err),
    );
    this.#claimer = new Claimer(redis, names, claimIdleMs, {
      heldIds: () => [...this.#writer.held.keys()],
      adopt: (entries) => this.#adopt(entries),
      report: (err) => this.#error(err),
    });
  }

  get count(): number {
    return this.#mirror.count;
  }

  get bytes(): number {
    return this.#mirror.bytes;
  }

  append(event: QueuedEvent): boolean {
    event.key = { id: undefined, settled: false } satisfies EntryKey;
    this.#mirror.append(event);
    this.#writer.add(event);
    this.#window.arm();
    return true;
  }

  lease(maxCount: number, maxBytes: number): QueuedEvent[] {
    return this.#mirror.lease(maxCount, maxBytes);
  }

  ack(events: readonly QueuedEvent[]): void {
    for (const { key } of events) if (isEntryKey(key)) this.#writer.settle(key);
    this.#window.arm();
  }

  forEach(visit: (event: QueuedEvent) => void): void {
    this.#mirror.forEach(visit);
  }

  /**
   * Resolves once the entries an earlier process with this consumer name left
   * are listed, or after 2 s: an unreachable Redis (whose client may queue
   * commands for ever) must not hold every `flush()` for the outage. Entries
   * found later are still delivered.
   */
  open(hooks: StoreHooks): Promise<void> {
    if (!this.#hooks) {
      this.#hooks = hooks;
      this.#opening = this.#open();
      this.#recovered = within(REDIS_WAIT_MS, this.#opening).then(() => undefined);
    }
    return this.#recovered!;
  }

  /** Writes the last window (waiting at most 2 s for Redis) and stops claiming; the Redis connection stays the caller's. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const work = Promise.all([this.#claimer.stop(), this.#opening]).then(() =>
      this.#window.close(),
    );
    if (!(await within(REDIS_WAIT_MS, work))) {
      this.#error(
        new Error(
          `Redis did not take the last ${this.#writer.unwritten} events within ${REDIS_WAIT_MS} ms; they were not stored`,
        ),
      );
    }
  }

  async #open(): Promise<void> {
    try {
      await ensureGroup(this.#redis, this.names);
      for await (const entries of ownPending(this.#redis, this.names)) this.#adopt(entries);
    } catch (err) {
      this.#error(err as Error);
    } finally {
      this.#ready = true;
      this.#window.arm();
      if (!this.#closing) this.#claimer.start();
    }
  }

  /** Takes over entries of an earlier process or a dead peer: sends what can be sent, discards the rest. */
  #adopt(entries: StoredEntry[]): void {
    const now = Date.now();
    const giveUps = new GiveUps();
    const events: QueuedEvent[] = [];
    for (const { id, path, json, deleted } of entries) {
      if (this.#writer.held.has(id)) continue;
      const state = deleted
        ? 'deleted'
        : path && json !== undefined
          ? checkStored(json, path, now)
          : 'corrupt';
      if (state !== 'ok') {
        if (state !== 'deleted') giveUps[state]++;
        this.#writer.discard(id);
        continue;
      }
      const event = storedEvent(json!, path!, { id, settled: false } satisfies EntryKey);
      this.#writer.held.set(id, event);
      this.#mirror.append(event);
      events.push(event);
    }
    if (events.length) this.#hooks?.recovered(events);
    giveUps.report((count, why, reason) => this.#hooks?.dropped(count, why, reason));
    if (this.#writer.hasWork) this.#window.arm();
  }

  #error(err: Error): void {
    this.#hooks?.error(new Error(`redisStore(${this.names.stream}): ${err.message}`));
  }
}

/** The Node implementation of the public `redisStore()` (`stores/factories.ts`). */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}

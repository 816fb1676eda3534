import type { QueuedEvent } from '../event-store';
import { pathCode } from '../stored-event';
import {
  APPEND_CHUNK,
  appendEntries,
  removeEntries,
  type RedisLike,
  type StreamNames,
} from './commands';

/** An event's `key` in a Redis store: its entry ID, once written. */
export interface EntryKey {
  id: string | undefined;
  settled: boolean;
}

export const isEntryKey = (key: unknown): key is EntryKey =>
  typeof key === 'object' && key !== null && 'settled' in key && 'id' in key;

/**
 * The Redis side of a store: what each window sends. New events go out in
 * one append script call per 500 (entry added and owned by this consumer in
 * one step); settled entries are then removed with XACK and XDEL. An event
 * settled before its window is never written. What a failed call did not
 * take stays queued for the next window.
 */
export class StreamWriter {
  /** Entries written and not settled, by ID: touched each tick, skipped when claimed back. */
  readonly held = new Map<string, QueuedEvent>();
  #unwritten: QueuedEvent[] = [];
  #settledIds: string[] = [];

  constructor(
    private readonly redis: RedisLike,
    private readonly names: StreamNames,
  ) {}

  get unwritten(): number {
    return this.#unwritten.length;
  }

  add(event: QueuedEvent): void {
    this.#unwritten.push(event);
  }

  settle(key: EntryKey): void {
    if (key.settled) return;
    key.settled = true;
    if (key.id === undefined) return; // not written yet: never will be
    this.held.delete(key.id);
    this.#settledIds.push(key.id);
  }

  /** An entry that is not to be delivered (expired, unreadable, deleted): removed next window. */
  discard(id: string): void {
    this.#settledIds.push(id);
  }

  get hasWork(): boolean {
    return this.#unwritten.length > 0 || this.#settledIds.length > 0;
  }

  async write(): Promise<void> {
    while (this.#unwritten.length) {
      const chunk: QueuedEvent[] = [];
      const fields: string[] = [];
      for (const event of this.#unwritten.splice(0, APPEND_CHUNK)) {
        if ((event.key as EntryKey).settled) continue;
        chunk.push(event);
        fields.push(pathCode(event.path), event.json);
      }
      if (!chunk.length) continue;
      let ids: string[];
      try {
        ids = await appendEntries(this.redis, this.names, fields);
      } catch (err) {
        this.#unwritten = chunk.concat(this.#unwritten);
        throw err;
      }
      chunk.forEach((event, i) => this.#written(event, ids[i]!));
    }
    const ids = this.#settledIds;
    this.#settledIds = [];
    try {
      await removeEntries(this.redis, this.names, ids);
    } catch (err) {
      this.#settledIds = ids.concat(this.#settledIds);
      throw err;
    }
  }

  #written(event: QueuedEvent, id: string): void {
    const key = event.key as EntryKey;
    key.id = id;
    if (key.settled) this.#settledIds.push(id);
    else this.held.set(id, event);
  }
}

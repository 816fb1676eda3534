import type { FlushWaiter } from './flush';

/** Where an event goes: a `/batch` row, or a request of its own. */
export type EventPath = '/batch' | '/track' | '/identify';

/** One checked event, serialised once when queued. */
export interface QueuedEvent {
  /** The event's JSON without the token (spliced in per request). */
  readonly json: string;
  /** Size counted against the queue bound (UTF-16 length of `json`: cheap and close to bytes). */
  readonly bytes: number;
  readonly path: EventPath;
  /** The newest `flush()` call that waits for this event, if any. */
  waiter?: FlushWaiter;
}

/**
 * Holds events until they are leased into a request. The in-memory store is
 * the default; a durable store implements the same contract.
 */
export interface EventStore {
  /** Events waiting (not leased). */
  readonly count: number;
  /** Their `bytes`, summed. */
  readonly bytes: number;
  append(event: QueuedEvent): void;
  /**
   * Takes up to `maxCount` events (and, beyond the first, up to `maxBytes`)
   * from the head, all bound for the head event's path; an event bound for
   * `/track` or `/identify` is a request of its own, so it is leased alone.
   */
  lease(maxCount: number, maxBytes: number): QueuedEvent[];
  /** Visits every waiting event, oldest first. */
  forEach(visit: (event: QueuedEvent) => void): void;
}

/**
 * FIFO in an array with a moving head: O(1) append and lease, and the array
 * is compacted only once the consumed part dominates it.
 */
export class MemoryStore implements EventStore {
  #items: QueuedEvent[] = [];
  #head = 0;
  #bytes = 0;

  get count(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  append(event: QueuedEvent): void {
    this.#items.push(event);
    this.#bytes += event.bytes;
  }

  lease(maxCount: number, maxBytes: number): QueuedEvent[] {
    const items = this.#items;
    const first = items[this.#head];
    if (!first) return [];
    const limit = first.path === '/batch' ? maxCount : 1;
    let end = this.#head;
    let bytes = 0;
    while (end < items.length && end - this.#head < limit) {
      const next = items[end]!;
      if (next.path !== first.path || (end > this.#head && bytes + next.bytes > maxBytes)) break;
      bytes += next.bytes;
      end++;
    }
    const leased = items.slice(this.#head, end);
    this.#head = end;
    this.#bytes -= bytes;
    this.#compact();
    return leased;
  }

  forEach(visit: (event: QueuedEvent) => void): void {
    for (let i = this.#head; i < this.#items.length; i++) visit(this.#items[i]!);
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

import type { EventStore, QueuedEvent } from './event-store';

/**
 * FIFO in an array with a moving head: O(1) append and lease, and the array
 * is compacted only once the consumed part dominates it.
 */
export class MemoryStore implements EventStore {
  #items: QueuedEvent[] = [];
  #head = 0;
  #bytes = 0;
  readonly durable = false;

  get count(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  append(event: QueuedEvent): boolean {
    this.#items.push(event);
    this.#bytes += event.bytes;
    return true;
  }

  ack(): void {
    // Leased events left the array already; nothing is kept elsewhere.
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

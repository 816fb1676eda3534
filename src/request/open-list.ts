/** A place in an `OpenList`, given by `add()`, taken back by `delete()`. */
export class OpenEntry<T> {
  prev: OpenEntry<T> | undefined;
  next: OpenEntry<T> | undefined;
  linked = true;
  constructor(readonly value: T) {}
}

/**
 * What is open right now (the hand-offs of requests whose response still
 * runs), as a doubly linked list whose entries drop their links when they
 * leave. Not a `Set`, on purpose: one entry comes and goes per request, and
 * V8 rehashes a Set's table as they do; the table it replaces keeps a link to
 * its successor, so once one of those tables sits in the old generation, every
 * later table and every request their entries reach survive young-generation
 * GCs and are promoted. Under load the collector then cost more than the rest
 * of a tracked request (bench/RESULTS.md, "The request-path regression").
 */
export class OpenList<T> {
  #head: OpenEntry<T> | undefined;

  add(value: T): OpenEntry<T> {
    const entry = new OpenEntry(value);
    entry.next = this.#head;
    if (this.#head) this.#head.prev = entry;
    this.#head = entry;
    return entry;
  }

  /** Takes `entry` out; a second time is a no-op. */
  delete(entry: OpenEntry<T>): void {
    if (!entry.linked) return;
    entry.linked = false;
    if (entry.prev) entry.prev.next = entry.next;
    else this.#head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    entry.prev = entry.next = undefined;
  }

  /** What is open now, oldest first, as an array (so the caller may delete while it walks it). */
  values(): T[] {
    const out: T[] = [];
    for (let e = this.#head; e; e = e.next) out.push(e.value);
    return out.reverse();
  }
}

/**
 * A bounded LRU map whose entries expire `ttlMs` after they were stored.
 * A `Map` iterates in insertion order, so re-inserting on a hit keeps the
 * least recently used entry first, and eviction drops that one. Time comes
 * from a monotonic clock (injectable for tests): a wall-clock jump must
 * neither expire everything nor keep answers forever.
 *
 * @example
 * const cache = new TtlCache<string>(10_000, 60_000);
 * cache.set('v1\0pricing', 'B');
 * cache.get('v1\0pricing'); // 'B' for the next minute
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The live value for `key`, now the most recently used; undefined when absent or expired. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expires <= this.now()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for `ttlMs`, evicting the least recently used entry when full. */
  set(key: string, value: V): void {
    if (this.maxEntries === 0 || this.ttlMs === 0) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries)
      this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, { value, expires: this.now() + this.ttlMs });
  }

  clear(): void {
    this.#entries.clear();
  }
}

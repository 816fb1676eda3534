/**
 * The device properties of a User-Agent and its client-hint headers, kept by
 * the UA and then the hints' values. One string key made of all of them
 * would be built, flattened and hashed whole on every request (~600
 * characters with Chrome's hints); this way only the UA is hashed and the
 * hints are compared as they came.
 *
 * Bounded in entries (oldest User-Agent evicted first), in variants per
 * User-Agent (a client that varies its hints replaces its own oldest), and
 * in key length: a combination longer than `maxKeyChars` is not kept.
 */
export class DeviceCache<V> {
  readonly #byUa = new Map<string, Variant<V>[]>();
  readonly #maxEntries: number;
  readonly #maxKeyChars: number;
  readonly #maxVariantsPerUa: number;
  #entries = 0;

  constructor(maxEntries: number, maxKeyChars: number, maxVariantsPerUa = 4) {
    this.#maxEntries = maxEntries;
    this.#maxKeyChars = maxKeyChars;
    this.#maxVariantsPerUa = maxVariantsPerUa;
  }

  /** What was stored for exactly this UA and these hint values (`undefined` for a hint not sent). */
  get(ua: string, hints: readonly (string | undefined)[]): V | undefined {
    const variants = this.#byUa.get(ua);
    if (variants === undefined) return undefined;
    for (let v = 0; v < variants.length; v++) {
      if (sameHints(variants[v]!.hints, hints)) return variants[v]!.value;
    }
    return undefined;
  }

  set(ua: string, hints: readonly (string | undefined)[], value: V): void {
    let chars = ua.length;
    for (let i = 0; i < hints.length; i++) chars += hints[i]?.length ?? 0;
    if (chars > this.#maxKeyChars) return;
    let variants = this.#byUa.get(ua);
    if (variants === undefined) {
      if (this.#entries >= this.#maxEntries) this.#evictOldest();
      variants = [];
      this.#byUa.set(detached(ua), variants);
    } else if (variants.length >= this.#maxVariantsPerUa) {
      variants.shift();
      this.#entries--;
    }
    variants.push({ hints: hints.map((hint) => hint && detached(hint)), value });
    this.#entries++;
  }

  /** Entries held, every variant counted (tests). */
  get size(): number {
    return this.#entries;
  }

  #evictOldest(): void {
    // Map iterates in insertion order, so the first key is the oldest User-Agent.
    const oldest = this.#byUa.keys().next();
    if (oldest.done) return;
    this.#entries -= this.#byUa.get(oldest.value)!.length;
    this.#byUa.delete(oldest.value);
  }
}

interface Variant<V> {
  hints: readonly (string | undefined)[];
  value: V;
}

function sameHints(
  a: readonly (string | undefined)[],
  b: readonly (string | undefined)[],
): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return a.length === b.length;
}

/**
 * A copy of `text` that holds no larger string: a header value may be a
 * slice of the whole header block, which a kept slice would keep alive.
 * Concatenating then slicing makes V8 copy it into a string of its own.
 */
function detached(text: string): string {
  return (text + ' ').slice(0, -1);
}

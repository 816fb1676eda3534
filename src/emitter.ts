/* eslint-disable @typescript-eslint/no-explicit-any */
type Listener = (...args: any[]) => void;

/** A listener added by `once`, and the one the app passed (so `off` finds it). */
interface OnceWrapper extends Listener {
  listener: Listener;
}

/**
 * The part of Node's `EventEmitter` the client offers, on every runtime
 * (node:events is absent from Workers): `on`/`addListener`, `once`,
 * `off`/`removeListener`, `emit`, `listenerCount`, `rawListeners`,
 * `removeAllListeners`. The client's own events are not sent with `emit`
 * but to each listener in turn (`Reporter`), so that one that throws is
 * reported and stops no other.
 * Like Node's, `emit('error')` with no listener throws the error. Listeners
 * are kept in arrays replaced on change, so a listener that removes itself
 * while an event is emitted does not skip the next one.
 */
export class Emitter {
  readonly #listeners = new Map<string | symbol, Listener[]>();

  on(event: string | symbol, listener: (...args: any[]) => void): this {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return this;
  }

  addListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.on(event, listener);
  }

  once(event: string | symbol, listener: (...args: any[]) => void): this {
    const wrapper = ((...args: unknown[]) => {
      this.off(event, wrapper);
      listener.apply(this, args);
    }) as OnceWrapper;
    wrapper.listener = listener;
    return this.on(event, wrapper);
  }

  off(event: string | symbol, listener: (...args: any[]) => void): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    let at = list.length - 1; // the last added goes first, as in Node
    while (
      at >= 0 &&
      list[at] !== listener &&
      (list[at] as Partial<OnceWrapper>).listener !== listener
    )
      at--;
    if (at < 0) return this;
    const rest = list.filter((_, i) => i !== at);
    if (rest.length === 0) this.#listeners.delete(event);
    else this.#listeners.set(event, rest);
    return this;
  }

  removeListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.off(event, listener);
  }

  removeAllListeners(event?: string | symbol): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  listenerCount(event: string | symbol): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** A copy of the listeners, `once` ones as their wrappers (calling one removes it), in call order. */
  rawListeners(event: string | symbol): ((...args: any[]) => unknown)[] {
    return [...(this.#listeners.get(event) ?? [])];
  }

  emit(event: string | symbol, ...args: any[]): boolean {
    const list = this.#listeners.get(event);
    if (!list) {
      if (event === 'error')
        throw args[0] instanceof Error
          ? args[0]
          : new Error(`unhandled 'error' event: ${String(args[0])}`);
      return false;
    }
    for (const listener of list) listener.apply(this, args);
    return true;
  }
}

// A tiny typed event emitter for the browser entry (no node:events): `on` and `once` return a
// disposer. A listener that throws does not stop the others, nor the client: its error surfaces
// as an uncaught exception afterwards, as it would from any event target.
import { OscConfigError } from '../codec/errors.js';
import { rethrowLater } from '../server/log.js';

/** Stops a listener; also `using`-disposable. */
export interface ListenerDisposer extends Disposable {
  (): void;
}

type Listener = (...args: unknown[]) => void;

/** `E` maps each event's name to its listener's arguments: `{ open: []; close: [info: CloseInfo] }`. */
export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  readonly #listeners = new Map<keyof E, Set<Listener>>();

  /** Calls `listener` on every `event` until the returned function is called. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): ListenerDisposer {
    if (typeof listener !== 'function') {
      throw new OscConfigError('ERR_OSC_INVALID_ARG_TYPE', `a listener is a function, got ${typeof listener}`);
    }
    // a wrapper of its own, so that the same function added twice is two listeners, each disposable
    const entry = ((...args: E[K]) => listener(...args)) as unknown as Listener;
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(entry);
    const dispose = (() => {
      const current = this.#listeners.get(event);
      if (current?.delete(entry) && current.size === 0) this.#listeners.delete(event);
    }) as ListenerDisposer;
    dispose[Symbol.dispose] = dispose;
    return dispose;
  }

  /** Calls `listener` on the next `event` only. */
  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): ListenerDisposer {
    const dispose = this.on(event, (...args) => {
      dispose();
      listener(...args);
    });
    return dispose;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener of `event`; what one throws is rethrown later, after the rest ran. */
  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        rethrowLater(err);
      }
    }
  }
}

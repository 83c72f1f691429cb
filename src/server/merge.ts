import type { Route } from './route.js';
import type { Subscription } from './subscription.js';

// biome-ignore lint/suspicious/noExplicitAny: any subscription, whatever it yields
type AnySubscription = Subscription<any, Route>;
type Item<S> = S extends Subscription<infer T, infer R> ? [R, T] : never;

/**
 * Iterates several subscriptions as one, yielding `[route, item]` in arrival order across them.
 * Leaving the loop (or `return()`) ends every subscription; the merge ends when all have ended.
 */
/** What `merge` returns: an async iterator of `[route, item]` whose `return()` ends every subscription. */
export interface Merged<T> extends AsyncIterableIterator<T>, AsyncDisposable {
  return(): Promise<IteratorResult<T>>;
}

export function merge<S extends AnySubscription[]>(...subs: S): Merged<Item<S[number]>> {
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  for (const s of subs) s.notify = notify;

  let stopped = false;
  const stop = async (): Promise<IteratorResult<Item<S[number]>>> => {
    if (!stopped) {
      stopped = true;
      for (const s of subs) {
        s.notify = undefined;
        await s.return();
      }
      notify(); // a next() waiting for an item sees that the merge has ended
    }
    return { value: undefined, done: true };
  };

  const iterator = {
    async next(): Promise<IteratorResult<Item<S[number]>>> {
      for (;;) {
        if (stopped) return { value: undefined, done: true };
        // the subscription holding the oldest message goes first
        let best: AnySubscription | undefined;
        for (const s of subs) if (s.pending > 0 && (best === undefined || s.headSeq < best.headSeq)) best = s;
        if (best !== undefined) {
          const r = best.take();
          if (r !== undefined) return { value: [best.route, r.value] as Item<S[number]>, done: false };
        }
        // subscriptions that failed (overflow: 'error') throw through the merge
        for (const s of subs) {
          if (s.pending === 0 && !s.done && !s.active) {
            try {
              await s.next();
            } catch (err) {
              await stop();
              throw err;
            }
          }
        }
        if (subs.every((s) => s.done)) return stop();
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    return: stop,
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
  return iterator;
}

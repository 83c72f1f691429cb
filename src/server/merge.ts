import { OscConfigError } from '../transport/errors.js';
import type { Route } from './route.js';
import type { Subscription } from './subscription.js';
import { SubscriptionImpl } from './subscription-impl.js';

// biome-ignore lint/suspicious/noExplicitAny: any subscription, whatever it yields
type AnySubscription = Subscription<any, Route>;
type Item<S> = S extends Subscription<infer T, infer R> ? [R, T] : never;

/** What `merge` returns: an async iterator of `[route, item]` whose `return()` ends every subscription. */
export interface Merged<T> extends AsyncIterableIterator<T>, AsyncDisposable {
  /** Ends the merge and every subscription in it, discarding what they buffered. */
  return(): Promise<IteratorResult<T>>;
}

/**
 * Iterates several subscriptions as one, yielding `[route, item]` in arrival order across them.
 * Leaving the loop (or `return()`) ends every subscription; the merge ends when all have ended.
 * A subscription has one consumer: one already in a merge that goes on (or given twice) is
 * refused with `OscConfigError` (`ERR_OSC_INVALID_OPTIONS`).
 */
export function merge<S extends AnySubscription[]>(...subs: S): Merged<Item<S[number]>> {
  const impls = subs.map(implOf);
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  claimAll(impls, notify);

  let stopped = false;
  const stop = async (): Promise<IteratorResult<Item<S[number]>>> => {
    if (!stopped) {
      stopped = true;
      for (const s of impls) {
        s.release();
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
        let best: SubscriptionImpl<unknown> | undefined;
        for (const s of impls) if (s.pending > 0 && (best === undefined || s.headSeq < best.headSeq)) best = s;
        if (best !== undefined) {
          const r = best.take();
          if (r !== undefined) return { value: [best.route, r.value] as Item<S[number]>, done: false };
        }
        // subscriptions that failed (overflow: 'error') throw through the merge
        for (const s of impls) {
          if (s.pending === 0 && !s.done && !s.active) {
            try {
              await s.next();
            } catch (err) {
              await stop();
              throw err;
            }
          }
        }
        if (impls.every((s) => s.done)) return stop();
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

function implOf(sub: AnySubscription): SubscriptionImpl<unknown> {
  if (sub instanceof SubscriptionImpl) return sub;
  throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'merge() takes subscriptions made by route.sub()');
}

/** Claims every subscription for one merge, or none of them (a refused merge changes nothing). */
function claimAll(impls: readonly SubscriptionImpl<unknown>[], wake: () => void): void {
  const claimed: SubscriptionImpl<unknown>[] = [];
  try {
    for (const s of impls) {
      s.claim(wake);
      claimed.push(s);
    }
  } catch (err) {
    for (const s of claimed) s.release();
    throw err;
  }
}

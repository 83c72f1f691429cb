// The public face of a subscription: what users call. The implementation (buffering, overflow,
// what the route and merge() call) is SubscriptionImpl in subscription-impl.ts, not exported.
import type { OscArg } from '../codec/values.js';
import type { Route } from './route.js';

/** What a subscription does when its consumer falls `highWaterMark` messages behind. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'error' | 'pause';

/** Options of `route.sub()`: the buffer's limits, what happens past them, and when it ends. */
export interface SubscribeOptions {
  /** Messages buffered for a slow consumer before `overflow` applies. Default 1024. */
  readonly highWaterMark?: number | undefined;
  /**
   * Bytes buffered (an estimate of the memory the messages keep alive, see the README) before
   * `overflow` applies, whichever of the two limits comes first. Default 8 MiB. A message is
   * always taken into an empty buffer, so one subscription holds at most this plus one message.
   */
  readonly highWaterBytes?: number | undefined;
  /**
   * `'drop-oldest'` (default) and `'drop-newest'` discard and count; `'error'` makes the iteration
   * throw `OscOverflowError` after what is buffered; `'pause'` stops reading the TCP
   * connection the messages come from until there is room, losing nothing (over UDP, where the
   * sender cannot be paused, it discards the newest like `'drop-newest'`).
   */
  readonly overflow?: OverflowPolicy | undefined;
  /** Ends the subscription when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Yield `Incoming` records (path, typetags, args, timetag, source) instead of bare args. */
  readonly incoming?: boolean | undefined;
}

/** The default `highWaterMark`: messages a subscription buffers for a slow consumer. */
export const DEFAULT_HIGH_WATER_MARK = 1024;
/** 1024 messages of 8 KiB: typical traffic meets the count first, big messages the bytes. */
export const DEFAULT_HIGH_WATER_BYTES = 8 * 1024 * 1024;

/**
 * A buffered, single-consumer stream of what a route receives: `for await (const args of sub)`.
 * It ends with `unsub()` (after what is buffered), `break` or `return()` (at once), its
 * `AbortSignal`, `await using`, or when the server stops (after what is buffered). Made by
 * `route.sub()` (and `server.packets()`, whose route is `null`).
 */
export interface Subscription<T = readonly OscArg[], R extends Route | null = Route>
  extends AsyncIterableIterator<T>,
    AsyncDisposable {
  /** The route it receives from (`null` for a server's `packets()`). */
  readonly route: R;
  /** Messages buffered before `overflow` applies. */
  readonly highWaterMark: number;
  /** Bytes buffered (an estimate) before `overflow` applies. */
  readonly highWaterBytes: number;
  /** What happens to a message that finds the buffer full. */
  readonly overflow: OverflowPolicy;
  /** Whether this subscription yields `Incoming` records. */
  readonly incoming: boolean;
  /** Resolves when the subscription has ended and everything buffered was consumed or discarded. */
  readonly closed: Promise<void>;
  /** Messages buffered and not yet consumed. */
  readonly pending: number;
  /** Bytes buffered: the estimate `highWaterBytes` limits. */
  readonly pendingBytes: number;
  /** Messages discarded by the overflow policy. */
  readonly dropped: number;
  /** Whether the subscription still accepts messages. */
  readonly active: boolean;
  /** The next item; one consumer: await each call before the next. */
  next(): Promise<IteratorResult<T>>;
  /** Ends at once, discarding what is buffered (what `break` in `for await` calls). */
  return(): Promise<IteratorResult<T>>;
  /** Stops receiving; what is buffered is still delivered, then the iteration ends. */
  unsub(): void;
  /** Like {@link Subscription.unsub}, resolving once everything buffered has been consumed. */
  drain(): Promise<void>;
  /** The subscription itself: `for await (const args of sub)`. */
  [Symbol.asyncIterator](): Subscription<T, R>;
}

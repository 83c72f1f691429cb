import type { OscArg } from '../codec/values.js';
import { OscOverflowError } from './errors.js';
import type { Route } from './route.js';

/** What a subscription does when its consumer falls `highWaterMark` messages behind. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'error' | 'pause';

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
   * throw {@link OscOverflowError} after what is buffered; `'pause'` stops reading the TCP
   * connection the messages come from until there is room, losing nothing (over UDP, where the
   * sender cannot be paused, it discards the newest like `'drop-newest'`).
   */
  readonly overflow?: OverflowPolicy | undefined;
  /** Ends the subscription when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Yield {@link Incoming} records (path, typetags, args, timetag, source) instead of bare args. */
  readonly incoming?: boolean | undefined;
}

export const DEFAULT_HIGH_WATER_MARK = 1024;
/** 1024 messages of 8 KiB: typical traffic meets the count first, big messages the bytes. */
export const DEFAULT_HIGH_WATER_BYTES = 8 * 1024 * 1024;

/** @internal Where a pushed item came from; `bytes` is read only if the item is buffered. */
export interface Arrival {
  /** Arrival order, for `merge`. */
  readonly seq: number;
  /** The connection it came from, if it can be paused. */
  readonly holdable: Holdable | undefined;
  /** What the item keeps alive while buffered. */
  readonly bytes: number;
}

/** A transport that can stop reading for a while: a TCP connection. */
export interface Holdable {
  hold(holder: unknown): void;
  release(holder: unknown): void;
}

type State = 'open' | 'draining' | 'done';

/** @internal What a route needs of its subscriptions, whatever they yield. */
export interface SubscriptionSink {
  readonly incoming: boolean;
  readonly done: boolean;
  push(item: never, from: Arrival): void;
  end(): void;
}

/**
 * A buffered, single-consumer stream of what a route receives: `for await (const args of sub)`.
 * It ends with `unsub()` (after what is buffered), `break` or `return()` (at once), its
 * `AbortSignal`, `await using`, or when the server stops (after what is buffered).
 */
export class Subscription<T = readonly OscArg[], R extends Route | null = Route>
  implements AsyncIterableIterator<T>, AsyncDisposable, SubscriptionSink
{
  /** The route it receives from (`null` for a server's `packets()`). */
  readonly route: R;
  readonly highWaterMark: number;
  readonly highWaterBytes: number;
  readonly overflow: OverflowPolicy;
  /** Whether this subscription yields `Incoming` records. */
  readonly incoming: boolean;
  /** Resolves when the subscription has ended and everything buffered was consumed or discarded. */
  readonly closed: Promise<void>;
  #items: T[] = [];
  #seqs: number[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  #state: State = 'open';
  #failure: OscOverflowError | undefined;
  #dropped = 0;
  // typed without T so that a Subscription stays covariant in what it yields
  #waiter: ((result: IteratorResult<unknown>) => void) | undefined;
  #resolveClosed!: () => void;
  readonly #held = new Set<Holdable>();
  readonly #onEnd: (sub: SubscriptionSink) => void;
  readonly #onDrop: (sub: Subscription<unknown>, dropped: number) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #abort = (): void => {
    this.return();
  };
  /** Set by `merge`: called whenever this subscription gains an item or ends. */
  notify: (() => void) | undefined;

  /** @internal Subscriptions are made by `route.sub()`. */
  constructor(
    route: R,
    options: SubscribeOptions,
    onEnd: (sub: SubscriptionSink) => void,
    onDrop: (sub: Subscription<unknown>, dropped: number) => void,
  ) {
    this.route = route;
    const hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    if (!Number.isInteger(hwm) || hwm < 1) throw new RangeError(`highWaterMark must be a positive integer, got ${hwm}`);
    this.highWaterMark = hwm;
    const hwb = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    if (!Number.isInteger(hwb) || hwb < 1) {
      throw new RangeError(`highWaterBytes must be a positive integer, got ${hwb}`);
    }
    this.highWaterBytes = hwb;
    this.overflow = options.overflow ?? 'drop-oldest';
    if (!['drop-oldest', 'drop-newest', 'error', 'pause'].includes(this.overflow)) {
      throw new RangeError(
        `overflow is 'drop-oldest', 'drop-newest', 'error' or 'pause', got ${String(this.overflow)}`,
      );
    }
    this.incoming = options.incoming ?? false;
    this.#onEnd = onEnd;
    this.#onDrop = onDrop;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#signal = options.signal;
    if (this.#signal?.aborted) {
      this.#finish();
    } else {
      this.#signal?.addEventListener('abort', this.#abort, { once: true });
    }
  }

  /** Messages buffered and not yet consumed. */
  get pending(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes buffered: the estimate `highWaterBytes` limits. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Messages discarded by the overflow policy. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether the subscription still accepts messages. */
  get active(): boolean {
    return this.#state === 'open';
  }

  /** Sequence number of the oldest buffered item (for `merge`'s arrival order), or Infinity. */
  get headSeq(): number {
    return this.#head < this.#seqs.length ? (this.#seqs[this.#head] as number) : Number.POSITIVE_INFINITY;
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  /** @internal Delivers one item. */
  push(item: T, from: Arrival): void {
    if (this.#state !== 'open') return;
    if (this.pending > 0 && this.#full(from.bytes)) {
      const source = from.holdable;
      const bytes = from.bytes;
      switch (this.overflow) {
        case 'drop-oldest':
          do {
            this.#shift();
            this.#drop();
          } while (this.#full(bytes));
          break;
        case 'pause':
          if (source !== undefined) {
            if (!this.#held.has(source)) {
              this.#held.add(source);
              source.hold(this);
            }
            break; // keep it: the transport stops until there is room
          }
          this.#drop();
          return;
        case 'drop-newest':
          this.#drop();
          return;
        case 'error':
          this.#drop();
          this.#failure ??= new OscOverflowError(
            this.pending >= this.highWaterMark ? `${this.highWaterMark} messages` : `${this.highWaterBytes} bytes`,
            this.#dropped,
          );
          this.#state = 'draining';
          this.#onEnd(this);
          this.notify?.();
          return;
      }
    }
    const waiter = this.#waiter;
    if (waiter !== undefined && this.pending === 0) {
      this.#waiter = undefined;
      waiter({ value: item, done: false });
      return;
    }
    const bytes = from.bytes;
    this.#items.push(item);
    this.#seqs.push(from.seq);
    this.#sizes.push(bytes);
    this.#bytes += bytes;
    this.notify?.();
  }

  /** Whether taking an item of `bytes` would cross a limit (never so for an empty buffer). */
  #full(bytes: number): boolean {
    const pending = this.pending;
    return pending > 0 && (pending >= this.highWaterMark || this.#bytes + bytes > this.highWaterBytes);
  }

  #drop(): void {
    this.#dropped++;
    this.#onDrop(this as Subscription<unknown>, this.#dropped);
  }

  #shift(): T {
    const item = this.#items[this.#head] as T;
    (this.#items as unknown[])[this.#head] = undefined;
    this.#bytes -= this.#sizes[this.#head] as number;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#seqs = [];
      this.#sizes = [];
      this.#head = 0;
      this.#bytes = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#seqs = this.#seqs.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    if (this.#held.size > 0 && this.pending <= this.highWaterMark >> 1 && this.#bytes <= this.highWaterBytes / 2) {
      this.#releaseAll();
    }
    return item;
  }

  #releaseAll(): void {
    const held = [...this.#held];
    this.#held.clear();
    for (const h of held) h.release(this);
  }

  /** @internal Takes the oldest buffered item without waiting (for `merge`). */
  take(): IteratorResult<T> | undefined {
    if (this.pending > 0) return { value: this.#shift(), done: false };
    if (this.#state === 'draining') this.#finish();
    return undefined;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.pending > 0) return Promise.resolve({ value: this.#shift(), done: false });
    if (this.#failure !== undefined && this.#state !== 'done') {
      const failure = this.#failure;
      this.#finish();
      return Promise.reject(failure);
    }
    if (this.#state !== 'open') {
      this.#finish();
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#waiter !== undefined) {
      return Promise.reject(new Error('a Subscription has one consumer: await each next() before the next'));
    }
    return new Promise<IteratorResult<T>>((resolve) => {
      this.#waiter = resolve as (result: IteratorResult<unknown>) => void;
    });
  }

  /** Ends at once, discarding what is buffered (what `break` in `for await` calls). */
  return(): Promise<IteratorResult<T>> {
    this.#items = [];
    this.#seqs = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#failure = undefined;
    this.#finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops receiving; what is buffered is still delivered, then the iteration ends. */
  unsub(): void {
    this.#end();
  }

  /** Like {@link unsub}, resolving once everything buffered has been consumed. */
  drain(): Promise<void> {
    this.#end();
    return this.closed;
  }

  /** @internal The server stopped, or the route went away: end after what is buffered. */
  end(): void {
    this.#end();
  }

  #end(): void {
    if (this.#state !== 'open') return;
    this.#state = 'draining';
    this.#onEnd(this);
    this.#releaseAll();
    if (this.pending === 0) this.#finish();
    else this.notify?.();
  }

  #finish(): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    this.#releaseAll();
    this.#signal?.removeEventListener('abort', this.#abort);
    this.#onEnd(this);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
    this.notify?.();
    this.#resolveClosed();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}

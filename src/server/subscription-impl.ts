// The implementation of a Subscription: a bounded buffer between a route (or a server's packets())
// and one consumer, which is a `for await` loop or one merge(). Not exported from the package: users
// see the Subscription interface (subscription.ts), whose members are all they may call.
import type { OscArg } from '../codec/values.js';
import { OscConfigError } from '../transport/errors.js';
import type { Arrival, Holdable } from './delivery.js';
import { OscOverflowError } from './errors.js';
import type { Route } from './route.js';
import {
  DEFAULT_HIGH_WATER_BYTES,
  DEFAULT_HIGH_WATER_MARK,
  type OverflowPolicy,
  type SubscribeOptions,
  type Subscription,
} from './subscription.js';

const POLICIES: readonly OverflowPolicy[] = ['drop-oldest', 'drop-newest', 'error', 'pause'];

/**
 * Past this many consumed slots at the head of the buffer (and once they are half of it), the
 * arrays are compacted: the cost of the copy is paid back by the slots it frees, and small
 * buffers never copy.
 */
const COMPACT_AFTER = 1024;

type State = 'open' | 'draining' | 'done';

/** @internal What a route (or a server's `packets()`) needs of a subscription, whatever it yields. */
export interface Sink<T, I extends boolean = boolean> {
  /** Whether it takes `Incoming` records (true) or bare args (false): the route's choice of item. */
  readonly incoming: I;
  readonly done: boolean;
  /** Delivers one item; `from` says where it came from and what it keeps alive. */
  push(item: T, from: Arrival): void;
  /** The server stopped, or the route went away: end after what is buffered. */
  end(): void;
}

/**
 * @internal The implementation of {@link Subscription}. `I` is whether it yields `Incoming`
 * records, so that a route can hand each subscription the item it takes without a cast.
 */
export class SubscriptionImpl<T = readonly OscArg[], R extends Route | null = Route, I extends boolean = boolean>
  implements Subscription<T, R>, Sink<T, I>
{
  readonly route: R;
  readonly highWaterMark: number;
  readonly highWaterBytes: number;
  readonly overflow: OverflowPolicy;
  readonly incoming: I;
  readonly closed: Promise<void>;
  #items: T[] = [];
  #seqs: number[] = [];
  #sizes: number[] = [];
  #head = 0;
  /**
   * The end of what is buffered. The arrays are reused from one burst to the next (a batch of
   * datagrams buffers a few dozen messages at a time), so their length may run past it.
   */
  #tail = 0;
  #bytes = 0;
  #state: State = 'open';
  #failure: OscOverflowError | undefined;
  #dropped = 0;
  // typed without T so that a Subscription stays covariant in what it yields
  #waiter: ((result: IteratorResult<unknown>) => void) | undefined;
  #resolveClosed!: () => void;
  readonly #held = new Set<Holdable>();
  readonly #onEnd: (sub: SubscriptionImpl<T, R, I>) => void;
  readonly #onDrop: (sub: Subscription<unknown>, dropped: number) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #abort = (): void => {
    this.return();
  };
  /**
   * The one consumer that is a `merge()`: called whenever this subscription gains an item or ends.
   * One at most (see {@link SubscriptionImpl.claim}).
   */
  #merged: (() => void) | undefined;

  /** Subscriptions are made by `route.sub()` and `server.packets()`, which choose `I` to match `options.incoming`. */
  constructor(
    route: R,
    options: SubscribeOptions,
    onEnd: (sub: SubscriptionImpl<T, R, I>) => void,
    onDrop: (sub: Subscription<unknown>, dropped: number) => void,
  ) {
    this.route = route;
    const hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    if (!Number.isInteger(hwm) || hwm < 1) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `highWaterMark must be a positive integer, got ${hwm}`);
    }
    this.highWaterMark = hwm;
    const hwb = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    if (!Number.isInteger(hwb) || hwb < 1) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `highWaterBytes must be a positive integer, got ${hwb}`);
    }
    this.highWaterBytes = hwb;
    this.overflow = options.overflow ?? 'drop-oldest';
    if (!POLICIES.includes(this.overflow)) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        `overflow is 'drop-oldest', 'drop-newest', 'error' or 'pause', got ${String(this.overflow)}`,
      );
    }
    this.incoming = (options.incoming === true) as I;
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
    return this.#tail - this.#head;
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
    return this.#head < this.#tail ? (this.#seqs[this.#head] as number) : Number.POSITIVE_INFINITY;
  }

  /** Whether it has ended and everything buffered was consumed or discarded. */
  get done(): boolean {
    return this.#state === 'done';
  }

  /**
   * Makes `merge()` this subscription's consumer: `wake` is called whenever it gains an item or
   * ends. A subscription has one consumer, so a second merge (while the first goes on) is refused:
   * each would take items from the other, and ending one would end the other's subscription.
   */
  claim(wake: () => void): void {
    if (this.#merged !== undefined) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        `${this.#what()} is already in a merge(): a subscription has one consumer; make another with route.sub()`,
      );
    }
    this.#merged = wake;
  }

  /** The merge that claimed it has ended. */
  release(): void {
    this.#merged = undefined;
  }

  #what(): string {
    return this.route === null ? 'a packets() subscription' : `a subscription of ${String(this.route)}`;
  }

  /** Delivers one item: straight to a waiting consumer if the buffer is empty, else into the buffer. */
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
          this.#merged?.();
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
    const tail = this.#tail++;
    this.#items[tail] = item;
    this.#seqs[tail] = from.seq;
    this.#sizes[tail] = bytes;
    this.#bytes += bytes;
    this.#merged?.();
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
    if (this.#head === this.#tail) {
      // drained: the arrays are kept for the next burst, unless a big one grew them
      if (this.#items.length > COMPACT_AFTER) {
        this.#items = [];
        this.#seqs = [];
        this.#sizes = [];
      }
      this.#head = 0;
      this.#tail = 0;
      this.#bytes = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#tail) {
      this.#items = this.#items.slice(this.#head, this.#tail);
      this.#seqs = this.#seqs.slice(this.#head, this.#tail);
      this.#sizes = this.#sizes.slice(this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
    // a paused connection resumes at half the limits, not at the first free slot: hysteresis, so
    // that a consumer just keeping up does not pause and resume the socket on every message
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

  /** Takes the oldest buffered item without waiting (for `merge`). */
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
      return Promise.reject(
        new OscConfigError(
          'ERR_OSC_INVALID_OPTIONS',
          'a Subscription has one consumer: await each next() before the next',
        ),
      );
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
    this.#tail = 0;
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

  /** The server stopped, or the route went away: end after what is buffered. */
  end(): void {
    this.#end();
  }

  #end(): void {
    if (this.#state !== 'open') return;
    this.#state = 'draining';
    this.#onEnd(this);
    this.#releaseAll();
    if (this.pending === 0) this.#finish();
    else this.#merged?.();
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
    this.#merged?.();
    this.#resolveClosed();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}

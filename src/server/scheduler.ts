import { TimeTag } from '../codec/timetag.js';

interface Entry<T> {
  readonly seconds: number;
  readonly fraction: number;
  readonly seq: number;
  readonly item: T;
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.seconds !== b.seconds
    ? a.seconds < b.seconds
    : a.fraction !== b.fraction
      ? a.fraction < b.fraction
      : a.seq < b.seq;
}

/**
 * The next turn of the event loop after I/O: Node's setImmediate; in a browser, which has none, a
 * MessageChannel message (a setTimeout(0) would be clamped to 4 ms once nested).
 */
type Immediate = { cancel(): void };
const immediate: (run: () => void) => Immediate =
  typeof setImmediate === 'function'
    ? (run) => {
        const handle = setImmediate(run);
        return { cancel: () => clearImmediate(handle) };
      }
    : (run) => {
        const channel = new MessageChannel();
        let live = true;
        // (the DOM's MessagePort; Node's type has no onmessage, and this branch never runs in Node)
        (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => {
          channel.port1.close();
          if (live) run();
        };
        channel.port2.postMessage(null);
        return {
          cancel: () => {
            live = false;
            channel.port1.close();
          },
        };
      };

/** liblo caps `lo_server_next_event_delay` at 100 seconds; so does {@link Scheduler.nextDelay}. */
export const MAX_EVENT_DELAY = 100;
// Node's timers have millisecond granularity and may fire a fraction of a millisecond before the
// wall-clock instant asked for; wake this much early and step the rest with setImmediate. The steps
// compare performance.now() with a number, so that they allocate nothing but the Immediate: a
// TimeTag per step made a young-generation collection every 50 ms, each a stall of its own.
const EARLY_WAKE_MS = 2;

/**
 * Holds items until their timetag and hands them to `dispatch` then, never early: a binary heap
 * ordered by timetag and then arrival (equal timetags keep their order, even across packets), with
 * one timer for the earliest.
 */
export class Scheduler<T> {
  readonly #heap: Entry<T>[] = [];
  readonly #dispatch: (item: T, timetag: TimeTag) => void;
  readonly #onError: (err: unknown) => void;
  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: Immediate | undefined;
  #armedFor: Entry<T> | undefined;
  /** performance.now() at which the head is due, while stepping towards it. */
  #dueAt = 0;
  readonly #step = (): void => {
    this.#immediate = undefined;
    // (the exact check, against the timetag, is runDue's: this one only decides when to make it)
    if (performance.now() < this.#dueAt) this.#immediate = immediate(this.#step);
    else this.#tick();
  };

  /** `onError` gets what `dispatch` throws (a user's listener); the rest of the queue goes on. */
  constructor(dispatch: (item: T, timetag: TimeTag) => void, onError: (err: unknown) => void) {
    this.#dispatch = dispatch;
    this.#onError = onError;
  }

  get pending(): number {
    return this.#heap.length;
  }

  /** Seconds until the next item is due: 0 if overdue, {@link MAX_EVENT_DELAY} at most (and when empty). */
  nextDelay(now: TimeTag = TimeTag.now()): number {
    const head = this.#heap[0];
    if (head === undefined) return MAX_EVENT_DELAY;
    const d = new TimeTag(head.seconds, head.fraction).diff(now);
    return Math.min(MAX_EVENT_DELAY, Math.max(0, d));
  }

  add(timetag: TimeTag, item: T): void {
    const entry = { seconds: timetag.seconds, fraction: timetag.fraction, seq: this.#seq++, item };
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as Entry<T>)) break;
      heap[i] = heap[parent] as Entry<T>;
      i = parent;
    }
    heap[i] = entry;
    if (i === 0) this.#arm();
  }

  #pop(): Entry<T> {
    const heap = this.#heap;
    const top = heap[0] as Entry<T>;
    const last = heap.pop() as Entry<T>;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let best = last;
        if (l < heap.length && before(heap[l] as Entry<T>, best)) {
          m = l;
          best = heap[l] as Entry<T>;
        }
        if (r < heap.length && before(heap[r] as Entry<T>, best)) m = r;
        if (m === i) break;
        heap[i] = heap[m] as Entry<T>;
        i = m;
      }
      heap[i] = last;
    }
    return top;
  }

  #arm(): void {
    const head = this.#heap[0];
    if (head === undefined || head === this.#armedFor) return;
    this.#cancel();
    this.#armedFor = head;
    const ms = this.nextDelay() * 1000;
    if (ms > EARLY_WAKE_MS) {
      this.#timer = setTimeout(() => this.#tick(), ms - EARLY_WAKE_MS);
    } else {
      this.#dueAt = performance.now() + ms;
      this.#immediate = immediate(this.#step);
    }
  }

  #cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#immediate?.cancel();
    this.#timer = undefined;
    this.#immediate = undefined;
    this.#armedFor = undefined;
  }

  #tick(): void {
    this.#timer = undefined;
    this.#immediate = undefined;
    this.#armedFor = undefined;
    this.runDue(TimeTag.now());
  }

  /** Dispatches, in order, everything due at `now` (nothing later), then sets the timer for the rest. */
  runDue(now: TimeTag): void {
    try {
      while (this.#heap.length > 0) {
        const head = this.#heap[0] as Entry<T>;
        if (head.seconds > now.seconds || (head.seconds === now.seconds && head.fraction > now.fraction)) break;
        this.#pop();
        try {
          this.#dispatch(head.item, new TimeTag(head.seconds, head.fraction));
        } catch (err) {
          this.#onError(err);
        }
      }
    } finally {
      this.#arm();
    }
  }

  /** Drops everything and cancels the timer. */
  clear(): void {
    this.#cancel();
    this.#heap.length = 0;
  }
}

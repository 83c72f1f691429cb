import { TimeTag } from '../codec/timetag.js';
import type { PreciseTimer, PreciseTimers } from '../transport/native.js';

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
 * A turn of the event loop at a time, so that I/O goes on while the scheduler steps towards a due
 * time: Node's setImmediate; in a browser, which has none, a MessageChannel message (a setTimeout(0)
 * would be clamped to 4 ms once nested). One per scheduler: a step allocates only what the platform
 * does (an Immediate, a message event), no handle of its own.
 */
interface Stepper {
  /** Calls the step on a later turn, once however often it is asked before then. */
  next(): void;
  cancel(): void;
}

function nodeStepper(step: () => void): Stepper {
  let handle: ReturnType<typeof setImmediate> | undefined;
  const run = () => {
    handle = undefined;
    step();
  };
  return {
    next: () => {
      handle ??= setImmediate(run);
    },
    cancel: () => {
      if (handle !== undefined) clearImmediate(handle);
      handle = undefined;
    },
  };
}

// One channel while stepping towards a due time (not one a step), closed when the steps end: a port
// left open with a listener keeps some runtimes' event loops alive. One message at most is in
// flight, so a cancel and a new step before it arrives still make one chain of steps, not two.
function channelStepper(step: () => void): Stepper {
  let channel: MessageChannel | undefined;
  let posted = false;
  let wanted = false;
  const arrived = () => {
    posted = false;
    if (wanted) {
      wanted = false;
      step();
    }
    if (!posted) {
      channel?.port1.close();
      channel = undefined;
    }
  };
  return {
    next: () => {
      wanted = true;
      if (posted) return;
      if (channel === undefined) {
        channel = new MessageChannel();
        // (the DOM's MessagePort; Node's type has no onmessage, and this branch never runs in Node)
        (channel.port1 as unknown as { onmessage: () => void }).onmessage = arrived;
      }
      channel.port2.postMessage(null);
      posted = true;
    },
    cancel: () => {
      wanted = false; // the message in flight finds nothing to do, and closes the channel
    },
  };
}

const hasImmediate = typeof setImmediate === 'function';

/** liblo caps `lo_server_next_event_delay` at 100 seconds; so does {@link Scheduler.nextDelay}. */
export const MAX_EVENT_DELAY = 100;

// The scheduler waits for the head with a timer, then steps.
//
// The timer is set for whole milliseconds ending EARLY_WAKE_MS before the due time. Node's timers
// run on the event loop's millisecond clock and truncate fractions: setTimeout(k) was measured
// firing from 0.9 ms early to 1.1 ms late (p99, in a process the OS never preempted), so one ending
// 1.5 ms short fires 0.4 ms before the due time at the latest. A timer under 1 ms is never set: Node
// makes it 1 ms, and such timers (asked for 0.02-0.5 ms) fired up to 1.4 ms after the due time;
// what is due within EARLY_WAKE_MS + 1 ms is stepped from the start.
export const EARLY_WAKE_MS = 1.5;
// The steps are turns of the event loop (I/O goes on), each comparing performance.now() with a
// number: a TimeTag per step made a young-generation collection every 50 ms. A turn still allocates
// ~0.5 KB in Node (the Immediate and what Node makes around it), ~75 KB for each millisecond
// stepped, and the collections that sets off fall among the steps, just before a due time: with
// the OS not preempting the receiver, most of the lateness past 0.5 ms. Hence the window is no
// wider than the timer needs (2 ms made p99 0.93 ms there, 1.5 ms 0.35-0.83). Sleeping in it
// instead, in slices of Atomics.wait, made ~9x fewer collections but was worse wherever other
// processes wanted the CPUs: a thread that sleeps this close to its due time is woken late (p99
// 2.3-3.5 ms against 0.9-1.5 ms stepping, the benchmark's receiver on a busy 2-core VM), while one
// that steps is already running.
//
// Where aiolo-native is loaded, its timer does both halves without JavaScript (native/src/timer.c):
// the loop sleeps until 1 ms (SPIN_MS, native.ts) before the due time, to the microsecond rather than the
// millisecond, then turns without sleeping, and JavaScript is called once, when the item is due.
// Nothing is allocated while it waits, and it is less CPU than the steps above. Measured by the
// benchmark's receiver (1,000 bundles, the same hour): lateness p99 0.86-0.98 ms against 1.67 ms
// stepping, p95 0.24-0.34 against 0.49-0.53.

/**
 * Holds items until their timetag and hands them to `dispatch` then, never early: a binary heap
 * ordered by timetag and then arrival (equal timetags keep their order, even across packets), with
 * one timer for the earliest.
 */
export class Scheduler<T> {
  readonly #heap: Entry<T>[] = [];
  readonly #dispatch: (item: T, timetag: TimeTag) => void;
  readonly #onError: (err: unknown) => void;
  readonly #timers: PreciseTimers | undefined;
  /** Made on first use, closed by clear(). */
  #precise: PreciseTimer | undefined;
  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor: Entry<T> | undefined;
  /** performance.now() at which the head is due, while stepping towards it. */
  #dueAt = 0;
  readonly #stepper: Stepper = (hasImmediate ? nodeStepper : channelStepper)(() => this.#step());
  readonly #woken = (): void => {
    this.#timer = undefined;
    const ms = this.nextDelay() * 1000;
    if (ms > 0) this.#wait(ms);
    else this.#tick();
  };

  /**
   * `onError` gets what `dispatch` throws (a user's listener); the rest of the queue goes on.
   * `timers`, where given, wait for due times instead of setTimeout and steps.
   */
  constructor(dispatch: (item: T, timetag: TimeTag) => void, onError: (err: unknown) => void, timers?: PreciseTimers) {
    this.#dispatch = dispatch;
    this.#onError = onError;
    this.#timers = timers;
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
    this.#wait(this.nextDelay() * 1000);
  }

  /** Waits `ms` for the head: a precise timer; else a timer while it can be one of at least 1 ms, then steps. */
  #wait(ms: number): void {
    if (this.#timers !== undefined) {
      this.#precise ??= this.#timers(this.#woken);
      if (this.#precise.arm(ms)) return;
    }
    if (ms > EARLY_WAKE_MS + 1) {
      this.#timer = setTimeout(this.#woken, Math.floor(ms - EARLY_WAKE_MS));
    } else {
      this.#dueAt = performance.now() + ms;
      this.#stepper.next();
    }
  }

  #step(): void {
    // (the exact check, against the timetag, is runDue's: this one only decides when to make it)
    if (performance.now() < this.#dueAt) this.#stepper.next();
    else this.#tick();
  }

  #cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stepper.cancel();
    this.#precise?.disarm();
    this.#armedFor = undefined;
  }

  #tick(): void {
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

  /** Drops everything and cancels the timer (a precise one is closed: the next wait opens another). */
  clear(): void {
    this.#cancel();
    this.#precise?.close();
    this.#precise = undefined;
    this.#heap.length = 0;
  }
}

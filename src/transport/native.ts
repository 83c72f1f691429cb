import { createRequire } from 'node:module';
import { OscConfigError } from './errors.js';

// aiolo-native (native/ in this repository) is an optional dependency compiled at install: where
// it did not build (no compiler, not Linux), aiolo uses node:dgram and behaves the same, slower.
// AIOLO_NATIVE=0 turns it off; AIOLO_NATIVE=1 demands it (CI runs the suite both ways, and a
// missing addon must fail that run rather than quietly test the fallback twice).

/** @internal The addon's functions (native/src/udp.c says what each does). */
export interface NativeUdp {
  readonly META_INTS: number;
  open(v6: boolean, host: string, port: number, recvBufferSize: number, broadcast: boolean): [object, number] | number;
  start(
    handle: object,
    ring: ArrayBuffer,
    meta: ArrayBuffer,
    slots: number,
    slotSize: number,
    onRead: (count: number) => void,
    onWritable: () => void,
  ): number;
  send(handle: object, packet: Uint8Array, port: number, host: string): number;
  /** (Absent from an addon built before it: such a port sends one datagram at a time.) */
  sendmany?(
    handle: object,
    out: Uint8Array,
    lengths: Int32Array,
    from: number,
    to: number,
    port: number,
    host: string,
  ): number;
  writable(handle: object, want: boolean): number;
  ref(handle: object, keepAlive: boolean): void;
  close(handle: object): void;
  ntop(family: number, w0: number, w1: number, w2: number, w3: number, scope: number): string;
  errname(errno: number): string;
  // the timer (native/src/timer.c)
  timerOpen(onFire: () => void): object | number;
  timerArm(handle: object, ms: number, spinMs: number): number;
  timerDisarm(handle: object): void;
  timerClose(handle: object): void;
  timerHolding(): number;
}

function load(): NativeUdp | undefined {
  const setting = process.env.AIOLO_NATIVE;
  if (setting === '0') return undefined;
  try {
    return createRequire(import.meta.url)('aiolo-native') as NativeUdp;
  } catch (err) {
    if (setting === '1') {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `AIOLO_NATIVE=1, but aiolo-native did not load: ${err}`);
    }
    return undefined;
  }
}

/** @internal The native UDP fast path, or undefined where aiolo uses node:dgram. */
export const nativeUdp: NativeUdp | undefined = load();

/**
 * Which way UDP sockets are made in this process: `'native'` (aiolo-native's batched `recvmmsg` and
 * `sendmmsg`, Linux) or `'dgram'` (`node:dgram`). Multicast sockets are dgram's either way.
 * `AIOLO_NATIVE=0` in the environment chooses `'dgram'`.
 */
export const udpPath: 'native' | 'dgram' = nativeUdp === undefined ? 'dgram' : 'native';

/** @internal A one-shot timer finer than Node's millisecond timers. */
export interface PreciseTimer {
  /**
   * Calls back once, `ms` (fractional) from now and never sooner, sleeping until {@link SPIN_MS}
   * before then and turning the event loop from there; replaces an earlier arming. False if it cannot.
   */
  arm(ms: number): boolean;
  disarm(): void;
  /** Idempotent; nothing is called back after it. */
  close(): void;
}

/**
 * @internal How long before a due time a precise timer stops sleeping and turns the loop: a process
 * woken from sleep runs 0.1-0.2 ms after its timer (p99 0.2-0.4 ms, at times 2 ms, on the
 * benchmark's 2-core VM), one already running is not woken. 1 ms covers that p99 with room.
 */
export const SPIN_MS = 1;

/** @internal Makes precise timers calling `fire`. */
export type PreciseTimers = (fire: () => void) => PreciseTimer;

// (a process out of file descriptors: the scheduler's millisecond timers serve instead)
const UNAVAILABLE: PreciseTimer = { arm: () => false, disarm: () => {}, close: () => {} };

function nativeTimers(addon: NativeUdp): PreciseTimers {
  return (fire) => {
    const handle = addon.timerOpen(fire);
    if (typeof handle === 'number') return UNAVAILABLE;
    return {
      arm: (ms) => addon.timerArm(handle, ms, SPIN_MS) === 0,
      disarm: () => addon.timerDisarm(handle),
      close: () => addon.timerClose(handle),
    };
  };
}

/**
 * @internal aiolo-native's timerfd timers (native/src/timer.c), or undefined where the addon is not
 * loaded: the scheduler then waits with setTimeout and turns of the loop.
 */
export const preciseTimers: PreciseTimers | undefined = nativeUdp === undefined ? undefined : nativeTimers(nativeUdp);

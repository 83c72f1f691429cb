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
  writable(handle: object, want: boolean): number;
  ref(handle: object, keepAlive: boolean): void;
  close(handle: object): void;
  ntop(family: number, w0: number, w1: number, w2: number, w3: number): string;
  errname(errno: number): string;
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
 * direct `sendto`, Linux) or `'dgram'` (`node:dgram`). Multicast sockets are dgram's either way.
 * `AIOLO_NATIVE=0` in the environment chooses `'dgram'`.
 */
export const udpPath: 'native' | 'dgram' = nativeUdp === undefined ? 'dgram' : 'native';

// Tests of what only aiolo-native does: skipped where it is not built, never under CI=true.
import { NativePort } from '../../src/transport/datagram-native.js';
import { type NativeUdp, nativeUdp } from '../../src/transport/native.js';
import { skipOrFail } from './peers.js';

/** Skips where aiolo-native is not built; under CI=true it must be (`.ci/run` builds it). */
export function needNative(t: { skip(message: string): void }): boolean {
  if (nativeUdp !== undefined) return true;
  if (process.env.AIOLO_NATIVE === '0') {
    t.skip('AIOLO_NATIVE=0: this run is the node:dgram path only');
    return false;
  }
  return skipOrFail(
    t,
    'aiolo-native is not built: apt-get install g++ make python3, then npm install',
    'the native path',
  );
}

/**
 * A socket on the native path: any port on every IPv4 address, 4 slots, unless told otherwise;
 * through `native`, the addon itself unless a test wraps it.
 */
export function nativePort(
  options: Partial<ConstructorParameters<typeof NativePort>[1]>,
  native: NativeUdp = nativeUdp as NativeUdp,
): NativePort {
  return new NativePort(native, {
    v6: false,
    host: '',
    port: 0,
    recvBufferSize: 0,
    broadcast: false,
    slots: 4,
    ...options,
  });
}

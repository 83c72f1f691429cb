// Tests of what only aiolo-native does: skipped where it is not built, never under CI=true.
import { nativeUdp } from '../../src/transport/native.js';
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

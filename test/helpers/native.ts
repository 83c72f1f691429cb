// Tests of what only aiolo-native does: skipped where it is not built, never under CI=true.
import { nativeUdp } from '../../src/transport/native.js';
import { IN_CI } from './peers.js';

/** Skips where aiolo-native is not built; under CI=true it must be (`.ci/run` builds it). */
export function needNative(t: { skip(message: string): void }): boolean {
  if (nativeUdp !== undefined) return true;
  if (process.env.AIOLO_NATIVE === '0') {
    t.skip('AIOLO_NATIVE=0: this run is the node:dgram path only');
    return false;
  }
  const message = 'aiolo-native is not built: apt-get install g++ make python3, then npm install';
  if (IN_CI) throw new Error(`${message} (CI=true: the native path may not be skipped)`);
  t.skip(message);
  return false;
}

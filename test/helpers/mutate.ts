// Mutations of valid packets for decoder fuzzing: bit flips, truncation, garbage, absurd sizes.
import type { Random } from './random.js';

export function mutate(r: Random, seed: Uint8Array): Uint8Array {
  let b = seed.slice();
  for (let k = r.int(1, 4); k > 0; k--) {
    switch (r.int(0, 7)) {
      case 0: // flip bits
        if (b.length) {
          const at = r.int(0, b.length - 1);
          b[at] = (b[at] as number) ^ (1 << r.int(0, 7));
        }
        break;
      case 1: // random byte
        if (b.length) b[r.int(0, b.length - 1)] = r.int(0, 255);
        break;
      case 2: // truncate
        b = b.slice(0, r.int(0, b.length));
        break;
      case 3: // append garbage
        b = Uint8Array.from([...b, ...r.bytes(r.int(1, 9))]);
        break;
      case 4: {
        // an absurd or off-by-some 32-bit size at an aligned offset (blob sizes, bundle element sizes)
        if (b.length >= 4) {
          const at = r.int(0, (b.length >> 2) - 1) * 4;
          const v = r.pick([0, 1, 3, 0x7fffffff, 0x80000000, 0xffffffff, b.length, b.length - at, r.uint32()]);
          new DataView(b.buffer).setUint32(at, v >>> 0);
        }
        break;
      }
      case 5: // a typetag-ish byte
        if (b.length) b[r.int(0, b.length - 1)] = r.pick([...'ihfdsScbmtTFNIr[],#/\0u'].map((c) => c.charCodeAt(0)));
        break;
      case 6: {
        // remove a run
        const at = r.int(0, b.length);
        b = Uint8Array.from([...b.slice(0, at), ...b.slice(Math.min(b.length, at + r.int(1, 8)))]);
        break;
      }
      default: {
        // duplicate a run
        const at = r.int(0, b.length);
        const run = b.slice(at, at + r.int(1, 16));
        b = Uint8Array.from([...b.slice(0, at), ...run, ...b.slice(at)]);
      }
    }
  }
  return b;
}

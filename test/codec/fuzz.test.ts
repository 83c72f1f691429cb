// Decoder fuzzing: 100,000 mutated and truncated packets. Whatever the bytes, decode either
// returns a packet that re-encodes and decodes to itself, or throws OscDecodeError, and nothing else
// escapes. (The longer run is `npm run fuzz`, issue "Robustness".)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decode, encode, OscDecodeError } from '../../src/index.js';
import { randomPacket } from '../helpers/generate.js';
import { Random } from '../helpers/random.js';

const MUTANTS = 100_000;

function mutate(r: Random, seed: Uint8Array): Uint8Array {
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

describe('decoder fuzz', () => {
  test(`${MUTANTS} mutated packets: only OscDecodeError, decoded packets are stable`, { timeout: 120_000 }, () => {
    const r = new Random();
    const seeds = Array.from({ length: 200 }, () => encode(randomPacket(r)).slice(0, 4096));
    const codes = new Map<string, number>();
    let decoded = 0;
    for (let i = 0; i < MUTANTS; i++) {
      const input = mutate(r, r.pick(seeds));
      let packet: ReturnType<typeof decode>;
      try {
        packet = decode(input, { maxDepth: 8 });
      } catch (err) {
        if (!(err instanceof OscDecodeError)) {
          assert.fail(`non-OscDecodeError ${String(err)} for ${Buffer.from(input).toString('hex')} ${r.replay}`);
        }
        assert.ok(err.offset >= 0 && err.offset <= input.length, `offset ${err.offset} of ${input.length}`);
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
        continue;
      }
      decoded++;
      const again = decode(encode(packet), { maxDepth: 8 });
      assert.ok(again.equals(packet), `unstable: ${String(packet)} ${r.replay}`);
    }
    // the mutations reach most of the decoder's rules, and some mutants are still valid
    assert.ok(codes.size >= 8, `only ${[...codes.keys()].join(', ')} ${r.replay}`);
    assert.ok(decoded > 1000, `only ${decoded} mutants decoded ${r.replay}`);
  });

  test('pure random bytes', () => {
    const r = new Random();
    for (let i = 0; i < 20_000; i++) {
      const input = r.bytes(r.int(0, 64));
      if (r.bool(0.5) && input.length >= 8) input.set([0x23, 0x62, 0x75, 0x6e, 0x64, 0x6c, 0x65, 0]);
      try {
        decode(input);
      } catch (err) {
        assert.ok(err instanceof OscDecodeError, `${String(err)} ${r.replay}`);
      }
    }
  });
});

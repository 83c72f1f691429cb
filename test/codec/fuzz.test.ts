// Decoder fuzzing: 100,000 mutated and truncated packets. Whatever the bytes, decode either
// returns a packet that re-encodes and decodes to itself, or throws OscDecodeError, and nothing else
// escapes. Each is decoded twice: the second time its header is one the decoder remembers, and the
// answer must not change. (The longer run is `npm run fuzz`, issue "Robustness".)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decode, encode, OscDecodeError } from '../../src/index.js';
import { randomPacket } from '../helpers/generate.js';
import { mutate } from '../helpers/mutate.js';
import { seeded } from '../helpers/random.js';

const MUTANTS = 100_000;

describe('decoder fuzz', () => {
  test(
    `${MUTANTS} mutated packets: only OscDecodeError, decoded packets are stable`,
    { timeout: 120_000 },
    seeded((r) => {
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
          assert.throws(
            () => decode(input, { maxDepth: 8 }),
            (again: OscDecodeError) => again.code === err.code && again.offset === err.offset,
            `a second decode failed differently ${r.replay}`,
          );
          continue;
        }
        decoded++;
        assert.ok(decode(input, { maxDepth: 8 }).equals(packet), `a second decode differs ${r.replay}`);
        const again = decode(encode(packet), { maxDepth: 8 });
        assert.ok(again.equals(packet), `unstable: ${String(packet)} ${r.replay}`);
      }
      // the mutations reach most of the decoder's rules, and some mutants are still valid
      assert.ok(codes.size >= 8, `only ${[...codes.keys()].join(', ')} ${r.replay}`);
      assert.ok(decoded > 1000, `only ${decoded} mutants decoded ${r.replay}`);
    }),
  );

  test(
    'pure random bytes',
    seeded((r) => {
      for (let i = 0; i < 20_000; i++) {
        const input = r.bytes(r.int(0, 64));
        if (r.bool(0.5) && input.length >= 8) input.set([0x23, 0x62, 0x75, 0x6e, 0x64, 0x6c, 0x65, 0]);
        try {
          decode(input);
        } catch (err) {
          assert.ok(err instanceof OscDecodeError, `${String(err)} ${r.replay}`);
        }
      }
    }),
  );
});

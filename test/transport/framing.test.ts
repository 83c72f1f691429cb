// The stream frame decoders against random streams cut into random chunks: every frame comes out
// whole and in order, however the bytes arrive, and frames stay intact after the decoder moves on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FrameDecoder,
  FramingError,
  LengthPrefixDecoder,
  lengthPrefix,
  SlipDecoder,
  slipEncode,
} from '../../src/transport/framing.js';
import { hex } from '../helpers/hex.js';
import { type Random, seeded } from '../helpers/random.js';

function randomFrames(r: Random): Uint8Array[] {
  return Array.from({ length: r.int(1, 40) }, () => {
    // SLIP's special bytes often, and sizes across chunk boundaries
    const frame = r.bytes(r.int(1, r.bool(0.1) ? 5000 : 60));
    for (let i = 0; i < frame.length; i++) if (r.bool(0.05)) frame[i] = r.bool() ? 0xc0 : 0xdb;
    return frame;
  });
}

function feed(decoder: FrameDecoder, stream: Uint8Array, r: Random): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < stream.length; ) {
    const n = r.bool(0.3) ? 1 : r.int(1, 200);
    // Node hands the decoder Buffers; plain Uint8Arrays must work the same
    const chunk = stream.subarray(at, at + n);
    decoder.push(r.bool() ? Buffer.from(chunk) : chunk.slice());
    at += n;
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
      assert.ok(!(f instanceof FramingError));
      out.push(f);
    }
  }
  assert.equal(decoder.buffered, 0);
  return out;
}

for (const [name, make, frameIt] of [
  ['length prefix', () => new LengthPrefixDecoder(1 << 20), lengthPrefix],
  ['SLIP', () => new SlipDecoder(1 << 20), slipEncode],
] as const) {
  test(
    `${name}: random frames in random chunks come out whole and in order`,
    seeded((r) => {
      for (let round = 0; round < 200; round++) {
        const frames = randomFrames(r);
        const stream = Buffer.concat(frames.map((f) => frameIt(f)));
        const out = feed(make(), stream, r);
        assert.deepEqual(out.map(hex), frames.map(hex), r.replay);
      }
    }),
  );
}

test('length prefix: an empty frame is skipped, an oversized one refused', () => {
  const d = new LengthPrefixDecoder(8);
  d.push(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1, 7));
  assert.deepEqual(d.next(), Uint8Array.of(7));
  d.push(Uint8Array.of(0, 0, 0, 9));
  const e = d.next();
  assert.ok(e instanceof FramingError && e.size === 9);
});

// Property tests: random messages and nested bundles of every type, at random sizes, survive
// encode -> decode -> encode unchanged.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Bundle,
  decode,
  encode,
  encodedSize,
  encodeInto,
  encodeMessage,
  inferTypetags,
  Message,
  type OscArg,
} from '../../src/index.js';
import { randomArg, randomPacket, randomPath } from '../helpers/generate.js';
import { hex, unhex } from '../helpers/hex.js';
import { seeded } from '../helpers/random.js';

const N = 3000;

describe('round trip', () => {
  test(
    `${N} random packets (all types, arrays, nested bundles) encode, decode and re-encode identically`,
    seeded((r) => {
      for (let i = 0; i < N; i++) {
        const packet = randomPacket(r);
        const bytes = encode(packet);
        assert.equal(bytes.length % 4, 0, `${packet} ${r.replay}`);
        assert.equal(encodedSize(packet), bytes.length, r.replay);
        const back = decode(bytes);
        assert.equal(back.constructor, packet.constructor, r.replay);
        assert.ok(back.equals(packet), `${back} != ${packet} ${r.replay}`);
        assert.equal(hex(encode(back)), hex(bytes), r.replay);
      }
    }),
  );

  test(
    'encodeInto writes the same bytes at an offset, leaving the rest alone',
    seeded((r) => {
      for (let i = 0; i < 300; i++) {
        const packet = randomPacket(r);
        const bytes = encode(packet);
        const out = new Uint8Array(bytes.length + 11).fill(0xee);
        const end = encodeInto(packet, out, 7);
        assert.equal(end, 7 + bytes.length);
        assert.equal(hex(out.subarray(7, end)), hex(bytes), r.replay);
        assert.ok(out.subarray(0, 7).every((b) => b === 0xee) && out.subarray(end).every((b) => b === 0xee));
      }
      assert.throws(() => encodeInto(new Message('/x', 1), new Uint8Array(8)), { code: 'ERR_OSC_BUFFER_TOO_SMALL' });
    }),
  );

  test(
    'encodeMessage(path, typetags, args) equals encode(Message.typed(...))',
    seeded((r) => {
      for (let i = 0; i < 300; i++) {
        const packet = randomPacket(r, true);
        if (!(packet instanceof Message)) continue;
        assert.equal(hex(encodeMessage(packet.path, packet.typetags, packet.args)), hex(encode(packet)), r.replay);
      }
    }),
  );

  test(
    'inferred messages decode to the values sent (numbers that infer h come back as bigint)',
    seeded((r) => {
      for (let i = 0; i < 1000; i++) {
        const args: OscArg[] = [];
        for (let k = r.int(0, 6); k > 0; k--) {
          const tag = r.pick([...'ihfsSbcmtTFNI']);
          if (tag === 'i') args.push(r.int(-2147483648, 2147483647));
          else if (tag === 'h')
            args.push(r.bool() ? 2 ** r.int(31, 52) * (r.bool() ? 1 : -1) - 1 : BigInt(r.int(0, 99)));
          else if (tag === 'f') args.push(Math.fround(r.next() + 0.25));
          else args.push(randomArg(r, tag));
        }
        const m = new Message(randomPath(r), ...args);
        assert.equal(m.typetags, inferTypetags(args));
        const back = decode(encode(m)) as Message;
        assert.equal(back.typetags, m.typetags, r.replay);
        back.args.forEach((v, k) => {
          const sent = args[k];
          const want = m.typetags[k] === 'h' && typeof sent === 'number' ? BigInt(sent) : sent;
          assert.ok(
            Object.is(v, want) ||
              (typeof v === 'object' && v !== null && new Message('/', v).equals(new Message('/', want as OscArg))),
            `arg ${k}: ${String(v)} != ${String(want)} ${r.replay}`,
          );
        });
      }
    }),
  );

  test(
    'large packets: a 60 KiB blob, a 1000-argument message, a bundle of 500 messages',
    seeded((r) => {
      const blob = Message.typed('/big', 'b', r.bytes(60 * 1024));
      const many = new Message('/many', ...Array.from({ length: 1000 }, (_, i) => i));
      const wide = new Bundle(Array.from({ length: 500 }, (_, i) => new Message(`/m/${i}`, i, `${i}`)));
      for (const p of [blob, many, wide]) assert.ok(decode(encode(p)).equals(p));
      assert.equal(encode(blob).length, 8 + 4 + 4 + 60 * 1024);
    }),
  );

  test('paths seen once, paths that recur, and a bundle whose paths overflow the path cache mid-encode', () => {
    const wide = new Bundle(Array.from({ length: 1500 }, (_, i) => Message.typed(`/wide/${i}`, 'i', i)));
    const first = encode(wide); // every path seen once: written from the string
    const again = encode(wide); // each seen before: cached during the size pass, the cache filling up and clearing
    assert.equal(hex(again), hex(first));
    assert.ok(decode(again).equals(wide));
    for (let i = 0; i < 3000; i++) {
      const m = Message.typed(`/one-off/${i}/ü`, 's', `${i}`);
      assert.ok(decode(encode(m)).equals(m));
    }
  });

  test(
    'recurring headers (path and typetags) decode as the first time, however they share cache sets',
    seeded((r) => {
      // similar paths and typetags, so that headers differ in a byte or two and collide often
      const packets = Array.from({ length: 600 }, (_, i) =>
        Message.typed(`/synth/${i % 40}/${i % 3 === 0 ? 'freq' : 'gain'}`, i % 2 === 0 ? 'if' : 'fi', i, i + 1),
      );
      const encoded = packets.map((p) => encode(p));
      for (let k = 0; k < 20_000; k++) {
        const i = r.int(0, packets.length - 1);
        const back = decode(encoded[i] as Uint8Array) as Message;
        assert.ok(back.equals(packets[i]), `${back} != ${packets[i]} ${r.replay}`);
      }
    }),
  );

  test(
    'packets carved from a shared slab stay independent, and a transferred slab is replaced',
    seeded((r) => {
      const packets = Array.from({ length: 2000 }, () => randomPacket(r));
      const encoded = packets.map((p) => encode(p));
      // later packets must not have overwritten earlier ones, nor shared their bytes
      for (const [i, p] of packets.entries()) {
        const bytes = encoded[i] as Uint8Array;
        assert.ok(decode(bytes).equals(p), r.replay);
        assert.equal(bytes.byteOffset % 8, 0);
      }
      const ranges = encoded
        .filter((b) => b.buffer.byteLength > b.length)
        .map((b) => [b.buffer, b.byteOffset, b.byteOffset + b.length] as const);
      assert.ok(ranges.length > 1000, 'small packets come from slabs');
      for (let i = 1; i < ranges.length; i++) {
        const [buf, start] = ranges[i] as (typeof ranges)[number];
        const [prevBuf, , prevEnd] = ranges[i - 1] as (typeof ranges)[number];
        if (buf === prevBuf) assert.ok(start >= prevEnd, 'slab views overlap');
      }
      // a caller that transfers a packet's ArrayBuffer detaches the slab; encoding goes on
      const first = encode(new Message('/a', 1));
      structuredClone(first.buffer, { transfer: [first.buffer as ArrayBuffer] });
      assert.equal(first.length, 0);
      assert.equal(
        hex(encode(new Message('/b', 2))),
        hex(Uint8Array.of(0x2f, 0x62, 0, 0, 0x2c, 0x69, 0, 0, 0, 0, 0, 2)),
      );
    }),
  );
});

// Messages of numbers only ('i', 'f', 'd') are decoded by a path of their own, with exact-size
// arrays up to four; every typetag string of them up to five long, whole and cut at every byte.
describe('messages of numbers only', () => {
  const tagsOf = (n: number): string[] =>
    n === 0 ? [''] : tagsOf(n - 1).flatMap((t) => ['i', 'f', 'd'].map((c) => t + c));
  const value = (tag: string, k: number) => (tag === 'i' ? -7 * k - 1 : tag === 'f' ? k + 0.5 : k * 1e10 + 0.125);
  test('decode to their values; cut short, ERR_OSC_INVALID_ARGUMENT; longer, ERR_OSC_TRAILING_BYTES', () => {
    let checked = 0;
    for (let n = 0; n <= 5; n++) {
      for (const tags of tagsOf(n)) {
        const args = [...tags].map((t, k) => value(t, k));
        const typed = Message.typed as (path: string, typespec: string, ...values: number[]) => Message;
        const bytes = encode(typed('/n', tags, ...args));
        const m = decode(bytes) as Message;
        assert.equal(m.typetags, tags);
        assert.deepEqual(m.args, args, tags);
        const header = 4 + (((tags.length + 1) & ~3) + 4);
        for (let cut = header + 1; cut < bytes.length; cut++) {
          assert.throws(
            () => decode(bytes.subarray(0, cut)),
            { code: 'ERR_OSC_INVALID_ARGUMENT' },
            `${tags} cut at ${cut}`,
          );
        }
        const longer = new Uint8Array(bytes.length + 4);
        longer.set(bytes);
        assert.throws(() => decode(longer), { code: 'ERR_OSC_TRAILING_BYTES' }, tags);
        checked++;
      }
    }
    assert.equal(checked, 1 + 3 + 9 + 27 + 81 + 243);
  });
});

// V8 quiets or replaces a NaN stored into an array of doubles depending on which tier runs the
// store; the decoder gives every NaN as JavaScript's own, so the same bytes always decode (and
// re-encode) the same, however warm the decoder is (the fuzz test once found them differ).
describe('NaN', () => {
  test("a NaN with a payload, signalling or quiet, 'f' or 'd', alone or among others, decodes as NaN every time", () => {
    const typed = Message.typed as (path: string, typespec: string, ...values: unknown[]) => Message;
    const cases: [string, string][] = [
      ['d', '7ff0690000000000'], // signalling, with a payload
      ['d', 'fff8000000000123'], // quiet, negative, with a payload
      ['f', '7f800123'],
      ['f', 'ffc00001'],
    ];
    for (const [tag, nan] of cases) {
      const canonical = hex(encode(typed('/nan', tag, Number.NaN))).slice(-nan.length);
      for (const [tags, values] of [
        [tag, [Number.NaN]],
        [`i${tag}`, [7, Number.NaN]],
        [`${tag}s`, [Number.NaN, 'x']],
      ] as [string, unknown[]][]) {
        const bytes = hex(encode(typed('/nan', tags, ...values)));
        const input = unhex(bytes.replace(canonical, nan));
        assert.notEqual(hex(input), bytes, `${tags}: the payload went in`);
        const seen = new Set<string>();
        for (let i = 0; i < 20_000; i++) {
          const m = decode(input) as Message;
          assert.ok(
            m.args.some((a) => Number.isNaN(a)),
            tags,
          );
          seen.add(hex(encode(m)));
        }
        assert.deepEqual([...seen], [bytes], `${tags} ${nan}`);
      }
    }
  });
});

// liblo 0.31's testlo.c `test_deserialise`, ported: the 92-byte all-types message and the malformed
// inputs with the error liblo gives for each; then the malformed packets of the reference's server
// error table (A.7).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Char,
  type DecodeErrorCode,
  decode,
  encode,
  INFINITUM,
  Message,
  Midi,
  OscDecodeError,
  OscSymbol,
  TimeTag,
} from '../../src/index.js';
import { hex, unhex } from '../helpers/hex.js';

// Produced by liblo 0.31 itself: testlo's lo_message_add_* sequence, then lo_message_serialise(m, "/foo").
const LIBLO_92 =
  '2f666f6f000000002c666973626d68746453636354464e49000000003dfcd6e90000007b31323300000000054142434400000000' +
  'fff7aa000123456789abcdef00000001800000003fefff2e48e8a71e73796d000000005800000059';

function bytes(...parts: (string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

function rejects(data: Uint8Array, code: DecodeErrorCode, libloCode: number, options?: Parameters<typeof decode>[1]) {
  assert.throws(
    () => decode(data, options),
    (err: unknown) => {
      assert.ok(err instanceof OscDecodeError, `expected OscDecodeError, got ${String(err)}`);
      assert.equal(err.code, code);
      assert.equal(err.libloCode, libloCode);
      assert.ok(err.offset >= 0 && err.offset <= Math.max(data.length, 1 << 20));
      return true;
    },
  );
}

describe('testlo test_deserialise', () => {
  test('the 92-byte all-types message decodes to every value and re-encodes byte-identically', () => {
    const data = unhex(LIBLO_92);
    assert.equal(data.length, 92);
    const m = decode(data);
    assert.ok(m instanceof Message);
    assert.equal(m.path, '/foo');
    assert.equal(m.typetags, 'fisbmhtdSccTFNI');
    const a = m.args;
    assert.equal(a.length, 15);
    assert.ok(Math.abs((a[0] as number) - 0.12345678) < 1.2e-7);
    assert.equal(a[0], Math.fround(0.12345678));
    assert.equal(a[1], 123);
    assert.equal(a[2], '123');
    assert.deepEqual(a[3], bytes('ABCD', [0]));
    assert.ok(new Midi(0xff, 0xf7, 0xaa, 0).equals(a[4]));
    assert.equal(a[5], 0x0123456789abcdefn);
    assert.ok(new TimeTag(1, 0x80000000).equals(a[6]));
    assert.equal(a[7], 0.9999);
    assert.ok(new OscSymbol('sym').equals(a[8]));
    assert.ok(new Char('X').equals(a[9]));
    assert.ok(new Char('Y').equals(a[10]));
    assert.deepEqual(a.slice(11), [true, false, null, INFINITUM]);
    assert.equal(hex(encode(m)), LIBLO_92);
  });

  test('building the same message in aiolo gives liblo’s 92 bytes', () => {
    const m = Message.typed(
      '/foo',
      'fisbmhtdSccTFNI',
      0.12345678,
      123,
      '123',
      bytes('ABCD', [0]),
      new Midi(0xff, 0xf7, 0xaa, 0),
      0x0123456789abcdefn,
      new TimeTag(1, 0x80000000),
      0.9999,
      new OscSymbol('sym'),
      new Char('X'),
      new Char('Y'),
      true,
      false,
      null,
      INFINITUM,
    );
    assert.equal(hex(encode(m)), LIBLO_92);
  });

  // [what testlo says, packet, our code, liblo's code]
  const malformed: [string, Uint8Array, DecodeErrorCode, number][] = [
    ['0 size -> LO_ESIZE', new Uint8Array(0), 'ERR_OSC_EMPTY_PACKET', 9911],
    ['unterminated path "/foo" -> LO_EINVALIDPATH', bytes('/foo'), 'ERR_OSC_INVALID_PATH', 9908],
    ['"/f_o" -> LO_EINVALIDPATH', bytes('/f_o'), 'ERR_OSC_INVALID_PATH', 9908],
    ['types missing -> LO_ENOTYPE', bytes('/t', [0, 0]), 'ERR_OSC_NO_TYPETAGS', 9902],
    ['types empty -> LO_EBADTYPE', bytes('/t', [0, 0, 0, 0, 0, 0]), 'ERR_OSC_MISSING_COMMA', 9910],
    [
      'short message ",f" in 7 bytes -> LO_EINVALIDTYPE',
      bytes('/t', [0, 0], ',f', [0]),
      'ERR_OSC_INVALID_TYPETAGS',
      9909,
    ],
    ['types missing comma -> LO_EBADTYPE', bytes('/t', [0, 0], 'ifi', [0]), 'ERR_OSC_MISSING_COMMA', 9910],
    ['types unterminated -> LO_EINVALIDTYPE', bytes('/t', [0, 0], ',ifi'), 'ERR_OSC_INVALID_TYPETAGS', 9909],
    [
      'not enough arg data (12 bytes) -> LO_EINVALIDARG',
      bytes('/t', [0, 0], ',ii', [0, 0, 0, 0, 0]),
      'ERR_OSC_INVALID_ARGUMENT',
      9912,
    ],
    [
      'not enough arg data (15 bytes) -> LO_EINVALIDARG',
      bytes('/t', [0, 0], ',ii', [0, 0, 0, 0, 0, 0, 0, 0]),
      'ERR_OSC_INVALID_ARGUMENT',
      9912,
    ],
    [
      'a run of floats cut short (",fff", 10 bytes of data) -> LO_EINVALIDARG',
      bytes('/t', [0, 0], ',fff', [0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      'ERR_OSC_INVALID_ARGUMENT',
      9912,
    ],
    [
      'a double cut short after a float and an int (",fid") -> LO_EINVALIDARG',
      bytes('/t', [0, 0], ',fid', [0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      'ERR_OSC_INVALID_ARGUMENT',
      9912,
    ],
    [
      'too much arg data -> LO_ESIZE',
      bytes('/t', [0, 0], ',f', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      'ERR_OSC_TRAILING_BYTES',
      9911,
    ],
    [
      'blob longer than the message -> LO_EINVALIDARG',
      (() => {
        const d = new Uint8Array(256);
        d.set(bytes('/t', [0, 0], ',bs', [0]));
        new DataView(d.buffer).setUint32(8, 99999);
        return d;
      })(),
      'ERR_OSC_INVALID_ARGUMENT',
      9912,
    ],
  ];
  for (const [name, data, code, lo] of malformed) {
    test(name, () => rejects(data, code, lo));
  }
});

describe('reference A.7: malformed packets liblo rejects', () => {
  const i42 = [0, 0, 0, 42];
  test('no type string -> 9902', () => rejects(bytes('/t/notags', [0, 0, 0]), 'ERR_OSC_NO_TYPETAGS', 9902));
  test('unknown typetag ,u -> 9912', () =>
    rejects(bytes('/t/u', [0, 0, 0, 0], ',u', [0, 0]), 'ERR_OSC_UNKNOWN_TYPETAG', 9912));
  test(',r and ,[ii] -> 9912 when extended types are off, as in liblo', () => {
    const r = bytes('/t/r', [0, 0, 0, 0], ',r', [0, 0], [1, 2, 3, 4]);
    const arr = bytes('/t/a', [0, 0, 0, 0], ',[ii]', [0, 0, 0], i42, i42);
    rejects(r, 'ERR_OSC_UNKNOWN_TYPETAG', 9912, { extendedTypes: false });
    rejects(arr, 'ERR_OSC_UNKNOWN_TYPETAG', 9912, { extendedTypes: false });
    // aiolo accepts OSC 1.0's optional types by default (a deliberate difference from liblo)
    assert.equal((decode(r) as Message).typetags, 'r');
    assert.deepEqual((decode(arr) as Message).args, [[42, 42]]);
  });
  test(',i with 8 bytes of data -> 9911', () =>
    rejects(bytes('/t', [0, 0], ',i', [0, 0], i42, i42), 'ERR_OSC_TRAILING_BYTES', 9911));
  test('path with a non-zero pad byte', () =>
    rejects(bytes('/t', [0, 1], ',', [0, 0, 0]), 'ERR_OSC_INVALID_PATH', 9908));
  test('"/abc,i" path, then a bad type string -> 9909', () =>
    rejects(bytes('/abc,i', [0, 0], i42), 'ERR_OSC_INVALID_TYPETAGS', 9909));
  test(',i with 2 bytes -> 9912', () =>
    rejects(bytes('/t', [0, 0], ',i', [0, 0], [0, 1]), 'ERR_OSC_INVALID_ARGUMENT', 9912));
  test('bundle with a truncated element -> 9911', () => {
    const data = bytes('#bundle', [0], [0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 16], '/t', [0, 0], ',', [0, 0, 0]);
    rejects(data, 'ERR_OSC_INVALID_BUNDLE', 9911);
  });
  test('bundle element "abc\\0" -> 9902', () => {
    const data = bytes('#bundle', [0], [0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 4], 'abc', [0]);
    rejects(data, 'ERR_OSC_NO_TYPETAGS', 9902);
  });
  test('testlo test_validation: "/" ",bs" with an absurd blob size', () => {
    rejects(bytes('/', [0, 0, 0], ',bs', [0], ',', [0x00, 0x0f, 0x42, 0x3f]), 'ERR_OSC_INVALID_ARGUMENT', 9912);
  });
});

describe('bundle validation (lo_validate_bundle)', () => {
  const header = bytes('#bundle', [0], [0, 0, 0, 0, 0, 0, 0, 1]);
  const msg = encode(new Message('/a', 1));
  const withSize = (n: number, body: Uint8Array) => {
    const out = new Uint8Array(4 + body.length);
    new DataView(out.buffer).setUint32(0, n);
    out.set(body, 4);
    return out;
  };
  const cat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  test('a bundle without a complete timetag', () =>
    rejects(bytes('#bundle', [0], [0, 0, 0]), 'ERR_OSC_INVALID_BUNDLE', 9911));
  test('stray bytes after the last element', () =>
    rejects(cat(header, withSize(msg.length, msg), Uint8Array.of(0, 0)), 'ERR_OSC_INVALID_BUNDLE', 9911));
  test('an element size past the end', () =>
    rejects(cat(header, withSize(msg.length + 4, msg)), 'ERR_OSC_INVALID_BUNDLE', 9911));
  test('an element size of 0xffffffff', () =>
    rejects(cat(header, withSize(0xffffffff, msg)), 'ERR_OSC_INVALID_BUNDLE', 9911));
  test('a zero-size element -> LO_ESIZE, as lo_message_deserialise(pos, 0)', () =>
    rejects(cat(header, withSize(0, new Uint8Array(0))), 'ERR_OSC_EMPTY_PACKET', 9911));
  test('the offset points at the bad element inside a nested bundle', () => {
    const bad = bytes('/x', [0, 0], ',i', [0, 0], [1]);
    const innerBundle = cat(header, withSize(bad.length, bad));
    const outer = cat(header, withSize(innerBundle.length, innerBundle));
    try {
      decode(outer);
      assert.fail('decoded');
    } catch (err) {
      assert.ok(err instanceof OscDecodeError);
      assert.equal(err.code, 'ERR_OSC_INVALID_ARGUMENT');
      assert.equal(err.offset, 16 + 4 + 16 + 4 + 8);
    }
  });
  test('nesting deeper than maxDepth -> ERR_OSC_TOO_DEEP; within it decodes', () => {
    let packet = cat(header, withSize(msg.length, msg));
    for (let i = 0; i < 4; i++) packet = cat(header, withSize(packet.length, packet));
    assert.ok(decode(packet, { maxDepth: 5 }));
    rejects(packet, 'ERR_OSC_TOO_DEEP', 9905, { maxDepth: 4 });
  });
  test('a packet over maxPacketSize -> ERR_OSC_TOO_LARGE', () => {
    rejects(msg, 'ERR_OSC_TOO_LARGE', 9905, { maxPacketSize: msg.length - 1 });
    assert.ok(decode(msg, { maxPacketSize: msg.length }));
  });
});

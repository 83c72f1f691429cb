// Values, typespecs, inference and the errors for values that do not fit: the design's value table,
// Python aiolo's type tests (test_typespec_guess, test_unpack_message*, test_message_arglength_mismatch,
// test_bundle_and_message_ops) recast for TypeScript's values.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ANY_ARGS,
  Bundle,
  Char,
  decode,
  type EncodeErrorCode,
  encode,
  INFINITUM,
  inferTypetag,
  Message,
  Midi,
  NO_ARGS,
  OscEncodeError,
  OscError,
  OscSymbol,
  Rgba,
  TimeTag,
  typespecString,
} from '../../src/index.js';

/** Message.typed without its compile-time checks, to reach the run-time ones. */
const typedUnchecked = Message.typed as unknown as (path: string, spec: unknown, ...args: unknown[]) => Message;

function encodeError(fn: () => unknown, code: EncodeErrorCode, detail: { argIndex?: number; typetag?: string } = {}) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof OscEncodeError, `expected OscEncodeError, got ${String(err)}`);
    assert.ok(err instanceof OscError);
    assert.equal(err.code, code);
    if ('argIndex' in detail) assert.equal(err.argIndex, detail.argIndex);
    if ('typetag' in detail) assert.equal(err.typetag, detail.typetag);
    return true;
  });
}

describe('inference (no typespec)', () => {
  const cases: [unknown, string][] = [
    [0, 'i'],
    [1, 'i'],
    [42, 'i'],
    [-2147483648, 'i'],
    [2147483647, 'i'],
    [2147483648, 'h'],
    [-2147483649, 'h'],
    [Number.MAX_SAFE_INTEGER, 'h'],
    [2 ** 53, 'f'], // not a safe integer: "any other number"
    [1.5, 'f'],
    [-0, 'f'], // keeps its sign
    [Number.NaN, 'f'],
    [Number.POSITIVE_INFINITY, 'f'],
    [1n, 'h'],
    ['x', 's'],
    ['', 's'],
    ['i', 's'], // a one-letter string that happens to be a typetag is still a string (a Python aiolo bug)
    [true, 'T'],
    [false, 'F'],
    [null, 'N'],
    [Uint8Array.of(1), 'b'],
    [Buffer.from('ab'), 'b'],
    [new OscSymbol('s'), 'S'],
    [new Char('c'), 'c'],
    [new Midi(1, 2, 3, 4), 'm'],
    [TimeTag.IMMEDIATE, 't'],
    [INFINITUM, 'I'],
  ];
  for (const [value, tag] of cases) {
    test(`${typeof value === 'bigint' ? `${value}n` : String(value)} -> ${tag}`, () => {
      assert.equal(inferTypetag(value, 0), tag);
      assert.equal(new Message('/x', value as never).typetags, tag);
    });
  }
  test('arrays, Rgba, undefined, plain objects and other symbols are never inferred', () => {
    for (const v of [[1, 2], new Rgba(1, 2, 3, 4), undefined, {}, Symbol('x'), () => 1, new Date()]) {
      encodeError(() => new Message('/x', 1, v as never), 'ERR_OSC_ARG_TYPE', { argIndex: 1 });
    }
  });
});

describe('typespecs', () => {
  test('strings and arrays of typetags; ANY_ARGS; NO_ARGS', () => {
    assert.equal(typespecString('ifs'), 'ifs');
    assert.equal(typespecString(['i', 'f', 's']), 'ifs');
    assert.equal(typespecString('i[f[s]]'), 'i[f[s]]');
    assert.equal(typespecString(ANY_ARGS), null);
    assert.equal(typespecString(NO_ARGS), '');
  });
  test('invalid typespecs are ERR_OSC_INVALID_TYPESPEC', () => {
    for (const spec of ['x', 'i u', '[i', 'i]', '][', ['ii'], [''], 5, null]) {
      encodeError(() => typespecString(spec as never), 'ERR_OSC_INVALID_TYPESPEC');
    }
  });
  test('Message.typed with ANY_ARGS infers; with NO_ARGS takes nothing', () => {
    assert.equal(Message.typed('/x', ANY_ARGS, 1, 'a').typetags, 'is');
    assert.equal(Message.typed('/x', NO_ARGS).typetags, '');
    encodeError(() => typedUnchecked('/x', NO_ARGS, 1), 'ERR_OSC_ARG_COUNT');
  });
  test('Message.typed with a route-like target', () => {
    const route = { path: '/r', typespec: 'hd' } as const;
    const m = Message.typed(route, 5n, 0.25);
    assert.equal(m.path, '/r');
    assert.equal(m.typetags, 'hd');
  });
  test('argument count must match (Python aiolo test_message_arglength_mismatch)', () => {
    encodeError(() => typedUnchecked('/foo', 's', 'foo', 'bar'), 'ERR_OSC_ARG_COUNT');
    encodeError(() => typedUnchecked('/foo', 'ss', 'foo'), 'ERR_OSC_ARG_COUNT');
    encodeError(() => typedUnchecked('/foo', 'i[ii]', 1, [1]), 'ERR_OSC_ARG_COUNT');
  });
});

describe('values that do not fit their typetag', () => {
  const misfits: [string, unknown][] = [
    ['i', 1.5],
    ['i', 2 ** 31],
    ['i', -(2 ** 31) - 1],
    ['i', '42'],
    ['i', 2n ** 31n],
    ['i', null],
    ['h', 1.5],
    ['h', 2 ** 63],
    ['h', 2n ** 63n],
    ['h', -(2n ** 63n) - 1n],
    ['h', '1'],
    ['f', 1n],
    ['f', '1.5'],
    ['d', true],
    ['s', 42],
    ['s', 'a\0b'],
    ['s', new OscSymbol('x')],
    ['S', 'plain string'],
    ['c', 'A'],
    ['c', 65],
    ['b', [1, 2]],
    ['b', 'bytes'],
    ['m', [1, 2, 3, 4]],
    ['t', 1.5],
    ['t', new Date()],
    ['T', false],
    ['T', 1],
    ['F', 0],
    ['N', undefined],
    ['I', Number.POSITIVE_INFINITY],
    ['r', [1, 2, 3, 4]],
    ['[', 5],
  ];
  for (const [tag, value] of misfits) {
    test(`'${tag}' refuses ${typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value))}`, () => {
      const spec = tag === '[' ? '[i]' : tag;
      encodeError(() => typedUnchecked('/x', `i${spec}`, 7, value), 'ERR_OSC_ARG_TYPE', {
        argIndex: 1,
        typetag: tag,
      });
      // the message names the argument, the typetag and the value
      assert.throws(
        () => typedUnchecked('/x', spec, value),
        (err: Error) => err.message.startsWith('argument 0: ') && err.message.includes(`typetag '${tag}'`),
      );
    });
  }
  test('encode re-checks arguments (a Message whose args array was changed after construction)', () => {
    const m = Message.typed('/x', 'i', 1);
    (m.args as unknown as unknown[])[0] = 1.5;
    encodeError(() => encode(m), 'ERR_OSC_ARG_TYPE', { argIndex: 0, typetag: 'i' });
  });
  test('accepted alternatives: bigint for i, integer numbers for h, a Buffer for b', () => {
    const m = Message.typed('/x', 'ihb', 5n as never, (2 ** 40) as never, Buffer.from([1, 2, 3]));
    assert.deepEqual((decode(encode(m)) as Message).args, [5, 2n ** 40n, Uint8Array.of(1, 2, 3)]);
  });
  test('paths with NUL cannot be encoded', () => {
    encodeError(() => new Message('/a\0b'), 'ERR_OSC_INVALID_PATH');
  });
});

describe('value classes', () => {
  test('Midi, Rgba and Char take bytes only', () => {
    assert.throws(() => new Midi(256, 0, 0, 0), OscEncodeError);
    assert.throws(() => new Midi(0, -1, 0, 0), OscEncodeError);
    assert.throws(() => new Midi(0, 0, 1.5, 0), OscEncodeError);
    assert.throws(() => new Rgba(0, 0, 0, 300), OscEncodeError);
    assert.throws(() => new Char(''), OscEncodeError);
    assert.throws(() => new Char('ab'), OscEncodeError);
    assert.throws(() => new Char('日'), OscEncodeError);
    assert.throws(() => new Char(256), OscEncodeError);
    assert.equal(new Char('é').code, 0xe9);
    assert.equal(new Char(0x41).value, 'A');
    assert.deepEqual(new Midi(1, 2, 3, 4).toBytes(), Uint8Array.of(1, 2, 3, 4));
  });
  test('equality by value', () => {
    assert.ok(new Midi(1, 2, 3, 4).equals(new Midi(1, 2, 3, 4)));
    assert.ok(!new Midi(1, 2, 3, 4).equals(new Midi(1, 2, 3, 5)));
    assert.ok(new OscSymbol('a').equals(new OscSymbol('a')) && !new OscSymbol('a').equals('a'));
    assert.ok(new Char('a').equals(new Char(97)));
    assert.ok(new Rgba(1, 2, 3, 4).equals(new Rgba(1, 2, 3, 4)));
    assert.equal(INFINITUM, Symbol.for('aiolo.INFINITUM'));
  });
  test('Message equality is wire equality', () => {
    assert.ok(Message.typed('/f', 'f', 3.14).equals(Message.typed('/f', 'f', Math.fround(3.14))));
    assert.ok(!Message.typed('/f', 'd', 3.14).equals(Message.typed('/f', 'd', Math.fround(3.14))));
    assert.ok(!new Message('/a', 1).equals(new Message('/b', 1)));
    assert.ok(!Message.typed('/a', 'i', 1).equals(Message.typed('/a', 'f', 1)));
    assert.ok(new Message('/a', Uint8Array.of(1)).equals(new Message('/a', Uint8Array.of(1))));
    assert.equal(String(Message.typed('/a', 'ish', 1, 'x', 2n)), '/a ,ish 1 "x" 2n');
  });
});

describe('Bundle (Python aiolo test_bundle_and_message_ops)', () => {
  test('empty bundles, length, indexing, iteration', () => {
    assert.equal(new Bundle().length, 0);
    assert.ok(new Bundle().equals(new Bundle()));
    assert.equal(new Bundle().elements[0], undefined);
    const a = new Message('/a', 1);
    const b = new Bundle([a, new Message('/b', 2)]);
    assert.equal(b.length, 2);
    assert.equal(b.elements[0], a);
    assert.deepEqual(
      [...b].map((e) => (e as Message).path),
      ['/a', '/b'],
    );
    assert.ok(b.timetag.isImmediate);
  });
  test('add takes a message, a bundle (nested, not flattened) or a list', () => {
    const b = new Bundle();
    b.add(new Message('/a'));
    b.add([new Message('/b'), new Message('/c')]);
    const inner = new Bundle(new Message('/d'), new TimeTag(5, 0));
    b.add(inner);
    assert.equal(b.length, 4);
    assert.equal(b.elements[3], inner);
    assert.equal(new Bundle(inner).elements[0], inner);
  });
  test('a bundle cannot contain itself, directly or through another', () => {
    const a = new Bundle();
    const b = new Bundle(a);
    encodeError(() => a.add(a), 'ERR_OSC_BUNDLE_CYCLE');
    encodeError(() => a.add(b), 'ERR_OSC_BUNDLE_CYCLE');
    encodeError(() => a.add([new Message('/ok'), new Bundle(b)]), 'ERR_OSC_BUNDLE_CYCLE');
  });
  test('only messages and bundles go in; the timetag is a TimeTag', () => {
    encodeError(() => new Bundle([1 as never]), 'ERR_OSC_INVALID_VALUE');
    encodeError(() => new Bundle([], 5 as never), 'ERR_OSC_INVALID_VALUE');
    encodeError(() => encode({ path: '/x' } as never), 'ERR_OSC_INVALID_VALUE');
  });
  test('equality takes timetags and nesting into account', () => {
    const m = new Message('/m', 1);
    assert.ok(new Bundle(m).equals(new Bundle(new Message('/m', 1))));
    assert.ok(!new Bundle(m).equals(new Bundle(m, new TimeTag(1, 0))));
    assert.ok(!new Bundle([m, m]).equals(new Bundle([m, new Bundle(m)])));
  });
});

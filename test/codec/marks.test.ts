// Marked numbers: float(1) infers f where a bare 1 infers i (VRChat's float parameters reject i);
// double, int32 and int64 likewise. Marks are unwrapped when typetags are inferred.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Address,
  decode,
  double,
  encode,
  float,
  inferTypetags,
  int32,
  int64,
  Message,
  OscEncodeError,
  Server,
} from '../../src/index.js';
import { take, within } from '../helpers/async.js';

describe('marked numbers', () => {
  test('a mark decides the inferred typetag; args hold the plain values', () => {
    const m = new Message('/avatar/parameters/Speed', float(1), double(2), int32(3), int64(4), 5, 1.5);
    assert.equal(m.typetags, 'fdihif');
    assert.deepEqual(m.args, [1, 2, 3, 4n, 5, 1.5]);
    assert.equal(inferTypetags([float(0)]), 'f');
    assert.deepEqual(encode(m), encode(Message.typed('/avatar/parameters/Speed', 'fdihif', 1, 2, 3, 4n, 5, 1.5)));
    const back = decode(encode(new Message('/f', float(1)))) as Message;
    assert.equal(back.typetags, 'f');
    assert.deepEqual(back.args, [1]);
    assert.equal(String(float(1)), 'float(1)');
    assert.equal(int64(2n ** 62n).value, 2n ** 62n);
  });

  test('marks check their values', () => {
    const bad = (e: unknown) => e instanceof OscEncodeError && e.code === 'ERR_OSC_INVALID_VALUE';
    assert.throws(() => float('1' as unknown as number), bad);
    assert.throws(() => int32(1.5), bad);
    assert.throws(() => int32(2 ** 31), bad);
    assert.throws(() => int64(2 ** 60), bad); // not a safe integer: give a bigint
    assert.throws(() => int64(2n ** 63n), bad);
  });

  test('with a typespec, marks are not values: the typespec decides', () => {
    assert.throws(
      () => Message.typed('/f', 'f', float(1) as unknown as number),
      (e: unknown) => e instanceof OscEncodeError && e.code === 'ERR_OSC_ARG_TYPE',
    );
  });

  test('send(path, float(1)) sends f; delay() too', async () => {
    const server = new Server({ host: '127.0.0.1', coerce: false });
    await server.start();
    const address = new Address({ url: server.url as string });
    try {
      const floats = server.route('/speed', 'f').sub();
      await address.send('/speed', float(1));
      await address.delay(0, '/speed', float(2));
      await address.send('/speed', 3); // i: does not reach an f route without coercion
      assert.deepEqual(await take(floats, 2), [[1], [2]]);
      await within(
        2000,
        'the third message',
        (async () => {
          while (server.stats.messages < 3) await new Promise((r) => setTimeout(r, 2));
        })(),
      );
      assert.equal(server.stats.unmatched, 1);
    } finally {
      await address.close();
      await server.stop();
    }
  });
});

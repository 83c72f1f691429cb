// liblo's typespec coercion (lo_can_coerce_spec / lo_coerce), on by default: i h f d among
// themselves, s and S, converted as liblo's C casts convert (reference A.6, measured values).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, Message, OscSymbol, Server } from '../../src/index.js';
import { canCoerce, coerceArgs } from '../../src/server/coerce.js';
import { event, take } from '../helpers/async.js';

const LOCAL = '127.0.0.1';

describe('coercion', () => {
  test('which typetags can coerce', () => {
    assert.ok(canCoerce('fdhi', 'ifdh'));
    assert.ok(canCoerce('Ss', 'sS'));
    assert.ok(!canCoerce('si', 'is'));
    assert.ok(!canCoerce('iii', 'ii'));
    assert.ok(!canCoerce('c', 'i')); // c, T/F, m, t, b never coerce
    assert.ok(!canCoerce('T', 'F'));
    assert.ok(!canCoerce('[i]', '[f]')); // no arrays in liblo
  });

  test('conversions equal liblo’s: truncation toward zero, modulo 2^32, INT64_MIN for the unrepresentable', () => {
    const toI = (x: number) => coerceArgs([x], 'd', 'i')[0];
    assert.equal(toI(1.9), 1);
    assert.equal(toI(-1.9), -1);
    assert.equal(toI(1e10), 1410065408);
    assert.equal(toI(2 ** 31), -2147483648);
    assert.equal(toI(1e20), 0);
    assert.equal(toI(Number.NaN), 0);
    const toH = (x: number) => coerceArgs([x], 'd', 'h')[0];
    assert.equal(toH(Number.NaN), -(2n ** 63n));
    assert.equal(toH(1e20), 0n); // (uint64_t) of a value past 2^64
    assert.equal(toH(-1e20), -(2n ** 63n));
    assert.equal(toH(2 ** 63), -(2n ** 63n)); // 2^63 as uint64, read back as int64
    assert.equal(toH(2 ** 63 + 2 ** 62), -(2n ** 62n));
    assert.equal(toH(-2.5), -2n);
    assert.equal(toH(2 ** 40), 2n ** 40n);
    assert.equal(coerceArgs([2n ** 40n + 7n], 'h', 'i')[0], 7);
    assert.equal(coerceArgs([0.1], 'd', 'f')[0], Math.fround(0.1));
    assert.deepEqual(coerceArgs(['x', new OscSymbol('y')], 'sS', 'Ss'), [new OscSymbol('x'), 'y']);
  });

  test('a server delivers /coerce ,fdhi 1.9 -2.7 2^40 -4 to an ifdh route as 1 -2.7 2^40 -4 (reference A.6)', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    const a = new Address({ url: server.url as string });
    try {
      const sub = server.route('/coerce', 'ifdh').sub({ incoming: true });
      await a.message(Message.typed('/coerce', 'fdhi', 1.9, -2.7, 2n ** 40n, -4));
      const [m] = await take(sub, 1);
      assert.equal(m?.typetags, 'ifdh');
      assert.deepEqual(m?.args, [1, Math.fround(-2.7), 2 ** 40, -4n]);
    } finally {
      await a.close();
      await server.stop();
    }
  });

  test('coerce: false delivers only exact typetags', async () => {
    const server = new Server({ host: LOCAL, coerce: false });
    await server.start();
    const a = new Address({ url: server.url as string });
    try {
      const sub = server.route('/x', 'f').sub();
      const unmatched = event(server, 'unmatched');
      await a.send('/x', 1); // ,i
      await unmatched;
      await a.send('/x', 1.5); // ,f
      assert.deepEqual(await take(sub, 1), [[1.5]]);
    } finally {
      await a.close();
      await server.stop();
    }
  });
});

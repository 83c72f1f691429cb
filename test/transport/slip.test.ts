// aiolo's SLIP sender: the first frame of a connection opens with END (RFC 1055's flush, as
// double-END senders do), except before a bundle, which liblo 0.31 recognises only at byte 0.
// Against liblo itself: test/interop/slip.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, ANY_PATH, Bundle, encode, Message, Server } from '../../src/index.js';
import { detectFraming, SlipDecoder, slipEncode } from '../../src/transport/framing.js';
import { take } from '../helpers/async.js';
import { hex } from '../helpers/hex.js';

const LOCAL = '127.0.0.1';

describe('slipEncode', () => {
  test('liblo 0.31 bytes by default: escapes, then one END', () => {
    assert.equal(hex(slipEncode(Uint8Array.of(0x2f, 0xc0, 0xdb, 1))), '2fdbdcdbdd01c0');
  });

  test('an opening frame starts with END, unless it is a bundle', () => {
    const message = encode(Message.typed('/a', 'i', 1));
    assert.equal(hex(slipEncode(message, true)), `c0${hex(slipEncode(message))}`);
    const bundle = encode(new Bundle(Message.typed('/a', 'i', 1)));
    assert.equal(hex(slipEncode(bundle, true)), hex(slipEncode(bundle)));
    // a message whose path merely starts with '#' still gets the END
    const hash = encode(new Message('#reply'));
    assert.equal(hex(slipEncode(hash, true)), `c0${hex(slipEncode(hash))}`);
  });

  test('whatever the first packet, the opened stream is detected as SLIP and decodes to it', () => {
    for (const packet of [
      Uint8Array.of(0x41, 0, 0xff),
      Uint8Array.of(0xc0),
      Uint8Array.of(0xdb, 0xdc),
      Uint8Array.of(0, 0, 0, 8),
      encode(new Message('noslash')),
      encode(new Bundle([])),
    ]) {
      const stream = slipEncode(packet, true);
      assert.equal(detectFraming(stream[0] as number), 'slip', hex(packet));
      const d = new SlipDecoder(1 << 20);
      d.push(stream);
      assert.equal(hex(d.next() as Uint8Array), hex(packet));
    }
  });
});

describe("aiolo's SLIP sender to aiolo", () => {
  test('a first message whose path has no slash is still taken for SLIP', async () => {
    const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
    await server.start();
    const a = new Address({ host: LOCAL, port: server.port as number, proto: 'tcp' }, { slip: true });
    try {
      const sub = server.route(ANY_PATH).sub({ incoming: true });
      await a.send('noslash', 1);
      await a.send('/next', 2);
      const got = await take(sub, 2);
      assert.deepEqual(
        got.map((m) => [m.path, m.args]),
        [
          ['noslash', [1]],
          ['/next', [2]],
        ],
      );
      assert.equal(server.stats.malformed, 0);
    } finally {
      await a.close();
      await server.stop();
    }
  });
});

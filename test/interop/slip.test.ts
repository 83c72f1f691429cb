// aiolo's SLIP sender against liblo 0.31's receiver. aiolo opens a SLIP connection with END before
// its first frame (unless that frame is a bundle); liblo 0.31 detects SLIP from the first four bytes
// (`C0 '/' p p`, `'/' p p p` or `"#bun"`), so both openings must reach it. A stream opening with
// END then a bundle does not (test/interop/dispatch.test.ts, 'SLIP detection').
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, Bundle, encode, Message, TimeTag } from '../../src/index.js';
import { slipEncode } from '../../src/transport/framing.js';
import { LO_PEER, LoReceiver } from '../helpers/lo.js';
import { needPeer } from '../helpers/peers.js';
import { RawTcp } from '../helpers/raw.js';

const LOCAL = '127.0.0.1';

describe('SLIP from aiolo to liblo 0.31', () => {
  for (const first of ['a message', 'a bundle'] as const) {
    test(`a connection whose first packet is ${first}: liblo takes it for SLIP and delivers everything`, async (t) => {
      if (!needPeer(t, LO_PEER)) return;
      await using lo = await LoReceiver.start('tcp');
      const a = new Address({ host: LOCAL, port: lo.port, proto: 'tcp' }, { slip: true });
      try {
        if (first === 'a message') await a.send('/first', 1);
        else await a.bundle(new Bundle([Message.typed('/first', 'i', 1)], TimeTag.IMMEDIATE));
        await a.send('/second', 'x');
        await a.bundle(new Bundle([Message.typed('/third', 'i', 3)], TimeTag.IMMEDIATE));
        const got = await lo.waitFor(3);
        assert.deepEqual(
          got.map((m) => m.message.path),
          ['/first', '/second', '/third'],
        );
        assert.deepEqual(lo.errors, []);
      } finally {
        await a.close();
      }
    });
  }

  test('the bytes aiolo writes (END, then the frames) are what liblo accepts', async (t) => {
    if (!needPeer(t, LO_PEER)) return;
    await using lo = await LoReceiver.start('tcp');
    const raw = await RawTcp.open(lo.port);
    try {
      // byte for byte what an aiolo SLIP connection writes for these three sends
      await raw.write(
        Buffer.concat([
          slipEncode(encode(Message.typed('/a', 'i', 1)), true),
          slipEncode(encode(Message.typed('/b', 'i', 0xc0db))),
          slipEncode(encode(new Bundle([Message.typed('/c', 'i', 3)]))),
        ]),
      );
      const got = await lo.waitFor(3);
      assert.deepEqual(
        got.map((m) => [m.message.path, m.message.args[0]]),
        [
          ['/a', 1],
          ['/b', 0xc0db],
          ['/c', 3],
        ],
      );
    } finally {
      raw.close();
    }
  });
});

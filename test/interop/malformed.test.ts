// The malformed packets of the reference's error table (A.7), sent to liblo and to aiolo: both
// reject every one, with the same liblo error number where liblo's server reports the
// lo_message_deserialise code; and aiolo keeps serving.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { encode, Message, type OscDecodeError, Server } from '../../src/index.js';
import { take, within } from '../helpers/async.js';
import { LO_PEER, LoReceiver } from '../helpers/lo.js';
import { needPeer } from '../helpers/peers.js';

const LOCAL = '127.0.0.1';

function bytes(...parts: (string | number[])[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}
const i42 = [0, 0, 0, 42];

// [name, packet, liblo's server-level error number]
const TABLE: [string, Buffer, number][] = [
  ['no type string', bytes('/t/notags', [0, 0, 0]), 9902],
  ['unknown typetag ,u', bytes('/t/u', [0, 0, 0, 0], ',u', [0, 0]), 9912],
  [',r (OSC 1.0 optional, liblo has none)', bytes('/t/r', [0, 0, 0, 0], ',r', [0, 0], [1, 2, 3, 4]), 9912],
  [',[ii] (arrays, likewise)', bytes('/t/a', [0, 0, 0, 0], ',[ii]', [0, 0, 0], i42, i42), 9912],
  [',i with 8 bytes of data', bytes('/t', [0, 0], ',i', [0, 0], i42, i42), 9911],
  [',i with 2 bytes of data', bytes('/t', [0, 0], ',i', [0, 0], [0, 1]), 9912],
  ['"/abc,i" then a badly padded type string', bytes('/abc,i', [0, 0], i42), 9909],
  [
    'bundle with a truncated element',
    bytes('#bundle', [0], [0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 16], '/t', [0, 0], ',', [0, 0, 0]),
    9911,
  ],
  ['bundle element "abc\\0"', bytes('#bundle', [0], [0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 4], 'abc', [0]), 9902],
  [
    'testlo test_validation: ,bs with an absurd blob size',
    bytes('/', [0, 0, 0], ',bs', [0], ',', [0x00, 0x0f, 0x42, 0x3f]),
    9912,
  ],
];

async function udpSender() {
  const s = createSocket('udp4');
  s.bind(0, LOCAL);
  await once(s, 'listening');
  return {
    send: (packet: Uint8Array, port: number) =>
      new Promise<void>((resolve, reject) => s.send(packet, port, LOCAL, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise<void>((resolve) => s.close(() => resolve())),
  };
}

describe('malformed packets: both reject them', () => {
  test('liblo and aiolo reject every packet of the table, with the same error numbers', async (t) => {
    if (!needPeer(t, LO_PEER)) return;
    await using lo = await LoReceiver.start('udp');
    const server = new Server({ host: LOCAL, extendedTypes: false }); // liblo's type set, for a like-for-like run
    await server.start();
    const tx = await udpSender();
    try {
      const errors: OscDecodeError[] = [];
      server.on('malformed', (e) => errors.push(e));
      for (const [, packet] of TABLE) {
        await tx.send(packet, lo.port);
        await tx.send(packet, server.port as number);
      }
      await lo.waitFor(0, TABLE.length);
      await within(
        3000,
        'aiolo to report every packet',
        (async () => {
          while (errors.length < TABLE.length) await new Promise((r) => setImmediate(r));
        })(),
      );
      assert.deepEqual(lo.messages, [], 'liblo dispatched a malformed packet');
      assert.deepEqual(
        errors.map((e) => e.libloCode),
        TABLE.map(([, , code]) => code),
      );
      assert.deepEqual(
        lo.errors,
        TABLE.map(([, , code]) => code),
      );
    } finally {
      await tx.close();
      await server.stop();
    }
  });

  test('a path with a non-zero pad byte: rejected by both; liblo reports lo_validate_string’s 9914, aiolo the deserialise code 9908', async (t) => {
    if (!needPeer(t, LO_PEER)) return;
    await using lo = await LoReceiver.start('udp');
    const server = new Server({ host: LOCAL });
    await server.start();
    const tx = await udpSender();
    try {
      const packet = bytes('/t', [0, 1], ',', [0, 0, 0]);
      const malformed = once(server, 'malformed') as Promise<[OscDecodeError]>;
      await tx.send(packet, lo.port);
      await tx.send(packet, server.port as number);
      const [err] = await within(3000, "aiolo's report", malformed);
      assert.equal(err.code, 'ERR_OSC_INVALID_PATH');
      assert.equal(err.libloCode, 9908);
      await lo.waitFor(0, 1);
      assert.deepEqual(lo.errors, [9914]);
    } finally {
      await tx.close();
      await server.stop();
    }
  });

  test('aiolo keeps serving: valid messages between the malformed ones all arrive', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    const tx = await udpSender();
    try {
      const sub = server.route('/ok', 'i').sub();
      for (const [i, [, packet]] of TABLE.entries()) {
        await tx.send(packet, server.port as number);
        await tx.send(encode(Message.typed('/ok', 'i', i)), server.port as number);
      }
      assert.deepEqual(
        await take(sub, TABLE.length),
        TABLE.map((_, i) => [i]),
      );
      assert.equal(server.stats.malformed, TABLE.length - 2); // ,r and ,[ii] are valid OSC 1.0 here
    } finally {
      await tx.close();
      await server.stop();
    }
  });
});

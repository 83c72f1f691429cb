// Raw packets: server.packets() yields each valid packet as it arrives (bytes, decoded packet,
// source, arrival time), bounded like a subscription; server.forward(address) sends them on
// unchanged — bundles, timetags and bytes; address.packet(bytes) sends bytes after checking them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Address,
  Bundle,
  encode,
  Message,
  OscDecodeError,
  type ReceivedPacket,
  SendError,
  Server,
  TimeTag,
} from '../../src/index.js';
import { event, take, within } from '../helpers/async.js';

const LOCAL = '127.0.0.1';

for (const proto of ['udp', 'tcp'] as const) {
  describe(`server.packets() over ${proto.toUpperCase()}`, () => {
    test('yields the bytes as they came, decoded, with source and arrival time, before a bundle is due', async () => {
      const server = new Server({ proto, host: LOCAL, port: 0 });
      await server.start();
      const address = new Address({ url: server.url as string });
      try {
        const packets = server.packets();
        const later = server.route('/later').sub();
        const bundle = new Bundle([Message.typed('/later', 'if', 1, 2.5)], TimeTag.now().add(30));
        const before = TimeTag.now();
        await address.bundle(bundle);
        await address.send('/now', 'x');
        const [first, second] = await take(packets, 2);
        assert.deepEqual(first?.data, encode(bundle).slice());
        assert.ok(first?.packet instanceof Bundle);
        assert.ok(first?.packet.timetag.equals(bundle.timetag));
        assert.ok((first?.arrived.compare(before) ?? -1) >= 0);
        assert.equal(later.pending, 0, 'the bundle still waits for its time');
        assert.deepEqual(second?.data, encode(new Message('/now', 'x')).slice());
        if (proto === 'udp') assert.match(second?.source.url ?? '', /^osc\.udp:\/\/127\.0\.0\.1:\d+\/$/);
        else assert.match(second?.source.url ?? '', /^osc\.tcp:\/\//);
        // the source replies
        const reply = await second?.source.send('/ack');
        assert.ok((reply ?? 0) > 0);
      } finally {
        await address.close();
        await server.stop();
      }
    });
  });
}

describe('server.packets() limits and end', () => {
  test('bounded by highWaterMark with a dropped count; malformed packets are not yielded; stop ends it', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    const address = new Address({ url: server.url as string });
    const packets = server.packets({ highWaterMark: 2 });
    const malformed = event(server, 'malformed');
    const { createSocket } = await import('node:dgram');
    const raw = createSocket('udp4');
    raw.send(Uint8Array.of(1, 2, 3), server.port as number, LOCAL);
    await malformed;
    raw.close();
    for (let i = 0; i < 5; i++) await address.send('/n', i);
    await within(
      3000,
      '5 messages',
      (async () => {
        while (server.stats.messages < 5) await new Promise((r) => setTimeout(r, 2));
      })(),
    );
    assert.equal(packets.pending, 2);
    assert.equal(packets.dropped, 3);
    await server.stop();
    const rest: ReceivedPacket[] = [];
    for await (const p of packets) rest.push(p);
    assert.deepEqual(
      rest.map((p) => (p.packet as Message).args[0]),
      [3, 4],
    );
    await address.close();
  });
});

describe('server.forward()', () => {
  for (const proto of ['udp', 'tcp'] as const) {
    test(`forwards bundles unchanged, timetag and bytes, over ${proto.toUpperCase()}`, async () => {
      const front = new Server({ host: LOCAL });
      const back = new Server({ proto, host: LOCAL, port: 0 });
      await Promise.all([front.start(), back.start()]);
      const toBack = new Address({ url: back.url as string });
      const toFront = new Address({ url: front.url as string });
      try {
        const stop = front.forward(toBack);
        const arrived = back.packets();
        const due = back.route('/b', 'i').sub({ incoming: true });
        const at = TimeTag.now().add(0.3);
        const bundle = new Bundle([Message.typed('/b', 'i', 1), new Bundle([Message.typed('/b', 'i', 2)], at)], at);
        await toFront.bundle(bundle);
        await toFront.send('/b', 3);
        const got = await take(arrived, 2);
        assert.deepEqual(got[0]?.data, encode(bundle).slice());
        assert.deepEqual(got[1]?.data, encode(new Message('/b', 3)).slice());
        // and the back server dispatches the bundle at its time, not as an immediate message
        const messages = await take(due, 3);
        assert.deepEqual(
          messages.map((m) => m.args[0]),
          [3, 1, 2],
        );
        assert.ok(messages[1]?.timetag.equals(at));
        assert.ok(TimeTag.now().compare(at) >= 0);
        stop();
        await stop.closed;
      } finally {
        await Promise.all([toBack.close(), toFront.close()]);
        await Promise.all([front.stop(), back.stop()]);
      }
    });
  }

  test("a packet that cannot be sent on is reported with 'forwardError'", async () => {
    const front = new Server({ host: LOCAL });
    await front.start();
    const closed = new Address({ port: 9 });
    await closed.close();
    const toFront = new Address({ url: front.url as string });
    try {
      using _forwarding = front.forward(closed);
      const failed = event<[unknown, ReceivedPacket]>(front, 'forwardError');
      await toFront.send('/x', 1);
      const [error, packet] = await failed;
      assert.ok(error instanceof SendError && error.code === 'ERR_OSC_CLOSED');
      assert.equal((packet.packet as Message).path, '/x');
    } finally {
      await toFront.close();
      await front.stop();
    }
  });
});

describe('address.packet()', () => {
  test('sends valid bytes as they are and rejects anything else with OscDecodeError', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    const address = new Address({ url: server.url as string });
    try {
      const packets = server.packets();
      const bytes = encode(new Bundle([new Message('/p', 1)], TimeTag.now().add(10)));
      assert.equal(await address.packet(bytes), bytes.length);
      const [got] = await take(packets, 1);
      assert.deepEqual(got?.data, bytes.slice());
      await assert.rejects(address.packet(Uint8Array.of(0x2f, 0x61)), (e: unknown) => e instanceof OscDecodeError);
      await assert.rejects(address.packet(new Uint8Array(0)), (e: unknown) => e instanceof OscDecodeError);
    } finally {
      await address.close();
      await server.stop();
    }
  });
});

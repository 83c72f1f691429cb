// OSC over TCP: both framings, detected per connection from the first bytes; replies in the
// framing the client used; partial frames, many frames per read, many connections at once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Address,
  Bundle,
  encode,
  Message,
  OscDecodeError,
  Server,
  type ServerOptions,
  TimeTag,
} from '../../src/index.js';
import { lengthPrefix, slipEncode } from '../../src/transport/framing.js';
import { event, take, within } from '../helpers/async.js';
import { RawTcp } from '../helpers/raw.js';

const LOCAL = '127.0.0.1';
const END = 0xc0;

async function tcpServer(options: ServerOptions = {}): Promise<Server> {
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0, ...options });
  await server.start();
  return server;
}

const cat = (...parts: Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));

describe('TCP', () => {
  test('a length-prefixed client (liblo’s default) and a SLIP client on one server', async () => {
    const server = await tcpServer();
    try {
      const foo = server.route('/foo', 'i');
      const sub = foo.sub();
      const plain = new Address({ url: server.url as string });
      const slip = new Address({ url: server.url as string }, { slip: true });
      await plain.send(foo, 1);
      await slip.send(foo, 2);
      await plain.send(foo, 3);
      const got = (await take(sub, 3)).map((a) => a[0]);
      assert.deepEqual(got.sort(), [1, 2, 3]);
      await Promise.all([plain.close(), slip.close()]);
    } finally {
      await server.stop();
    }
  });

  test('replies go back on the same connection, in the framing the client used', async () => {
    const server = await tcpServer();
    try {
      const ping = server.route('/ping', 'i');
      const sub = ping.sub({ incoming: true });
      (async () => {
        for await (const m of sub) await m.source.send('/pong', m.args[0] + 1);
      })();
      const request = encode(Message.typed('/ping', 'i', 41));
      const reply = encode(Message.typed('/pong', 'i', 42));
      for (const [framing, frame] of [
        ['length', lengthPrefix],
        ['slip', slipEncode],
      ] as const) {
        const raw = await RawTcp.open(server.port as number);
        await raw.write(frame(request));
        const want = frame(reply);
        const got = await within(3000, `${framing} reply`, raw.waitFor(want.length));
        assert.equal(got.toString('hex'), Buffer.from(want).toString('hex'), framing);
        raw.close();
      }
      sub.unsub();
    } finally {
      await server.stop();
    }
  });

  test('SLIP streams that start with END, even before a bundle (liblo 0.31 gets this one wrong)', async () => {
    const server = await tcpServer();
    try {
      const sub = server.route('/b', 'i').sub();
      const bundle = encode(new Bundle([Message.typed('/b', 'i', 7), Message.typed('/b', 'i', 8)]));
      const raw = await RawTcp.open(server.port as number);
      // OSC 1.1's "double-ENDed" SLIP: END before and after each packet
      await raw.write(
        cat(
          Uint8Array.of(END),
          slipEncode(bundle),
          Uint8Array.of(END, END),
          slipEncode(encode(Message.typed('/b', 'i', 9))),
        ),
      );
      assert.deepEqual(await take(sub, 3), [[7], [8], [9]]);
      raw.close();
    } finally {
      await server.stop();
    }
  });

  for (const [framing, frame] of [
    ['length prefix', lengthPrefix],
    ['SLIP', slipEncode],
  ] as const) {
    test(`${framing}: a stream split at every byte boundary, and one byte per write`, async () => {
      const server = await tcpServer();
      try {
        const route = server.route('/s');
        // bytes that SLIP must escape (0xC0, 0xDB) inside a blob and a string
        const messages = [
          Message.typed('/s', 'bi', Uint8Array.of(0xc0, 0xdb, 0xdc, 0xdd, 0, 0xc0), 1),
          Message.typed('/s', 'si', 'x', 2),
          new Message('/s', 3),
        ];
        const stream = cat(...messages.map((m) => frame(encode(m))));
        for (let k = 1; k < stream.length; k++) {
          const sub = route.sub(); // take() leaves (and so ends) the one before
          const raw = await RawTcp.open(server.port as number);
          await raw.write(stream.subarray(0, k));
          await raw.write(stream.subarray(k));
          const got = await take(sub, 3);
          assert.deepEqual(
            got.map((a) => a[a.length - 1]),
            [1, 2, 3],
            `split at ${k}`,
          );
          raw.close();
        }
        const sub = route.sub();
        const raw = await RawTcp.open(server.port as number);
        for (const b of stream) await raw.write(Uint8Array.of(b));
        assert.equal((await take(sub, 3)).length, 3);
        raw.close();
      } finally {
        await server.stop();
      }
    });

    test(`${framing}: 500 frames in one write`, async () => {
      const server = await tcpServer();
      try {
        const sub = server.route('/n', 'i').sub({ highWaterMark: 1000 });
        const raw = await RawTcp.open(server.port as number);
        await raw.write(cat(...Array.from({ length: 500 }, (_, i) => frame(encode(Message.typed('/n', 'i', i))))));
        const got = await take(sub, 500);
        assert.deepEqual(
          got.map((a) => a[0]),
          Array.from({ length: 500 }, (_, i) => i),
        );
        raw.close();
      } finally {
        await server.stop();
      }
    });
  }

  test('100 connections at once, each sending 20 messages: all 2000 arrive, in order per connection', async () => {
    const server = await tcpServer();
    try {
      const sub = server.route('/c', 'ii').sub({ highWaterMark: 4000 });
      const addresses = Array.from(
        { length: 100 },
        (_, i) => new Address({ url: server.url as string }, { slip: i % 2 === 1 }),
      );
      await Promise.all(
        addresses.map(async (a, c) => {
          for (let i = 0; i < 20; i++) await a.send('/c', c, i);
        }),
      );
      const got = await take(sub, 2000, 15000);
      const next = new Map<number, number>();
      for (const [c, i] of got) {
        assert.equal(i, next.get(c) ?? 0, `connection ${c}`);
        next.set(c, i + 1);
      }
      assert.equal(next.size, 100);
      await Promise.all(addresses.map((a) => a.close()));
    } finally {
      await server.stop();
    }
  });

  test('an oversized frame closes that connection with a report; other connections go on', async () => {
    const server = await tcpServer({ maxPacketSize: 1024 });
    try {
      const sub = server.route('/ok', 'i').sub();
      const good = new Address({ url: server.url as string });
      await good.send('/ok', 1);
      const malformed = event<[OscDecodeError]>(server, 'malformed');
      const raw = await RawTcp.open(server.port as number);
      await raw.write(Uint8Array.of(0, 0, 0x10, 0)); // announces 4096 bytes
      const [err] = await malformed;
      assert.equal(err.code, 'ERR_OSC_TOO_LARGE');
      await within(3000, 'the connection to close', raw.closed());
      await good.send('/ok', 2);
      assert.deepEqual(await take(sub, 2), [[1], [2]]);
      assert.equal(server.stats.malformed, 1);
      await good.close();
    } finally {
      await server.stop();
    }
  });

  test('a malformed packet on a connection is reported and the connection keeps serving', async () => {
    const server = await tcpServer();
    try {
      const sub = server.route('/ok', 'i').sub();
      const malformed = event<[OscDecodeError]>(server, 'malformed');
      const raw = await RawTcp.open(server.port as number);
      await raw.write(
        cat(
          lengthPrefix(Uint8Array.from(Buffer.from('/bad\0\0\0\0,u\0\0'))),
          lengthPrefix(encode(new Message('/ok', 5))),
        ),
      );
      const [err] = await malformed;
      assert.ok(err instanceof OscDecodeError && err.code === 'ERR_OSC_UNKNOWN_TYPETAG');
      assert.deepEqual(await take(sub, 1), [[5]]);
      raw.close();
    } finally {
      await server.stop();
    }
  });

  test('empty frames are skipped (liblo 0.31 stalls the connection on one)', async () => {
    const server = await tcpServer();
    try {
      const sub = server.route('/e', 'i').sub();
      const raw = await RawTcp.open(server.port as number);
      await raw.write(cat(Uint8Array.of(0, 0, 0, 0), lengthPrefix(encode(new Message('/e', 1)))));
      assert.deepEqual(await take(sub, 1), [[1]]);
      raw.close();
    } finally {
      await server.stop();
    }
  });

  for (const slip of [false, true]) {
    test(`a burst of sends arrives whole and in order, and a user's transfer of an encoded packet spoils none of it (slip: ${slip})`, async () => {
      const server = new Server({ proto: 'tcp', host: '127.0.0.1', port: 0 });
      await server.start();
      const address = new Address({ url: server.url as string }, { slip });
      try {
        const sub = server.route('/n', 'i').sub();
        await address.send('/n', -1); // connected
        const sends = Array.from({ length: 200 }, (_, i) => address.send('/n', i));
        // a packet of the user's own, its ArrayBuffer transferred while the burst is still queued
        const mine = encode(Message.typed('/mine', 'i', 1));
        structuredClone(mine.buffer, { transfer: [mine.buffer as ArrayBuffer] });
        assert.equal(mine.length, 0);
        await within(5000, 'the sends', Promise.all(sends));
        const got = await take(sub, 201);
        assert.deepEqual(
          got.map(([n]) => n),
          [-1, ...Array.from({ length: 200 }, (_, i) => i)],
        );
      } finally {
        await address.close();
        await server.stop();
      }
    });
  }

  test('an address reconnects after the server restarts', async () => {
    let server = await tcpServer();
    const port = server.port as number;
    const a = new Address({ host: LOCAL, port, proto: 'tcp' });
    try {
      let sub = server.route('/r', 'i').sub();
      await a.send('/r', 1);
      assert.deepEqual(await take(sub, 1), [[1]]);
      assert.ok(a.connected);
      await server.stop();
      await within(
        3000,
        'the address to see its connection close',
        (async () => {
          while (a.connected) await new Promise((r) => setImmediate(r));
        })(),
      );
      server = new Server({ proto: 'tcp', host: LOCAL, port });
      await server.start();
      sub = server.route('/r', 'i').sub();
      await a.send('/r', 2); // opens a new connection
      assert.ok(a.connected);
      assert.deepEqual(await take(sub, 1), [[2]]);
    } finally {
      await a.close();
      await server.stop();
    }
  });

  test('a server stopped while clients are connected closes them', async () => {
    const server = await tcpServer();
    const raw = await RawTcp.open(server.port as number);
    await within(
      2000,
      'the connection to register',
      (async () => {
        while (server.stats.connections < 1) await new Promise((r) => setImmediate(r));
      })(),
    );
    await server.stop();
    await within(3000, 'the client to see the close', raw.closed());
    assert.equal(server.stats.connections, 0);
  });

  test('bundles over TCP keep their timetags', async () => {
    const server = await tcpServer();
    try {
      const sub = server.route('/t', 'i').sub({ incoming: true });
      const a = new Address({ url: server.url as string }, { slip: true });
      const tt = TimeTag.now().subtract(1);
      await a.bundle([Message.typed('/t', 'i', 1)], tt);
      const [m] = await take(sub, 1);
      assert.ok(m?.timetag.equals(tt));
      await a.close();
    } finally {
      await server.stop();
    }
  });
});

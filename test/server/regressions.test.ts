// One test per bug a review of the server code found, so that none comes back.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import {
  Address,
  encode,
  Message,
  merge,
  OscConfigError,
  OscEncodeError,
  SendError,
  Server,
  TimeTag,
} from '../../src/index.js';
import { Scheduler } from '../../src/server/scheduler.js';
import { lengthPrefix, slipEncode } from '../../src/transport/framing.js';
import { take, within } from '../helpers/async.js';
import { RawTcp } from '../helpers/raw.js';

const LOCAL = '127.0.0.1';

describe('regressions', () => {
  for (const [framing, frame] of [
    ['length prefix', lengthPrefix],
    ['SLIP', slipEncode],
  ] as const) {
    test(`'pause' loses nothing when the peer closes while held (${framing})`, async () => {
      const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
      await server.start();
      try {
        const sub = server.route('/n', 'i').sub({ highWaterMark: 4, overflow: 'pause' });
        const raw = await RawTcp.open(server.port as number);
        const N = 3000;
        await raw.write(Buffer.concat(Array.from({ length: N }, (_, i) => frame(encode(Message.typed('/n', 'i', i))))));
        raw.socket.end(); // FIN while the server holds the connection
        const got: number[] = [];
        for await (const [n] of sub) {
          got.push(n);
          if (got.length % 50 === 0) await new Promise((r) => setImmediate(r));
          if (got.length === N) break;
        }
        assert.equal(sub.dropped, 0);
        assert.deepEqual(
          got,
          Array.from({ length: N }, (_, i) => i),
        );
      } finally {
        await server.stop();
      }
    });
  }

  test('start() and stop() called together: the last call wins', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    await Promise.all([server.stop(), server.start()]);
    assert.equal(server.running, true);
    await Promise.all([server.stop(), server.start(), server.stop()]);
    assert.equal(server.running, false);
    await Promise.all([server.start(), server.stop(), server.start()]);
    assert.equal(server.running, true);
    await server.stop();
    assert.equal(server.port, undefined);
    assert.equal(server.url, undefined);
  });

  test('merge: return() while a next() waits ends that next()', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    try {
      const m = merge(server.route('/a').sub(), server.route('/b').sub());
      const pending = m.next();
      await m.return();
      assert.deepEqual(await within(1000, 'the pending next()', pending), { value: undefined, done: true });
    } finally {
      await server.stop();
    }
  });

  test('a bundle arriving when an equal timetag is already due waits its turn', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    const a = new Address({ url: server.url as string });
    try {
      for (let round = 0; round < 10; round++) {
        const sub = server.route('/o', 's').sub();
        const tt = TimeTag.now().add(0.01);
        await a.bundle([Message.typed('/o', 's', 'first')], tt);
        while (server.stats.queued === 0 && TimeTag.now().compare(tt) < 0) await new Promise((r) => setImmediate(r));
        while (TimeTag.now().compare(tt) <= 0) {
          // hold the event loop until the time has passed, so the timer has not run yet
        }
        await a.bundle([Message.typed('/o', 's', 'second')], tt);
        assert.deepEqual(await take(sub, 2), [['first'], ['second']], `round ${round}`);
      }
    } finally {
      await a.close();
      await server.stop();
    }
  });

  test('a dispatch that throws does not stall the schedule', async () => {
    const errors: unknown[] = [];
    const got: number[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => {
      done = r;
    });
    const s = new Scheduler<number>(
      (i) => {
        if (i === 1) throw new Error('listener bug');
        got.push(i);
        if (got.length === 3) done();
      },
      (err) => errors.push(err),
    );
    const t = TimeTag.now().add(0.01);
    for (const i of [1, 2, 3]) s.add(t, i);
    s.add(t.add(0.02), 4);
    await within(2000, 'the rest of the schedule', finished);
    assert.deepEqual(got, [2, 3, 4]);
    assert.equal(errors.length, 1);
  });

  test('sends reject with SendError or OscEncodeError, never raw Node errors; bad options throw at construction', async () => {
    assert.throws(() => new Address({ port: 0 }), OscConfigError);
    assert.throws(() => new Address({ url: 'osc.udp://localhost:0/' }), OscConfigError);
    assert.throws(() => new Address({ host: '224.0.1.1', port: 9 }, { ttl: 300 }), OscConfigError);
    const a = new Address({ host: LOCAL, port: 9 });
    await assert.rejects(a.delay(Number.NaN, '/x'), OscEncodeError);
    await a.close();
    const server = new Server({ host: LOCAL });
    await server.start();
    const fromServer = server.address({ host: LOCAL, port: 9 });
    await server.stop();
    await assert.rejects(fromServer.send('/x'), (e: unknown) => e instanceof SendError && e.code === 'ERR_OSC_CLOSED');
    await server.start(); // an address sending from a server follows it across restarts
    const echo = createSocket('udp4');
    echo.bind(0, LOCAL);
    await once(echo, 'listening');
    const again = server.address({ host: LOCAL, port: echo.address().port });
    const received = once(echo, 'message');
    await again.send('/back');
    const [, rinfo] = (await within(2000, 'the datagram', received)) as [Buffer, { port: number }];
    assert.equal(rinfo.port, server.port);
    echo.close();
    await server.stop();
  });
});

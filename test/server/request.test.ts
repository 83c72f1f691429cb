// Request/reply: address.request() sends and resolves with the reply — on an address's own UDP socket
// or TCP connection, or at the server an address sends from — with a timeout and an AbortSignal;
// and route.next(), a one-shot wait on a route.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Address,
  OscAbortError,
  OscClosedError,
  OscEncodeError,
  OscTimeoutError,
  type Received,
  SendError,
  Server,
  TimeTag,
} from '../../src/index.js';
import { within } from '../helpers/async.js';

const LOCAL = '127.0.0.1';

/** A server that answers /status with /status.reply (its first arg + 1, 'ok'), to the sender. */
async function synth(proto: 'udp' | 'tcp') {
  const server = new Server({ proto, host: LOCAL, port: 0 });
  await server.start();
  const off = server.route('/status', 'i').on(async (args, m) => {
    await m.source.send('/status.reply', args[0] + 1, 'ok');
  });
  return {
    server,
    url: server.url as string,
    async [Symbol.asyncDispose]() {
      off();
      await server.stop();
    },
  };
}

for (const proto of ['udp', 'tcp'] as const) {
  describe(`request over ${proto.toUpperCase()}`, () => {
    test('an address of its own gets the reply on its own socket or connection', async () => {
      await using s = await synth(proto);
      await using address = new Address({ url: s.url });
      const reply = await address.request('/status', [41], { reply: '/status.reply', timeout: 2000 });
      assert.equal(reply.path, '/status.reply');
      assert.equal(reply.typetags, 'is');
      assert.deepEqual(reply.args, [42, 'ok']);
      assert.ok(reply.timetag.isImmediate);
      // and again, on the same socket: requests reuse it
      const again = await address.request('/status', [1], { reply: '/status.reply' });
      assert.deepEqual(again.args, [2, 'ok']);
    });

    test('an address sending from a server: the reply comes to that server, not as unmatched', async () => {
      await using s = await synth(proto);
      const client = new Server({ proto, host: LOCAL, port: 0 });
      await client.start();
      try {
        const toSynth = client.address(s.url);
        const reply = await toSynth.request('/status', [9], { reply: '/status.reply', timeout: 2000 });
        assert.deepEqual(reply.args, [10, 'ok']);
        assert.equal(client.stats.unmatched, 0);
        assert.equal(client.stats.dispatched, 1);
        await toSynth.close();
      } finally {
        await client.stop();
      }
    });

    test('a typed reply is coerced as a route would be; match picks the reply', async () => {
      await using s = await synth(proto);
      await using address = new Address({ url: s.url });
      const reply = await address.request('/status', [1], {
        reply: { path: '/status.reply', typespec: 'hS' } as const,
        match: (r) => r.args[0] === 2n,
      });
      const [n, text] = reply.args;
      assert.equal(n, 2n);
      assert.equal(text.value, 'ok');
    });

    test('concurrent requests for one reply path take replies in order', async () => {
      await using s = await synth(proto);
      await using address = new Address({ url: s.url });
      const replies = await Promise.all(
        [10, 20, 30].map((n) => address.request('/status', [n], { reply: '/status.reply' })),
      );
      assert.deepEqual(
        replies.map((r) => r.args[0]),
        [11, 21, 31],
      );
    });

    test('no reply: OscTimeoutError (ERR_OSC_TIMEOUT)', async () => {
      await using s = await synth(proto);
      await using address = new Address({ url: s.url });
      const started = performance.now();
      await assert.rejects(
        address.request('/status', [1], { reply: '/never', timeout: 100 }),
        (e: unknown) => e instanceof OscTimeoutError && e.code === 'ERR_OSC_TIMEOUT' && e.timeout === 100,
      );
      assert.ok(performance.now() - started >= 99);
      // the late reply to it is not taken by the next request
      const next = await address.request('/status', [5], { reply: '/status.reply' });
      assert.deepEqual(next.args, [6, 'ok']);
    });
  });
}

describe('request: abort, errors, filters', () => {
  test('an AbortSignal ends the wait with OscAbortError, its reason as cause', async () => {
    await using s = await synth('udp');
    await using address = new Address({ url: s.url });
    const controller = new AbortController();
    const pending = address.request('/status', [1], { reply: '/never', signal: controller.signal });
    const reason = new Error('user gave up');
    controller.abort(reason);
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof OscAbortError && e.code === 'ERR_OSC_ABORTED' && e.cause === reason,
    );
  });

  test('an already aborted signal rejects without sending', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    try {
      await using address = new Address({ url: server.url as string });
      await assert.rejects(
        address.request('/status', [1], { signal: AbortSignal.abort() }),
        (e: unknown) => e instanceof OscAbortError,
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(server.stats.packets, 0);
    } finally {
      await server.stop();
    }
  });

  test('values that do not fit reject with OscEncodeError; a closed address with SendError', async () => {
    await using s = await synth('udp');
    const address = new Address({ url: s.url });
    const route = s.server.route('/typed', 'i');
    await assert.rejects(address.request(route, [1.5]), (e: unknown) => e instanceof OscEncodeError);
    await address.close();
    await assert.rejects(
      address.request('/status', [1]),
      (e: unknown) => e instanceof SendError && e.code === 'ERR_OSC_CLOSED',
    );
  });

  test('bad timeouts are OscConfigErrors', async () => {
    await using address = new Address({ port: 9 });
    await assert.rejects(address.request('/x', [], { timeout: -1 }), { code: 'ERR_OSC_INVALID_OPTIONS' });
    await assert.rejects(address.request('/x', [], { timeout: Number.NaN }), { code: 'ERR_OSC_INVALID_OPTIONS' });
  });

  test('from a server over UDP, a message at the reply path from another peer is not the reply', async () => {
    await using s = await synth('udp');
    const client = new Server({ host: LOCAL });
    await client.start();
    const other = new Address({ url: client.url as string });
    try {
      const replies = client.route('/status.reply').sub();
      const toSynth = client.address(s.url);
      // hold the synth's reply back, so that the stranger's message arrives first
      s.server.unroute('/status', 'i');
      const answer = s.server.route('/status', 'i').sub({ incoming: true });
      const pending = toSynth.request('/status', [1], { reply: '/status.reply', timeout: 2000 });
      const asked = (await within(2000, 'the request', answer.next())).value as Received;
      await other.send('/status.reply', 666, 'stranger');
      const [stranger] = await within(
        2000,
        'the stranger',
        replies.next().then((r) => [r.value]),
      );
      assert.deepEqual(stranger, [666, 'stranger']); // the route got it; the request did not take it
      await asked.source.send('/status.reply', 2, 'ok');
      assert.deepEqual((await pending).args, [2, 'ok']);
      await toSynth.close();
    } finally {
      await other.close();
      await client.stop();
    }
  });

  test('a match that throws rejects with its error; a send that fails rejects; neither leaves its wait behind', async () => {
    await using s = await synth('udp');
    await using address = new Address({ url: s.url }, { maxPacketSize: 64 });
    const broken = new Error('match broke');
    await assert.rejects(
      address.request('/status', [1], {
        reply: '/status.reply',
        match: () => {
          throw broken;
        },
      }),
      (e: unknown) => e === broken,
    );
    await assert.rejects(address.request('/status', ['x'.repeat(100)]), { code: 'ERR_OSC_PACKET_TOO_LARGE' });
    // the waits that ended are gone: the next reply goes to the next request, nothing else takes it
    const next = await address.request('/status', [7], { reply: '/status.reply', timeout: 2000 });
    assert.deepEqual(next.args, [8, 'ok']);
  });

  test('closing the address rejects its waiting requests at once (ERR_OSC_CLOSED), on its own socket or from a server', async () => {
    await using s = await synth('udp');
    const own = new Address({ url: s.url });
    await own.request('/status', [1], { reply: '/status.reply' }); // (the socket opened)
    const client = new Server({ host: LOCAL });
    await client.start();
    try {
      const fromServer = client.address(s.url);
      const pending = [
        own.request('/status', [1], { reply: '/never', timeout: 60_000 }),
        own.request('/status', [2], { reply: '/never', timeout: 60_000 }),
        fromServer.request('/status', [3], { reply: '/never', timeout: 60_000 }),
      ];
      await Promise.all([own.close(), fromServer.close()]);
      for (const p of pending)
        await assert.rejects(p, (e: unknown) => e instanceof SendError && e.code === 'ERR_OSC_CLOSED');
    } finally {
      await client.stop();
    }
  });

  test('a request that ends leaves no timer behind, however it ends', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await using s = await synth('udp');
    await using address = new Address({ url: s.url });
    await address.request('/status', [1], { reply: '/status.reply' }); // (the socket opened)
    const before = timers();
    await address.request('/status', [1], { reply: '/status.reply', timeout: 60_000 });
    assert.equal(timers(), before, 'an answered request left its timer');
    const controller = new AbortController();
    const pending = address.request('/status', [1], { reply: '/never', timeout: 60_000, signal: controller.signal });
    assert.equal(timers(), before + 1);
    controller.abort();
    await assert.rejects(pending, (e: unknown) => e instanceof OscAbortError);
    assert.equal(timers(), before, 'an aborted request left its timer');
  });

  test('replies in a bundle resolve at once, with the bundle timetag', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    try {
      const at = TimeTag.now().add(60);
      server.route('/q').on(async (_args, m) => {
        await m.source.bundle([new (await import('../../src/index.js')).Message('/a', 1)], at);
      });
      await using address = new Address({ url: server.url as string });
      const reply = await address.request('/q', [], { reply: '/a', timeout: 2000 });
      assert.ok(reply.timetag.equals(at));
    } finally {
      await server.stop();
    }
  });
});

describe('route.next()', () => {
  test('resolves with the next message: args, or the Incoming record', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    try {
      const route = server.route('/n', 'i');
      await using address = new Address({ url: server.url as string });
      const first = route.next({ timeout: 2000 });
      await address.send('/n', 1);
      assert.deepEqual(await first, [1]);
      const second = route.next({ incoming: true });
      await address.send('/n', 2);
      const m = await second;
      assert.deepEqual(m.args, [2]);
      assert.equal(m.route, route);
      assert.equal(route.subscriptions, 0, 'next() leaves the route');
      assert.equal(server.stats.dispatched, 2);
    } finally {
      await server.stop();
    }
  });

  test('times out, aborts, and rejects with OscClosedError when the server stops', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    const route = server.route('/n');
    await assert.rejects(route.next({ timeout: 50 }), (e: unknown) => e instanceof OscTimeoutError);
    const controller = new AbortController();
    const aborted = route.next({ signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted, (e: unknown) => e instanceof OscAbortError && e.code === 'ERR_OSC_ABORTED');
    const closed = route.next();
    await server.stop();
    await assert.rejects(closed, (e: unknown) => e instanceof OscClosedError && e.code === 'ERR_OSC_CLOSED');
    assert.equal(route.subscriptions, 0);
  });
});

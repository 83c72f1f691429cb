// Python aiolo's server checklist (reference section 6), ported to every transport it used, with
// the three fixes the reference recommends: every subscriber gets every message (test 17), pattern
// messages reach ANY_ARGS routes, and short explicit timeouts instead of waiting out 6 s.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Address,
  ANY_ARGS,
  ANY_PATH,
  Bundle,
  Message,
  Midi,
  merge,
  NO_ARGS,
  OscConfigError,
  Route,
  RouteError,
  Server,
  StartError,
} from '../../src/index.js';
import { event, take, within } from '../helpers/async.js';

const LOCAL = '127.0.0.1';

async function withServer(options: ConstructorParameters<typeof Server>[0], fn: (server: Server) => Promise<void>) {
  const server = new Server(options);
  await server.start();
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

describe('server lifecycle (Python aiolo tests 1-5)', () => {
  const forms: [string, () => Server][] = [
    ['no options (UDP, ephemeral port)', () => new Server()],
    ['port 0', () => new Server({ port: 0, host: LOCAL })],
    ['url osc.udp://127.0.0.1:0', () => new Server({ url: `osc.udp://${LOCAL}:0` })],
    ['url osc.tcp://127.0.0.1:0', () => new Server({ url: `osc.tcp://${LOCAL}:0` })],
    ["proto 'tcp'", () => new Server({ proto: 'tcp', port: 0, host: LOCAL })],
    ["proto 'udp'", () => new Server({ proto: 'udp', port: 0, host: LOCAL })],
    ['IPv6 ::1', () => new Server({ host: '::1', port: 0 })],
  ];
  for (const [name, make] of forms) {
    test(`${name}: start, running, port, url, stop`, async () => {
      const server = make();
      assert.equal(server.running, false);
      assert.equal(server.port, undefined);
      await server.start();
      try {
        const { running, port, url, proto } = server;
        assert.equal(running, true);
        assert.ok(port !== undefined && port > 0);
        assert.match(url ?? '', new RegExp(`^osc\\.${proto}://.+:${port}/$`));
      } finally {
        await server.stop();
      }
      assert.equal(server.running, false);
    });
  }

  test('start and stop are idempotent, and a stopped server starts again', async () => {
    const server = new Server({ host: LOCAL });
    await Promise.all([server.start(), server.start()]);
    const port = server.port;
    await server.start();
    assert.equal(server.port, port);
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    await server.start();
    assert.ok(server.running);
    await server.stop();
  });

  test('proto defaults to UDP (test 2)', async () => {
    await withServer({ port: 0, host: LOCAL }, async (s) => assert.equal(s.proto, 'udp'));
  });

  test('start errors reject with StartError (test 4): port in use, unknown scheme, unusable socket path', async () => {
    await withServer({ proto: 'tcp', port: 0, host: LOCAL }, async (s) => {
      const clash = new Server({ proto: 'tcp', port: s.port as number, host: LOCAL });
      await assert.rejects(
        clash.start(),
        (e: unknown) => e instanceof StartError && e.code === 'ERR_OSC_ADDRESS_IN_USE',
      );
      assert.equal(clash.running, false);
    });
    await withServer({ port: 0, host: LOCAL }, async (s) => {
      const clash = new Server({ port: s.port as number, host: LOCAL });
      await assert.rejects(
        clash.start(),
        (e: unknown) => e instanceof StartError && e.code === 'ERR_OSC_ADDRESS_IN_USE',
      );
    });
    const foo = new Server({ url: 'osc.foo://:0' });
    await assert.rejects(foo.start(), (e: unknown) => e instanceof StartError && e.code === 'ERR_OSC_UNKNOWN_PROTOCOL');
    // as root, Python aiolo's '/foo' can be created; a path under a missing directory cannot
    const unix = new Server({ port: '/nonexistent-dir/aiolo/x.sock' });
    await assert.rejects(unix.start(), StartError);
  });

  test('bad options throw at construction with OscConfigError (test 5)', () => {
    const bad: Record<string, unknown>[] = [
      { multicast: 'foo' },
      { proto: 'foo' },
      { proto: -1 },
      { url: 'osc.udp://:1', port: 1 },
      { url: 'osc.udp://:1', proto: 'udp' },
      { url: 'osc.udp://:1', multicast: {} },
      { proto: 'tcp', multicast: {} },
      { port: 1, multicast: {} },
      { port: -1 }, // Python aiolo fails at start(); aiolo for TypeScript at construction
      { port: 70000 },
      { proto: 'unix' }, // a unix server needs a path
      { url: 'not a url' },
      { url: 'osc.udp://[::1:9000' },
    ];
    for (const options of bad) {
      assert.throws(() => new Server(options as never), OscConfigError, JSON.stringify(options));
    }
  });
});

describe('routes and subscriptions (Python aiolo tests 6-29)', () => {
  test('several addresses send to one route, received in order (test 7)', async () => {
    await withServer({ host: LOCAL }, async (server) => {
      const foo = server.route('/foo', 'i');
      const sub = foo.sub();
      for (let i = 0; i < 3; i++) {
        const a = new Address({ url: server.url as string });
        await a.send(foo, i);
        await a.close();
      }
      assert.deepEqual(await take(sub, 3), [[0], [1], [2]]);
    });
  });

  test('a route shared by three TCP servers receives from each (test 10)', async () => {
    const foo = new Route('/foo', 'i');
    const servers = [0, 1, 2].map(() => new Server({ url: `osc.tcp://${LOCAL}:0` }));
    for (const s of servers) s.route(foo);
    await Promise.all(servers.map((s) => s.start()));
    try {
      const sub = foo.sub();
      await Promise.all(
        servers.map(async (s, i) => {
          const a = new Address({ url: s.url as string });
          await a.send(foo, i);
          await a.close();
        }),
      );
      const got = (await take(sub, 3)).map((args) => args[0]);
      assert.deepEqual(new Set(got), new Set([0, 1, 2]));
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });

  test('every subscriber gets every message (test 17, fixed as the reference recommends)', async () => {
    await withServer({ host: LOCAL }, async (server) => {
      const foo = server.route('/foo', 's');
      const subs = [foo.sub(), foo.sub(), foo.sub()];
      await server.address(server.url as string).send(foo, 'x');
      const got = await Promise.all(subs.map((s) => take(s, 1)));
      assert.deepEqual(got, [[['x']], [['x']], [['x']]]);
    });
  });

  test('unroute: the route’s subscriptions end and it receives nothing more (test 18)', async () => {
    await withServer({ host: LOCAL }, async (server) => {
      const foo = server.route('/foo', 's');
      const sub = foo.sub();
      const unmatched = event(server, 'unmatched');
      assert.equal(server.unroute(foo), foo);
      assert.deepEqual(await take(sub, 1), []); // ended without items
      const a = new Address({ url: server.url as string });
      await a.send(foo, 'x');
      await a.close();
      const [message] = await unmatched;
      assert.equal((message as { path: string }).path, '/foo');
      assert.throws(() => server.unroute(foo), RouteError);
    });
  });

  test('a bundle reaches every route it addresses (test 19)', async () => {
    await withServer({ host: LOCAL }, async (server) => {
      const routes = ['/foo', '/bar', '/baz'].map((p) => server.route(p, 's'));
      const all = merge(...routes.map((r) => r.sub()));
      const a = new Address({ url: server.url as string });
      await a.bundle(routes.map((r) => Message.typed(r, r.path as string)));
      const got = await take(all, 3);
      assert.deepEqual(
        got.map(([route, args]) => [route.path, args[0]]),
        [
          ['/foo', '/foo'],
          ['/bar', '/bar'],
          ['/baz', '/baz'],
        ],
      );
      await a.close();
    });
  });

  test('delayed bundles arrive in time order; eventsPending and nextEventDelay (test 20)', async () => {
    await withServer({ host: LOCAL }, async (server) => {
      const foo = server.route('/foo', 's');
      const sub = foo.sub();
      const a = new Address({ url: server.url as string });
      const later = new Bundle(
        new Message('/foo', 'later'),
        (await import('../../src/index.js')).TimeTag.now().add(0.3),
      );
      await a.bundle([new Message('/foo', 'now'), later]);
      await a.delay(0.6, foo, 'later than later');
      const it = sub[Symbol.asyncIterator]();
      assert.deepEqual((await within(2000, 'now', it.next())).value, ['now']);
      assert.ok(server.eventsPending);
      assert.ok(server.nextEventDelay > 0 && server.nextEventDelay < 1, String(server.nextEventDelay));
      assert.deepEqual((await within(2000, 'later', it.next())).value, ['later']);
      assert.ok(server.eventsPending);
      assert.ok(server.nextEventDelay > 0 && server.nextEventDelay < 1);
      assert.deepEqual((await within(2000, 'later than later', it.next())).value, ['later than later']);
      assert.ok(!server.eventsPending);
      await a.close();
    });
  });

  test('pattern paths reach every matching route, ANY_ARGS ones included (test 23, fixed)', async () => {
    await withServer({ host: LOCAL }, async (server) => {
      const aaa = server.route('/aaa/foo', 's');
      const bbb = server.route('/bbb/foo', 's');
      const any = server.route('/aaa/foo'); // ANY_ARGS: Python aiolo never delivered patterns here
      const subs = [aaa.sub(), bbb.sub(), any.sub()];
      const a = new Address({ url: server.url as string });
      await a.send('//foo', 'xpath');
      await a.send('/{aaa,bbb}/foo', 'array');
      for (const s of subs) assert.deepEqual(await take(s, 2), [['xpath'], ['array']]);
      await a.close();
    });
  });

  test('pattern and malformed paths cannot be routed (test 25)', async () => {
    const server = new Server();
    for (const c of '#{}[]!?*,-^\\') assert.throws(() => server.route(c, 's'), RouteError, c);
    for (const p of ['/a*', '/a b', '/{a,b}', '/a//b']) {
      assert.throws(() => server.route(p), RouteError, p);
      assert.throws(() => new Route(p), RouteError, p);
    }
  });

  test('ANY_PATH receives everything; it cannot be sent to (test 26)', async () => {
    await withServer({ host: LOCAL }, async (server) => {
      const any = server.route(ANY_PATH, 's');
      const sub = any.sub();
      const a = new Address({ url: server.url as string });
      await assert.rejects(a.send(any as never, 'foo'));
      await a.send(new Route('/foo', 's') as never, 'foo');
      assert.deepEqual(await take(sub, 1), [['foo']]);
      await a.close();
    });
  });

  test('NO_ARGS and ANY_ARGS routes (tests 27, 28)', async () => {
    await withServer({ host: LOCAL }, async (server) => {
      const none = server.route('/none', NO_ARGS);
      const any = server.route('/any', ANY_ARGS);
      const [s1, s2] = [none.sub(), any.sub()];
      const a = new Address({ url: server.url as string });
      await a.send(none);
      await a.send('/none', 1); // not argument-less: does not match
      await a.send(any, 'foo', 1, new Midi(1, 2, 3, 4));
      assert.deepEqual(await take(s1, 1), [[]]);
      const [args] = await take(s2, 1);
      assert.deepEqual(args?.slice(0, 2), ['foo', 1]);
      assert.equal(none.subscriptions, 0); // take() left the loop: unsubscribed
      await a.close();
    });
  });

  test('merge yields [route, args] across subscriptions in arrival order (tests 6 and 29)', async () => {
    await withServer({ host: LOCAL }, async (server) => {
      const [foo, bar, baz] = ['/foo', '/bar', '/baz'].map((p) => server.route(p, 's'));
      const all = merge((foo as Route).sub(), (bar as Route).sub(), (baz as Route).sub());
      const a = new Address({ url: server.url as string });
      const order = ['/foo', '/bar', '/baz', '/bar', '/foo', '/baz'];
      for (const [i, p] of order.entries()) await a.send(p, `${i}`);
      const got = await take(all, 6);
      assert.deepEqual(
        got.map(([r, args]) => [r.path, args[0]]),
        order.map((p, i) => [p, `${i}`]),
      );
      await a.close();
    });
  });

  test('re-routing the same path and typespec returns the route already there', () => {
    const server = new Server();
    const a = server.route('/x', 'i');
    assert.equal(server.route('/x', 'i'), a);
    assert.notEqual(server.route('/x', 'f'), a);
    assert.equal(server.route(a), a);
    assert.equal(server.routes.length, 2);
  });
});

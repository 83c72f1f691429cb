// The OSCQuery client against a fixture server written from the spec (test/helpers/oscq-fixture.ts):
// every attribute form, typed sends, the OSC address it picks, LISTEN and IGNORE, namespace
// changes, hostile frames, and the typed errors of everything that can go wrong.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { Char, INFINITUM, Midi, OscError, OscSymbol, Rgba, TimeTag } from '../../src/index.js';
import type { StreamedValue } from '../../src/oscquery/client.js';
import { queryNamespace, type RemoteNamespace } from '../../src/oscquery/client.js';
import { nestedDeeper } from '../../src/oscquery/client-http.js';
import type { OscQueryError } from '../../src/oscquery/errors.js';
import type { RemoteRange } from '../../src/oscquery/tree.js';
import { drain, take, until, within } from '../helpers/async.js';
import { bundle, fixture, floatMessage, intMessage, type Json, type OscQueryFixture } from '../helpers/oscq-fixture.js';

const TREE: Json = {
  FULL_PATH: '/',
  ACCESS: 0,
  DESCRIPTION: 'root node',
  CONTENTS: {
    avatar: {
      FULL_PATH: '/avatar',
      ACCESS: 0,
      CONTENTS: {
        change: { FULL_PATH: '/avatar/change', TYPE: 's', ACCESS: 3, VALUE: ['avtr_0001'] },
        parameters: {
          FULL_PATH: '/avatar/parameters',
          CONTENTS: {
            Speed: {
              FULL_PATH: '/avatar/parameters/Speed',
              TYPE: 'f',
              ACCESS: 3,
              VALUE: [1],
              RANGE: [{ MIN: 0, MAX: 1 }],
              UNIT: ['speed.m/s'],
              CLIPMODE: ['both'],
              DESCRIPTION: 'how fast',
            },
            Grounded: { FULL_PATH: '/avatar/parameters/Grounded', TYPE: 'T', ACCESS: 1, VALUE: [false] },
            // a bare VALUE and the one-object RANGE form
            Mode: { FULL_PATH: '/avatar/parameters/Mode', TYPE: 'i', ACCESS: 3, VALUE: 2, RANGE: { VALS: [0, 1, 2] } },
          },
        },
      },
    },
    types: {
      FULL_PATH: '/types',
      CONTENTS: {
        i: { FULL_PATH: '/types/i', TYPE: 'i', VALUE: [42] },
        h: { FULL_PATH: '/types/h', TYPE: 'h', VALUE: ['9007199254740993'] },
        h2: { FULL_PATH: '/types/h2', TYPE: 'h', VALUE: [-5] },
        f: { FULL_PATH: '/types/f', TYPE: 'f', VALUE: [1.5] },
        d: { FULL_PATH: '/types/d', TYPE: 'd', VALUE: [0.1] },
        s: { FULL_PATH: '/types/s', TYPE: 's', VALUE: ['héllo'] },
        S: { FULL_PATH: '/types/S', TYPE: 'S', VALUE: ['sym'] },
        c: { FULL_PATH: '/types/c', TYPE: 'c', VALUE: ['A'] },
        b: { FULL_PATH: '/types/b', TYPE: 'b', VALUE: ['AQID'] },
        m: { FULL_PATH: '/types/m', TYPE: 'm', VALUE: [[0, 144, 60, 127]] },
        r: { FULL_PATH: '/types/r', TYPE: 'r', VALUE: ['#ff800040'] },
        t: { FULL_PATH: '/types/t', TYPE: 't', VALUE: ['00000001.80000000'] },
        TF: { FULL_PATH: '/types/TF', TYPE: 'TF', VALUE: [true, false] },
        N: { FULL_PATH: '/types/N', TYPE: 'N', VALUE: [null] },
        I: { FULL_PATH: '/types/I', TYPE: 'I', VALUE: [null] },
        arr: {
          FULL_PATH: '/types/arr',
          TYPE: '[ff]i',
          VALUE: [[0.5, 1], 3],
          RANGE: [
            [
              { MIN: 0, MAX: 1 },
              { MIN: 0, MAX: 2 },
            ],
            { MIN: 0, MAX: 5 },
          ],
        },
      },
    },
    // the one-object RANGE for three arguments of different types
    multi: { FULL_PATH: '/multi', TYPE: 'ifs', VALUE: [1, 2.5, 'x'], RANGE: { MIN: 0, MAX: 10 } },
    // null entries (what crashes @defektu/oscquery), and values the server leaves empty
    nulls: {
      FULL_PATH: '/nulls',
      TYPE: 'fff',
      ACCESS: 2,
      RANGE: [null, { MIN: -1, MAX: 1 }, null],
      VALUE: [null, {}, 0.5],
    },
    misc: {
      FULL_PATH: '/misc',
      TYPE: 'ff',
      TAGS: ['a', 'b'],
      CRITICAL: true,
      EXTENDED_TYPE: ['position.cartesian.x', 'position.cartesian.y'],
      OVERLOADS: [{ TYPE: 'i' }],
      CLIPMODE: 'low',
      UNIT: 'distance.m',
    },
    // attributes a sloppy server gets wrong: left out, named in warnings
    bad: { FULL_PATH: '/bad', TYPE: 'i', ACCESS: 9, VALUE: ['str'], DESCRIPTION: 5 },
    // a node that is a method and a container at once
    both: { FULL_PATH: '/both', TYPE: 'f', VALUE: [0], CONTENTS: { x: { FULL_PATH: '/both/x', TYPE: 'i' } } },
  },
};

const hostInfo = (port: number): Json => ({
  NAME: 'fixture',
  OSC_IP: '0.0.0.0',
  OSC_PORT: port,
  OSC_TRANSPORT: 'UDP',
  WS_IP: '0.0.0.0',
  EXTENSIONS: { ACCESS: true, VALUE: true, RANGE: true, LISTEN: true, PATH_ADDED: true },
});

async function withFixture<T>(
  options: Partial<Parameters<typeof fixture>[0]>,
  body: (f: OscQueryFixture) => Promise<T>,
): Promise<T> {
  const f = await fixture({
    tree: TREE,
    hostInfo: (port) => ({ ...(hostInfo(9000) as object), WS_PORT: port }),
    ...options,
  });
  try {
    return await body(f);
  } finally {
    await f.stop();
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string, check?: (err: OscQueryError) => void) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof OscError, `an OscError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    check?.(err as OscQueryError);
    return true;
  });
}

describe('queryNamespace: parsing', () => {
  test('the tree, its paths, and every attribute form', async () => {
    await withFixture({}, async (f) => {
      const ns = await queryNamespace(f.url);
      assert.equal(ns.url, `${f.url}/`);
      assert.equal(ns.root.path, '/');
      assert.equal(ns.root.name, '');
      assert.equal(ns.root.description, 'root node');
      assert.equal(ns.root.access, 0);
      assert.deepEqual([...ns.root.contents.keys()], ['avatar', 'types', 'multi', 'nulls', 'misc', 'bad', 'both']);

      const speed = ns.get('/avatar/parameters/Speed');
      assert.ok(speed);
      assert.equal(speed.name, 'Speed');
      assert.equal(speed.type, 'f');
      assert.equal(speed.access, 3);
      assert.deepEqual(speed.value, [1]);
      assert.deepEqual(speed.range, [{ min: 0, max: 1, vals: undefined }]);
      assert.deepEqual(speed.unit, ['speed.m/s']);
      assert.deepEqual(speed.clipmode, ['both']);
      assert.equal(speed.description, 'how fast');
      assert.equal(speed.contents.size, 0);
      assert.equal(ns.get('/avatar/parameters')?.contents.get('Speed'), speed);

      // bare VALUE, one-object RANGE
      const mode = ns.get('/avatar/parameters/Mode');
      assert.deepEqual(mode?.value, [2]);
      assert.deepEqual(mode?.range, [{ min: undefined, max: undefined, vals: [0, 1, 2] }]);
      assert.deepEqual(ns.get('/avatar/parameters/Grounded')?.value, [false]);

      // the one object stands for each of three arguments, converted by each one's type
      const multi = ns.get('/multi');
      assert.deepEqual(multi?.value, [1, 2.5, 'x']);
      assert.equal(multi?.range?.length, 3);
      assert.deepEqual(multi?.range?.[0], { min: 0, max: 10, vals: undefined });
      assert.deepEqual(multi?.range?.[1], { min: 0, max: 10, vals: undefined });

      // null RANGE entries and empty values
      const nulls = ns.get('/nulls');
      assert.deepEqual(nulls?.range, [undefined, { min: -1, max: 1, vals: undefined }, undefined]);
      assert.deepEqual(nulls?.value, [undefined, undefined, 0.5]);
      assert.equal(nulls?.access, 2);

      const misc = ns.get('/misc');
      assert.deepEqual(misc?.tags, ['a', 'b']);
      assert.equal(misc?.critical, true);
      assert.deepEqual(misc?.extendedType, ['position.cartesian.x', 'position.cartesian.y']);
      assert.deepEqual(misc?.overloads, [{ TYPE: 'i' }]);
      assert.deepEqual(misc?.clipmode, ['low', 'low']); // one string for both arguments
      assert.deepEqual(misc?.unit, ['distance.m', 'distance.m']);

      const both = ns.get('/both');
      assert.equal(both?.type, 'f');
      assert.equal(ns.get('/both/x')?.type, 'i');
      assert.equal(ns.get('/nowhere'), undefined);
    });
  });

  test('VALUE of each type becomes the OSC value of that type', async () => {
    await withFixture({}, async (f) => {
      const ns = await queryNamespace(f.url);
      const v = (name: string) => ns.get(`/types/${name}`)?.value;
      const first = (name: string) => v(name)?.[0];
      assert.deepEqual(v('i'), [42]);
      assert.deepEqual(v('h'), [9007199254740993n]);
      assert.deepEqual(v('h2'), [-5n]);
      assert.deepEqual(v('f'), [1.5]);
      assert.deepEqual(v('d'), [0.1]);
      assert.deepEqual(v('s'), ['héllo']);
      assert.ok((first('S') as OscSymbol).equals(new OscSymbol('sym')));
      assert.ok((first('c') as Char).equals(new Char('A')));
      assert.deepEqual(v('b'), [Uint8Array.of(1, 2, 3)]);
      assert.ok((first('m') as Midi).equals(new Midi(0, 144, 60, 127)));
      assert.ok((first('r') as Rgba).equals(new Rgba(255, 128, 0, 64)));
      assert.equal((first('t') as TimeTag).toString(), '00000001.80000000');
      assert.deepEqual(v('TF'), [true, false]);
      assert.deepEqual(v('N'), [null]);
      assert.deepEqual(v('I'), [INFINITUM]);
      const arr = ns.get('/types/arr');
      assert.deepEqual(arr?.value, [[0.5, 1], 3]);
      const ranges = arr?.range ?? [];
      assert.equal(ranges.length, 2);
      assert.deepEqual(
        (ranges[0] as RemoteRange[]).map((r) => r.max),
        [1, 2],
      );
      assert.deepEqual((ranges[1] as RemoteRange).max, 5);
    });
  });

  test('unusable attributes are left out and named in warnings', async () => {
    await withFixture({}, async (f) => {
      const ns = await queryNamespace(f.url);
      const bad = ns.get('/bad');
      assert.equal(bad?.type, 'i');
      assert.equal(bad?.access, undefined);
      assert.deepEqual(bad?.value, [undefined]);
      assert.equal(bad?.description, undefined);
      const mine = ns.warnings.filter((w) => w.startsWith('/bad:'));
      assert.equal(mine.length, 3, mine.join('\n'));
      assert.ok(mine.some((w) => w.includes('ACCESS 9')));
      assert.ok(mine.some((w) => w.includes('"str" does not fit')));
    });
  });

  test('a URL with a path reads that subtree; host:port works; nodes() walks depth first', async () => {
    await withFixture({}, async (f) => {
      const ns = await queryNamespace(`127.0.0.1:${f.port}/avatar`);
      assert.equal(ns.root.path, '/avatar');
      assert.equal(ns.root.name, 'avatar');
      assert.deepEqual(
        [...ns.nodes()].map((n) => n.path),
        [
          '/avatar',
          '/avatar/change',
          '/avatar/parameters',
          '/avatar/parameters/Speed',
          '/avatar/parameters/Grounded',
          '/avatar/parameters/Mode',
        ],
      );
      assert.equal(ns.hostInfo.name, 'fixture'); // HOST_INFO from the server's root
      assert.ok(f.requests.includes('/?HOST_INFO'));
      const slash = await queryNamespace(`${f.url}/avatar/parameters/`);
      assert.equal(slash.root.path, '/avatar/parameters');
      assert.equal(slash.get('/avatar/parameters/Speed')?.type, 'f');
      assert.deepEqual(slash.warnings, []);
    });
  });

  test('HOST_INFO fields; a server without HOST_INFO is read with a warning', async () => {
    await withFixture({}, async (f) => {
      const ns = await queryNamespace(f.url);
      assert.deepEqual(
        { ...ns.hostInfo },
        {
          name: 'fixture',
          oscIp: '0.0.0.0',
          oscPort: 9000,
          oscTransport: 'UDP',
          wsIp: '0.0.0.0',
          wsPort: f.port,
          extensions: { ACCESS: true, VALUE: true, RANGE: true, LISTEN: true, PATH_ADDED: true },
        },
      );
      assert.equal(ns.oscUrl, 'osc.udp://127.0.0.1:9000/');
      assert.equal(ns.wsUrl, `ws://127.0.0.1:${f.port}/`); // WS_IP 0.0.0.0: the HTTP host
    });
    await withFixture({ hostInfo: null }, async (f) => {
      const ns = await queryNamespace(f.url);
      assert.equal(ns.hostInfo.oscPort, undefined);
      assert.equal(ns.oscUrl, undefined);
      assert.ok(ns.warnings.some((w) => w.startsWith('HOST_INFO: HTTP 404')));
      assert.throws(() => ns.address(), { code: 'ERR_OSC_QUERY_NOT_FOUND' });
    });
  });

  test('refresh() shows what changed on the server', async () => {
    await withFixture({ tree: structuredClone(TREE) }, async (f) => {
      const ns = await queryNamespace(f.url);
      assert.equal(ns.get('/added'), undefined);
      (f.tree as { CONTENTS: Record<string, Json> }).CONTENTS.added = { FULL_PATH: '/added', TYPE: 'i', VALUE: [7] };
      assert.equal(await ns.refresh(), ns);
      assert.deepEqual(ns.get('/added')?.value, [7]);
    });
  });
});

describe('queryNamespace: errors', () => {
  test('404, other statuses, bad JSON, wrong shapes', async () => {
    await withFixture({}, async (f) => {
      await rejectsWith(queryNamespace(`${f.url}/nothing/here`), 'ERR_OSC_QUERY_HTTP', (err) => {
        assert.equal(err.status, 404);
        assert.equal(err.url, `${f.url}/nothing/here`);
      });
      await rejectsWith(queryNamespace(`${f.url}/teapot`), 'ERR_OSC_QUERY_HTTP', (err) =>
        assert.equal(err.status, 418),
      );
      await rejectsWith(queryNamespace(`${f.url}/bad-json`), 'ERR_OSC_QUERY_INVALID');
    });
    for (const tree of [[1, 2], 'text', { CONTENTS: 5 }, { CONTENTS: { a: 3 } }, { CONTENTS: [] }] as Json[]) {
      await withFixture({ tree }, async (f) => {
        await rejectsWith(queryNamespace(f.url), 'ERR_OSC_QUERY_INVALID');
      });
    }
  });

  test('a body over maxBodySize is refused, whether declared or not', async () => {
    await withFixture({}, async (f) => {
      await rejectsWith(queryNamespace(`${f.url}/big`, { maxBodySize: 1 << 20 }), 'ERR_OSC_QUERY_TOO_LARGE');
      await rejectsWith(queryNamespace(`${f.url}/big-declared`), 'ERR_OSC_QUERY_TOO_LARGE'); // 64 MiB > 16 MiB default
      // the same body within a larger limit is read
      const ns = await queryNamespace(`${f.url}/big`, { maxBodySize: 4 << 20 });
      assert.equal(ns.root.description?.length, 40 * 64 * 1024);
    });
  });

  test('nesting deeper than maxDepth, more nodes than maxNodes', async () => {
    let deep: Json = { TYPE: 'i' };
    for (let i = 0; i < 20; i++) deep = { CONTENTS: { n: deep } };
    await withFixture({ tree: deep }, async (f) => {
      await rejectsWith(queryNamespace(f.url, { maxDepth: 8 }), 'ERR_OSC_QUERY_TOO_DEEP');
      const ns = await queryNamespace(f.url, { maxDepth: 20 });
      assert.equal([...ns.nodes()].length, 21);
      await rejectsWith(queryNamespace(f.url, { maxNodes: 10 }), 'ERR_OSC_QUERY_TOO_LARGE');
    });
    // a hostile VALUE nested far deeper than any tree: refused before JSON.parse sees it
    await withFixture({}, async (f) => {
      await rejectsWith(queryNamespace(`${f.url}/deep-value`), 'ERR_OSC_QUERY_TOO_DEEP');
    });
    // brackets inside strings do not count
    assert.equal(nestedDeeper('{"a": "[[[[\\"[[[[", "b": [1]}', 2), false);
    assert.equal(nestedDeeper('{"a": [[1]]}', 2), true);
  });

  test('refused connection, timeout, abort, bad URL', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    await rejectsWith(queryNamespace(`http://127.0.0.1:${port}/`), 'ERR_OSC_QUERY_CONNECT');

    await withFixture({}, async (f) => {
      await rejectsWith(queryNamespace(`${f.url}/slow`, { timeout: 100 }), 'ERR_OSC_TIMEOUT');
      const ac = new AbortController();
      const pending = queryNamespace(`${f.url}/slow`, { signal: ac.signal });
      ac.abort();
      await rejectsWith(pending, 'ERR_OSC_ABORTED');
      await rejectsWith(queryNamespace(f.url, { signal: AbortSignal.abort() }), 'ERR_OSC_ABORTED');
    });
    await rejectsWith(queryNamespace('osc.udp://localhost:9000'), 'ERR_OSC_INVALID_URL');
    await rejectsWith(queryNamespace('http://[nope'), 'ERR_OSC_INVALID_URL');
  });
});

describe('sending: target() and address()', () => {
  test('a remote float gets ,f for a 1, a boolean T or F; address() uses the HTTP host for OSC_IP 0.0.0.0', async () => {
    const udp = createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const oscPort = udp.address().port;
    const received: Buffer[] = [];
    const waiters: (() => void)[] = [];
    udp.on('message', (m) => {
      received.push(m);
      for (const w of waiters.splice(0)) w();
    });
    const next = async (n: number) => {
      while (received.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    };
    try {
      await withFixture({ hostInfo: (port) => ({ ...(hostInfo(oscPort) as object), WS_PORT: port }) }, async (f) => {
        const ns = await queryNamespace(f.url);
        const address = ns.address();
        try {
          assert.equal(address.url, `osc.udp://127.0.0.1:${oscPort}/`);
          assert.equal(ns.oscUrl, address.url);

          const speed = ns.target('/avatar/parameters/Speed');
          assert.deepEqual(speed, { path: '/avatar/parameters/Speed', typespec: 'f' });
          await address.send(speed, 1);
          await within(5000, 'the float', next(1));
          assert.deepEqual(received[0], floatMessage('/avatar/parameters/Speed', 1));

          // VRChat's booleans: TYPE T, sent as T or F by value
          await address.send(ns.target('/avatar/parameters/Grounded'), false);
          await within(5000, 'the boolean', next(2));
          assert.ok(received[1]?.includes(Buffer.from(',F\0\0')), received[1]?.toString('latin1'));

          // typed at compile time with an expected typespec
          const mode = ns.target('/avatar/parameters/Mode', 'i');
          await address.send(mode, 2);
          await within(5000, 'the int', next(3));
          assert.deepEqual(received[2], intMessage('/avatar/parameters/Mode', 2));

          assert.throws(() => ns.target('/avatar/parameters/Speed', 'i'), { code: 'ERR_OSC_QUERY_TYPE_MISMATCH' });
          assert.throws(() => ns.target('/avatar'), { code: 'ERR_OSC_QUERY_NOT_FOUND' });
          assert.throws(() => ns.target('/nowhere'), { code: 'ERR_OSC_QUERY_NOT_FOUND' });
        } finally {
          await address.close();
        }
        // an explicit host wins; OSC_IP is used when it is a real address
        const other = ns.address({ host: 'localhost' });
        assert.equal(other.url, `osc.udp://localhost:${oscPort}/`);
        await other.close();
      });
      await withFixture(
        { hostInfo: () => ({ OSC_IP: '127.0.0.2', OSC_PORT: 9999, OSC_TRANSPORT: 'tcp' }) },
        async (f) => {
          const ns = await queryNamespace(f.url);
          assert.equal(ns.oscUrl, 'osc.tcp://127.0.0.2:9999/');
        },
      );
    } finally {
      udp.close();
    }
  });
});

describe('streaming: listen() and changes()', () => {
  const SPEED = '/avatar/parameters/Speed';

  test('listen() yields streamed values (bundles too), skips the rest, sends IGNORE on break', async () => {
    const problems: OscError[] = [];
    await withFixture(
      {
        onListen: (path, socket) => {
          if (path !== SPEED) return;
          socket.send(floatMessage(SPEED, 0.25));
          socket.send(Buffer.from('not osc at all')); // malformed binary
          socket.send('{ this is not json'); // garbage text frame: listen() ignores text
          socket.send(floatMessage('/avatar/parameters/Other', 9)); // not listened to
          socket.send(bundle(1, 0x80000000, floatMessage(SPEED, 0.5)));
          socket.send(floatMessage(SPEED, 0.75));
        },
      },
      async (f) => {
        const ns = await queryNamespace(f.url);
        const stream = ns.listen(SPEED, { onProblem: (e) => problems.push(e) });
        const values = await take(stream, 3);
        assert.deepEqual(
          values.map((v: StreamedValue) => [v.path, v.typetags, v.args[0]]),
          [
            [SPEED, 'f', 0.25],
            [SPEED, 'f', 0.5],
            [SPEED, 'f', 0.75],
          ],
        );
        assert.equal(values[1]?.timetag.toString(), '00000001.80000000');
        assert.ok(values[0]?.timetag.equals(TimeTag.IMMEDIATE));
        assert.deepEqual(f.commands[0], { COMMAND: 'LISTEN', DATA: SPEED });
        // take() broke out of the loop: IGNORE, then the socket closes
        if (!f.commands.some((c) => c.COMMAND === 'IGNORE')) await within(5000, 'IGNORE', once(f, 'command'));
        assert.deepEqual(f.commands[1], { COMMAND: 'IGNORE', DATA: SPEED });
        if (f.sockets.size > 0) await within(5000, 'the close', once([...f.sockets][0] as never, 'close'));
        assert.equal(stream.stats.malformed, 1);
        assert.equal(stream.stats.ignored, 2); // the text frame and /Other
        assert.equal(problems.length, 1);
        assert.equal(problems[0]?.name, 'OscDecodeError');
      },
    );
  });

  test('listen() bounds its queue: the oldest are dropped and counted', async () => {
    await withFixture(
      {
        onListen: (path, socket) => {
          for (let i = 0; i < 10; i++) socket.send(floatMessage(path, i));
          socket.send(intMessage(path, -1)); // the marker: everything before it has arrived
        },
      },
      async (f) => {
        const ns = await queryNamespace(f.url);
        await using stream = ns.listen(['/a'], { highWaterMark: 4 });
        // nobody reads until all 11 have arrived: only the newest 4 are kept
        await until(5000, 'all 11 values', () => stream.stats.received === 11);
        assert.equal(stream.stats.dropped, 7);
        assert.equal(stream.stats.pending, 4);
        const kept = await take(stream, 4);
        assert.deepEqual(
          kept.map((v) => v.args[0]),
          [7, 8, 9, -1],
        );
      },
    );
  });

  test('a frame over maxPayload ends the stream with ERR_OSC_QUERY_TOO_LARGE', async () => {
    await withFixture(
      {
        onListen: (_path, socket) => {
          socket.send(floatMessage('/a', 1));
          socket.send(Buffer.concat([floatMessage('/a', 2), Buffer.alloc(8192)]));
        },
      },
      async (f) => {
        const ns = await queryNamespace(f.url);
        const seen: StreamedValue[] = [];
        await rejectsWith(
          (async () => {
            for await (const v of ns.listen('/a', { maxPayload: 1024 })) seen.push(v);
          })(),
          'ERR_OSC_QUERY_TOO_LARGE',
        );
        assert.deepEqual(
          seen.map((v) => v.args[0]),
          [1],
        ); // what came before is delivered first
      },
    );
  });

  test('listen(): no WebSocket, a server that closes abnormally, abort, bad arguments', async () => {
    await withFixture({ ws: false }, async (f) => {
      const ns = await queryNamespace(f.url);
      await rejectsWith(drain(ns.listen('/a')), 'ERR_OSC_QUERY_HTTP');
    });
    await withFixture({ onListen: (_p, socket) => socket.terminate() }, async (f) => {
      const ns = await queryNamespace(f.url);
      await rejectsWith(drain(ns.listen('/a')), 'ERR_OSC_QUERY_STREAM');
    });
    await withFixture({}, async (f) => {
      const ns = await queryNamespace(f.url);
      const ac = new AbortController();
      const stream = ns.listen('/a', { signal: ac.signal });
      await stream.opened;
      const pending = stream.next();
      ac.abort();
      assert.deepEqual(await pending, { value: undefined, done: true });
      assert.throws(() => ns.listen([]), { code: 'ERR_OSC_INVALID_OPTIONS' });
      assert.throws(() => ns.listen('no-slash'), { code: 'ERR_OSC_INVALID_OPTIONS' });
      assert.throws(() => ns.listen('/a', { highWaterMark: 0 }), { code: 'ERR_OSC_INVALID_OPTIONS' });
    });
    await withFixture(
      { hostInfo: (port) => ({ OSC_PORT: 9000, WS_PORT: port, EXTENSIONS: { LISTEN: false } }) },
      async (f) => {
        const ns = await queryNamespace(f.url);
        assert.throws(() => ns.listen('/a'), { code: 'ERR_OSC_QUERY_NOT_SUPPORTED' });
      },
    );
  });

  test('changes() yields PATH_* events; follow: true refreshes before each', async () => {
    await withFixture({ tree: structuredClone(TREE) }, async (f) => {
      const ns: RemoteNamespace = await queryNamespace(f.url);
      const problems: OscError[] = [];
      const stream = ns.changes({ follow: true, onProblem: (e) => problems.push(e) });
      try {
        await stream.opened;
        (f.tree as { CONTENTS: Record<string, Json> }).CONTENTS.fresh = { FULL_PATH: '/fresh', TYPE: 'f', VALUE: [3] };
        f.broadcast('garbage');
        f.broadcast(JSON.stringify({ COMMAND: 'PATH_ADDED' })); // no DATA
        f.broadcast(JSON.stringify({ COMMAND: 'SOMETHING_NEW', DATA: 1 }));
        f.broadcast(JSON.stringify({ COMMAND: 'PATH_ADDED', DATA: '/fresh' }));
        f.broadcast(JSON.stringify({ COMMAND: 'PATH_RENAMED', DATA: { OLD: '/misc', NEW: '/misc2' } }));
        f.broadcast(JSON.stringify({ COMMAND: 'PATH_REMOVED', DATA: '/bad' }));
        const first = await stream.next();
        assert.deepEqual(first, { value: { command: 'PATH_ADDED', path: '/fresh' }, done: false });
        assert.deepEqual(ns.get('/fresh')?.value, [3]); // refreshed before it was yielded
        const rest = await take(stream, 2);
        assert.deepEqual(rest, [
          { command: 'PATH_RENAMED', path: '/misc2', oldPath: '/misc' },
          { command: 'PATH_REMOVED', path: '/bad' },
        ]);
        assert.equal(stream.stats.malformed, 2);
        assert.equal(stream.stats.ignored, 1);
        assert.deepEqual(
          problems.map((p) => p.code),
          ['ERR_OSC_QUERY_INVALID', 'ERR_OSC_QUERY_INVALID'],
        );
      } finally {
        await stream.close();
      }
      assert.equal(f.commands.length, 0); // changes() sends no LISTEN
    });
  });
});

// OSCQuery server conformance, checked with an independent client: plain fetch and a plain `ws`
// WebSocket, reading the JSON and frames as the Vidvox proposal describes them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import {
  Address,
  Char,
  encode,
  INFINITUM,
  Message,
  Midi,
  OscSymbol,
  Server,
  type Started,
  TimeTag,
} from '../../src/index.js';
import { OscQueryServer } from '../../src/oscquery/server.js';
import { take, until, within } from '../helpers/async.js';

const LOCAL = '127.0.0.1';

async function fixture() {
  const server = await new Server(`osc.udp://${LOCAL}:0`).start();
  const freq = server.route('/synth/freq', 'f', {
    range: { min: 20, max: 20000 },
    unit: 'Hz',
    description: 'oscillator frequency',
    clipmode: 'both',
    critical: false,
    tags: ['synth'],
  });
  const on = server.route('/synth/on', 'T');
  const name = server.route('/synth/name', 's');
  const xy = server.route('/pad/xy', 'ff', { range: [{ min: 0, max: 1 }, null], extendedType: ['position.x', null] });
  const mode = server.route('/pad/mode', 'i', { range: { vals: [0, 1, 2] }, access: 'write' });
  server.route('/pad', 'i'); // a route at a container's path
  server.route('/go'); // no typespec: any arguments
  server.match('/any/*'); // a pattern: not a path a peer could send to
  const query = await new OscQueryServer(server, { name: 'fixture' }).start();
  return {
    server,
    query,
    routes: { freq, on, name, xy, mode },
    async [Symbol.asyncDispose]() {
      await query.stop();
      await server.stop();
    },
  };
}

async function get(base: string, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(path, base));
  const text = await res.text();
  const json = res.headers.get('content-type') === 'application/json';
  return { status: res.status, body: json ? JSON.parse(text) : text === '' ? undefined : text };
}

/** `get` until `ready` says the answer is the one awaited (a value is kept when a handler has run). */
async function eventually(
  base: string,
  path: string,
  ready: (r: { status: number; body: unknown }) => boolean,
): Promise<{ status: number; body: unknown }> {
  return within(
    5000,
    `${path} to answer as expected`,
    (async () => {
      for (;;) {
        const r = await get(base, path);
        if (ready(r)) return r;
      }
    })(),
  );
}

/** Resolves once the server has read everything `socket` sent before (ws answers a ping in order). */
async function flushed(socket: WebSocket): Promise<void> {
  const pong = new Promise((resolve) => socket.once('pong', resolve));
  socket.ping();
  await within(5000, 'a pong', pong);
}

async function ws(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'));
  await within(
    5000,
    'the WebSocket to open',
    new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    }),
  );
  return socket;
}

/** The next frame of `socket` that is binary (`true`) or text (`false`). */
function frame(socket: WebSocket, binary: boolean): Promise<Buffer> {
  return within(
    5000,
    `a ${binary ? 'binary' : 'text'} frame`,
    new Promise((resolve) => {
      const on = (data: Buffer, isBinary: boolean) => {
        if (isBinary !== binary) return;
        socket.off('message', on);
        resolve(data);
      };
      socket.on('message', on);
    }),
  );
}

test('oscquery: the tree, every attribute, and the forms of RANGE', async () => {
  await using f = await fixture();
  const { status, body } = await get(f.query.url as string, '/');
  assert.equal(status, 200);
  assert.deepEqual(body, {
    FULL_PATH: '/',
    DESCRIPTION: 'fixture',
    ACCESS: 0,
    CONTENTS: {
      synth: {
        FULL_PATH: '/synth',
        ACCESS: 0,
        CONTENTS: {
          freq: {
            FULL_PATH: '/synth/freq',
            TYPE: 'f',
            ACCESS: 3,
            RANGE: [{ MIN: 20, MAX: 20000 }],
            DESCRIPTION: 'oscillator frequency',
            TAGS: ['synth'],
            UNIT: ['Hz'],
            CLIPMODE: ['both'],
            CRITICAL: false,
          },
          on: { FULL_PATH: '/synth/on', TYPE: 'T', ACCESS: 3 },
          name: { FULL_PATH: '/synth/name', TYPE: 's', ACCESS: 3 },
        },
      },
      pad: {
        FULL_PATH: '/pad',
        TYPE: 'i',
        ACCESS: 3,
        CONTENTS: {
          xy: {
            FULL_PATH: '/pad/xy',
            TYPE: 'ff',
            ACCESS: 3,
            RANGE: [{ MIN: 0, MAX: 1 }, null],
            EXTENDED_TYPE: ['position.x', null],
          },
          mode: { FULL_PATH: '/pad/mode', TYPE: 'i', ACCESS: 2, RANGE: [{ VALS: [0, 1, 2] }] },
        },
      },
      go: { FULL_PATH: '/go', ACCESS: 3 },
    },
  });
  // a subtree, with or without a trailing slash
  assert.deepEqual((await get(f.query.url as string, '/synth/name')).body, {
    FULL_PATH: '/synth/name',
    TYPE: 's',
    ACCESS: 3,
  });
  assert.equal(((await get(f.query.url as string, '/synth/')).body as { FULL_PATH: string }).FULL_PATH, '/synth');
  // one range for two arguments stands for both
  f.server.route('/both', 'ff', { range: { min: -1, max: 1 } });
  assert.deepEqual((await get(f.query.url as string, '/both?RANGE')).body, {
    RANGE: [
      { MIN: -1, MAX: 1 },
      { MIN: -1, MAX: 1 },
    ],
  });
});

test('oscquery: ?ATTR, ?HOST_INFO, 204, 400, 404 and 405', async () => {
  await using f = await fixture();
  const base = f.query.url as string;
  assert.deepEqual(await get(base, '/synth/freq?TYPE'), { status: 200, body: { TYPE: 'f' } });
  assert.equal((await get(base, '/synth/freq?VALUE')).status, 204); // no value yet
  assert.equal((await get(base, '/synth/freq?BOGUS')).status, 400);
  assert.equal((await get(base, '/nothing/here')).status, 404);
  assert.equal((await get(base, '/any/x')).status, 404); // a pattern route names no path
  assert.equal((await fetch(new URL('/synth/freq', base), { method: 'POST' })).status, 405);
  const info = (await get(base, '/?HOST_INFO')).body as Record<string, unknown>;
  assert.equal(info.NAME, 'fixture');
  assert.equal(info.OSC_IP, LOCAL);
  assert.equal(info.OSC_PORT, f.server.port);
  assert.equal(info.OSC_TRANSPORT, 'UDP');
  assert.equal(info.WS_IP, LOCAL);
  assert.equal(info.WS_PORT, f.query.port);
  assert.equal((info.EXTENSIONS as Record<string, boolean>).LISTEN, true);
  // names with characters a URL escapes: decoded before they are looked up
  f.server.route('/with%/ü', 'i');
  assert.deepEqual(await get(base, '/with%25/%C3%BC?TYPE'), { status: 200, body: { TYPE: 'i' } });
});

test('oscquery: VALUE is the last value received, or one set; each type as JSON', async () => {
  await using f = await fixture();
  const base = f.query.url as string;
  const address = new Address(f.server.url as string);
  try {
    await address.send(f.routes.freq, 440);
    const value = await eventually(base, '/synth/freq?VALUE', (r) => r.status === 200);
    assert.deepEqual(value.body, { VALUE: [440] });
    f.query.set(f.routes.name, 'hello');
    assert.deepEqual((await get(base, '/synth/name?VALUE')).body, { VALUE: ['hello'] });
    const all = f.server.route('/all', 'ihsScTFNImt');
    f.query.set(
      all,
      ...([
        -7,
        2n ** 60n,
        'str',
        new OscSymbol('sym'),
        new Char('A'),
        true,
        false,
        null,
        INFINITUM,
        new Midi(1, 0x90, 60, 127),
        TimeTag.fromUnixSeconds(1),
      ] as never[]),
    );
    assert.deepEqual((await get(base, '/all?VALUE')).body, {
      VALUE: [-7, '1152921504606846976', 'str', 'sym', 'A', true, false, null, null, [1, 0x90, 60, 127], 1],
    });
    // write-only: no VALUE
    await address.send(f.routes.mode, 2);
    await until(5000, 'mode dispatched', () => f.server.stats.dispatched >= 2);
    assert.equal((await get(base, '/pad/mode?VALUE')).status, 204);
  } finally {
    await address.close();
  }
});

test('oscquery: LISTEN streams a path’s values as binary OSC; IGNORE stops them', async () => {
  await using f = await fixture();
  const peer = await ws(f.query.url as string);
  const address = new Address(f.server.url as string);
  try {
    peer.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/synth/freq' }));
    peer.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/synth/name' }));
    await flushed(peer);
    const first = frame(peer, true);
    f.query.set(f.routes.freq, 261.5);
    assert.equal(
      (await first).toString('hex'),
      Buffer.from(encode(Message.typed('/synth/freq', 'f', 261.5))).toString('hex'),
    );
    // a value the server receives from the network flows too
    const second = frame(peer, true);
    await address.send(f.routes.freq, 330);
    assert.equal(
      (await second).toString('hex'),
      Buffer.from(encode(Message.typed('/synth/freq', 'f', 330))).toString('hex'),
    );
    peer.send(JSON.stringify({ COMMAND: 'IGNORE', DATA: '/synth/freq' }));
    const third = frame(peer, true);
    // the peer's IGNORE, then a freq value (not sent to it), then a name (sent): the name comes first
    peer.send(encode(new Message('/synth/name', 'x'))); // OSC from the peer goes to the server...
    const name = await third; // ...whose route sets the value, which streams back: the name
    assert.equal(name.toString('hex'), Buffer.from(encode(Message.typed('/synth/name', 's', 'x'))).toString('hex'));
    const fourth = frame(peer, true);
    f.query.set(f.routes.freq, 1);
    f.query.set(f.routes.name, 'after');
    assert.equal(
      (await fourth).toString('hex'),
      Buffer.from(encode(Message.typed('/synth/name', 's', 'after'))).toString('hex'),
    );
  } finally {
    peer.terminate();
    await address.close();
  }
});

test('oscquery: PATH_ADDED and PATH_REMOVED as routes come and go', async () => {
  await using f = await fixture();
  const peer = await ws(f.query.url as string);
  try {
    const added = frame(peer, false);
    const gain = f.server.route('/synth/gain', 'f');
    assert.deepEqual(JSON.parse((await added).toString()), { COMMAND: 'PATH_ADDED', DATA: '/synth/gain' });
    assert.equal((await get(f.query.url as string, '/synth/gain?TYPE')).status, 200);
    const removed = frame(peer, false);
    f.server.unroute(gain);
    assert.deepEqual(JSON.parse((await removed).toString()), { COMMAND: 'PATH_REMOVED', DATA: '/synth/gain' });
    assert.equal((await get(f.query.url as string, '/synth/gain')).status, 404);
  } finally {
    peer.terminate();
  }
});

test('oscquery: OSC a peer sends on the WebSocket is dispatched, and a reply goes back on it', async () => {
  await using f = await fixture();
  f.server.route('/ping', 'i').on((args, m) => m.source.send('/pong', args[0] + 1));
  const peer = await ws(f.query.url as string);
  try {
    const reply = frame(peer, true);
    peer.send(encode(new Message('/ping', 41)));
    assert.equal((await reply).toString('hex'), Buffer.from(encode(new Message('/pong', 42))).toString('hex'));
  } finally {
    peer.terminate();
  }
});

test('oscquery: a peer is bounded in what it may ask; bad commands are ignored', async () => {
  await using f = await fixture();
  const peer = await ws(f.query.url as string);
  try {
    const closed = new Promise<void>((resolve) => peer.once('close', () => resolve()));
    peer.send('not json');
    peer.send(JSON.stringify({ COMMAND: 'LISTEN' }));
    peer.send(JSON.stringify(null));
    for (let i = 0; i <= 4096; i++) peer.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: `/p/${i}` }));
    await within(5000, 'the peer to be closed', closed);
    // the server goes on
    assert.equal((await get(f.query.url as string, '/synth/freq?TYPE')).status, 200);
  } finally {
    peer.terminate();
  }
});

test('oscquery: stop() is idempotent, frees its port, and leaves the OSC server running', async () => {
  const server: Started = await new Server(`osc.udp://${LOCAL}:0`).start();
  try {
    const query = await new OscQueryServer(server).start();
    const port = query.port as number;
    const sub = server.route('/x', 'i').sub();
    await query.stop();
    await query.stop();
    assert.equal(query.url, undefined);
    await assert.rejects(fetch(`http://${LOCAL}:${port}/`));
    const again = await new OscQueryServer(server, { port }).start();
    assert.equal(again.port, port);
    await again.stop();
    const address = new Address(server.url);
    await address.send('/x', 1);
    assert.deepEqual(await take(sub, 1), [[1]]);
    await address.close();
  } finally {
    await server.stop();
  }
});

test('examples/oscquery.ts: its first line is the namespace URL, which serves the synth', {
  timeout: 30_000,
}, async () => {
  const { Running } = await import('../helpers/proc.js');
  const example = new Running([process.execPath, '--import', 'tsx', 'examples/oscquery.ts']);
  try {
    await example.until(() => example.stdout.includes('\n'), 'the example to print its URL', 20_000);
    const url = example.stdout.toString().split('\n')[0] as string;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.deepEqual((await get(url, '/synth/freq?VALUE')).body, { VALUE: [440] });
    assert.deepEqual((await get(url, '/synth/freq?RANGE')).body, { RANGE: [{ MIN: 20, MAX: 20000 }] });
    assert.deepEqual((await get(url, '/synth/on?TYPE')).body, { TYPE: 'T' });
    assert.equal(((await get(url, '/?HOST_INFO')).body as { OSC_TRANSPORT: string }).OSC_TRANSPORT, 'UDP');
  } finally {
    const { code, signal } = await example.stop();
    assert.ok(code === 0 || signal === 'SIGTERM', `exit ${code} ${signal}`);
  }
});

test("oscquery: aiolo's client reads aiolo's server, sends typed to it, and LISTENs to it", async () => {
  await using f = await fixture();
  const { queryNamespace } = await import('../../src/index.js');
  const ns = await queryNamespace(f.query.url as string);
  assert.equal(ns.hostInfo.name, 'fixture');
  assert.equal(ns.get('/synth/freq')?.type, 'f');
  assert.deepEqual(ns.get('/pad/xy')?.range?.[1], undefined);
  const address = ns.address();
  try {
    const got = f.routes.freq.next({ incoming: true, timeout: 5000 });
    await address.send(ns.target('/synth/freq'), 1); // sent as f, as the namespace types it
    assert.equal((await got).typetags, 'f');
    const stream = ns.listen('/synth/name');
    try {
      await stream.opened;
      const next = stream[Symbol.asyncIterator]().next();
      // (the server reads the LISTEN before the value: the stream is open once it was sent, and a
      // value set before the server read it would not stream; so set until one arrives)
      const value = await within(
        5000,
        'a streamed value',
        (async () => {
          let done = false;
          void next.then(() => {
            done = true;
          });
          for (let i = 0; !done; i++) {
            f.query.set(f.routes.name, `v${i}`);
            await get(f.query.url as string, '/synth/name?TYPE'); // a round trip between tries
          }
          return next;
        })(),
      );
      assert.equal(value.done, false);
      assert.equal(value.value?.path, '/synth/name');
      assert.match(String(value.value?.args[0]), /^v\d+$/);
    } finally {
      await stream.close();
    }
  } finally {
    await address.close();
  }
});

test('oscquery: a hostile peer is bounded — 64 WebSocket peers, 128 sockets, a message in too many pieces', async (t) => {
  const { connect } = await import('node:net');
  await using f = await fixture();
  const port = f.query.port as number;
  const peers: WebSocket[] = [];
  const sockets: import('node:net').Socket[] = [];
  try {
    // past 64 peers, an upgrade is answered 503 (before: every one was taken, each able to hold 1 MiB)
    for (let i = 0; i < 64; i++) peers.push(await ws(f.query.url as string));
    const refused = await within(
      5000,
      'the 65th peer',
      new Promise<string>((resolve) => {
        const extra = new WebSocket(`ws://${LOCAL}:${port}/`);
        peers.push(extra);
        extra.once('open', () => resolve('open'));
        extra.once('error', (err) => resolve(err.message));
      }),
    );
    assert.match(refused, /503/);
    // a message fed a byte at a time closes its peer (as a WebSocket Server's connections)
    const [victim] = peers;
    const closed = new Promise<number>((resolve) => victim?.once('close', (code) => resolve(code)));
    const raw = (victim as unknown as { _socket: import('node:net').Socket })._socket;
    const header = Buffer.from([0x82, 0xfe, 0x10, 0x00, 1, 2, 3, 4]); // masked, 4096 bytes announced
    raw.write(header);
    for (let i = 0; i < 2000 && !raw.destroyed; i++) {
      raw.write(Buffer.from([0]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await within(5000, 'the victim to be closed', closed), 1008); // policy: too many pieces
    for (const p of peers) p.terminate();
    peers.length = 0;
    // sockets that never finish a request: at most 128 are held; the rest are closed at once
    let closedEarly = 0;
    for (let i = 0; i < 200; i++) {
      const s = connect(port, LOCAL);
      s.on('error', () => {});
      s.on('close', () => closedEarly++);
      s.write('GET / HTTP/1.1\r\nHost: x\r\n'); // and nothing more
      sockets.push(s);
    }
    await until(5000, 'the sockets over the bound to be closed', () => closedEarly >= 200 - 128);
    t.diagnostic(`${closedEarly} of 200 unfinished requests closed at once; the rest wait for the 10 s timeout`);
  } finally {
    for (const p of peers) p.terminate();
    for (const s of sockets) s.destroy();
  }
});

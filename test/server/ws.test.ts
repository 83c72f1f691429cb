// OSC over WebSocket, Node to Node: a Server on osc.ws:// and Addresses (and raw `ws` clients,
// which can misbehave as no Address would) on loopback.
import assert from 'node:assert/strict';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import {
  Address,
  Bundle,
  type ConnectionError,
  encode,
  Message,
  type OscDecodeError,
  type ReceivedPacket,
  type SendError,
  Server,
  type Started,
  TimeTag,
} from '../../src/index.js';
import { event, take, until, within } from '../helpers/async.js';

async function wsServer(options: ConstructorParameters<typeof Server>[0] = {}): Promise<Started> {
  const o = typeof options === 'string' ? { url: options } : options;
  return new Server({ url: 'osc.ws://127.0.0.1:0/', ...o }).start();
}

/** A raw `ws` client, open. */
async function raw(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url.replace(/^osc\.ws:/, 'ws:'));
  await within(
    5000,
    'a raw WebSocket to open',
    new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }),
  );
  return ws;
}

function closeRaw(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.terminate();
  });
}

test('ws: a URL and its parts; the server says where it listens', async () => {
  const server = await wsServer({ url: 'osc.ws://127.0.0.1:0/osc' });
  try {
    assert.equal(server.proto, 'ws');
    assert.equal(server.path, '/osc');
    assert.equal(server.url, `osc.ws://127.0.0.1:${server.port}/osc`);
    const alias = new Address(`ws://127.0.0.1:${server.port}/osc`);
    assert.equal(alias.proto, 'ws');
    assert.equal(alias.url, `osc.ws://127.0.0.1:${server.port}/osc`);
    await alias.close();
  } finally {
    await server.stop();
  }
});

test('ws: every packet arrives byte for byte, one per binary message, and is dispatched typed', async () => {
  const server = await wsServer();
  const address = new Address(server.url);
  try {
    const packets = server.packets();
    const typed = server.route('/t', 'ihfdsTFNb').sub();
    const messages = [new Message('/a'), new Message('/b', 'hello', 1, 2.5, 3n, true, null, new Uint8Array([1, 2, 3]))];
    const bundle = new Bundle([new Message('/c', 1), new Bundle([new Message('/d', 'x')], TimeTag.now().add(10))]);
    for (const m of messages) await address.message(m);
    await address.bundle(bundle);
    const got = (await take(packets, 3)) as ReceivedPacket[];
    assert.deepEqual(
      got.map((p) => Buffer.from(p.data).toString('hex')),
      [...messages, bundle].map((m) => Buffer.from(encode(m)).toString('hex')),
    );
    await address.send(
      { path: '/t', typespec: 'ihfdsTFNb' },
      7,
      8n,
      1.5,
      2.5,
      's',
      true,
      false,
      null,
      new Uint8Array([9]),
    );
    assert.deepEqual(await take(typed, 1), [[7, 8n, 1.5, 2.5, 's', true, false, null, new Uint8Array([9])]]);
  } finally {
    await address.close();
    await server.stop();
  }
});

test('ws: a reply goes to the client that sent, and to no other', async () => {
  const server = await wsServer();
  const echo = server.route('/who', 'i');
  // (replies to clients that have gone, as the test ends, reject: ignored)
  echo.on(async ([n], m) => m.source.send('/you', n), { onError: () => {} });
  const clients = await Promise.all([0, 1, 2, 3].map(() => new Server({ port: 0, host: '127.0.0.1' }).start()));
  try {
    const addresses = clients.map((c) => c.address(server.url));
    const routes = clients.map((c) => c.route('/you', 'i'));
    let subs = routes.map((r) => r.sub());
    const connected = event(server, 'connection');
    await Promise.all(addresses.map((a, i) => a.send('/who', i * 10)));
    const [source] = (await connected) as [Address];
    assert.match(source.url, /^osc\.ws:\/\/127\.0\.0\.1:\d+\/$/);
    for (const [i, sub] of subs.entries()) assert.deepEqual(await take(sub, 1), [[i * 10]]);
    // and each received exactly one: a second round proves no stray reply was queued before it
    subs = routes.map((r) => r.sub());
    await Promise.all(addresses.map((a, i) => a.send('/who', i * 10 + 1)));
    for (const [i, sub] of subs.entries()) assert.deepEqual(await take(sub, 1), [[i * 10 + 1]]);
    assert.equal(server.stats.connections, 4);
    // a request from a server's address takes its reply from its own connection
    const reply = await addresses[2]?.request('/who', [99], { reply: { path: '/you', typespec: 'i' } });
    assert.deepEqual(reply?.args, [99]);
  } finally {
    for (const c of clients) await c.stop();
    await server.stop();
  }
});

test('ws: a text message or a bad packet is reported as malformed, and the connection goes on', async () => {
  const server = await wsServer();
  const ws = await raw(server.url);
  try {
    const sub = server.route('/ok', 'i').sub();
    const malformed: OscDecodeError[] = [];
    server.on('malformed', (err) => malformed.push(err));
    ws.send('/ok ,i 1'); // text
    ws.send(new Uint8Array([1, 2, 3])); // binary, not OSC
    ws.send(encode(new Message('/ok', 5)));
    assert.deepEqual(await take(sub, 1), [[5]]);
    assert.deepEqual(
      malformed.map((e) => e.code),
      ['ERR_OSC_TEXT_FRAME', 'ERR_OSC_INVALID_PATH'],
    );
    assert.equal(server.stats.malformed, 2);
    assert.equal(ws.readyState, WebSocket.OPEN);
  } finally {
    await closeRaw(ws);
    await server.stop();
  }
});

test('ws: a message over maxPacketSize closes that connection only, reported; others go on', async () => {
  const server = await wsServer({ maxPacketSize: 1024 });
  const big = await raw(server.url);
  const address = new Address(server.url);
  try {
    const sub = server.route('/ok', 'i').sub();
    const malformed = event(server, 'malformed');
    const closed = new Promise<number>((resolve) => big.once('close', (code) => resolve(code)));
    big.send(encode(new Message('/big', new Uint8Array(4096))));
    const [err] = (await malformed) as [OscDecodeError];
    assert.equal(err.code, 'ERR_OSC_TOO_LARGE');
    assert.equal(await within(5000, 'the connection to close', closed), 1009); // "message too big"
    await address.send('/ok', 1);
    assert.deepEqual(await take(sub, 1), [[1]]);
  } finally {
    await closeRaw(big);
    await address.close();
    await server.stop();
  }
});

test('ws: other paths are answered 404, plain HTTP 426, and neither reaches the server', async () => {
  const server = await wsServer({ url: 'osc.ws://127.0.0.1:0/osc' });
  try {
    const elsewhere = new WebSocket(`ws://127.0.0.1:${server.port}/other`);
    const error = await within(
      5000,
      'the upgrade to be refused',
      new Promise<Error>((resolve) => elsewhere.once('error', resolve)),
    );
    assert.match(error.message, /404/);
    const status = await within(
      5000,
      'a plain GET',
      new Promise<number>((resolve, reject) => {
        get(`http://127.0.0.1:${server.port}/osc`, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).once('error', reject);
      }),
    );
    assert.equal(status, 426);
    assert.equal(server.stats.connections, 0);
  } finally {
    await server.stop();
  }
});

test("ws: a server shares a web app's HTTP server on a path, and leaves it running when it stops", async () => {
  const app = createServer((req, res) => {
    res.end(`app ${req.url}`);
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const port = (app.address() as AddressInfo).port;
  try {
    const server = await new Server({ httpServer: app, path: '/osc' }).start();
    assert.equal(server.url, `osc.ws://127.0.0.1:${port}/osc`);
    const address = new Address(server.url);
    const sub = server.route('/x', 's').sub();
    await address.send('/x', 'through the app');
    assert.deepEqual(await take(sub, 1), [['through the app']]);
    await address.close();
    await server.stop();
    const body = await new Promise<string>((resolve, reject) => {
      get(`http://127.0.0.1:${port}/hello`, (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve(text));
      }).once('error', reject);
    });
    assert.equal(body, 'app /hello');
    // started again on the same app: the upgrade listener was removed, and is added once more
    await server.start();
    assert.equal(app.listenerCount('upgrade'), 1);
    await server.stop();
    assert.equal(app.listenerCount('upgrade'), 0);
  } finally {
    await new Promise((resolve) => app.close(resolve));
  }
});

test('ws: a shared HTTP server that is not listening, or a port in use, is a StartError', async () => {
  const app = createServer();
  await assert.rejects(new Server({ httpServer: app }).start(), { code: 'ERR_OSC_START_FAILED' });
  const first = await wsServer();
  try {
    await assert.rejects(new Server({ url: `osc.ws://127.0.0.1:${first.port}/` }).start(), {
      code: 'ERR_OSC_ADDRESS_IN_USE',
    });
  } finally {
    await first.stop();
  }
});

test('ws: a client that does not read is closed at maxWriteBuffer, its replies rejected typed', async () => {
  const server = await wsServer({ maxWriteBuffer: 256 * 1024 });
  const ws = await raw(server.url);
  try {
    const hangup = event(server, 'hangup');
    const connection = new Promise<Address>((resolve) => {
      server.route('/hello').on((_args, m) => resolve(m.source as Address));
    });
    ws.send(encode(new Message('/hello')));
    const source = await within(5000, 'the hello', connection);
    ws.pause(); // stop reading: the kernel's buffers fill, then the server's
    const blob = new Uint8Array(32 * 1024);
    const codes = new Map<string, number>();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 2000; i++) {
      sends.push(
        source.send('/fill', blob).catch((err: SendError) => {
          codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
        }),
      );
    }
    const [err] = (await hangup) as [ConnectionError];
    assert.equal(err.code, 'ERR_OSC_WRITE_BUFFER_FULL');
    await Promise.all(sends);
    assert.ok((codes.get('ERR_OSC_WRITE_BUFFER_FULL') ?? 0) >= 1, JSON.stringify([...codes]));
    assert.equal(server.stats.hangups, 1);
    await until(5000, 'the connection to be counted out', () => server.stats.connections === 0);
  } finally {
    await closeRaw(ws);
    await server.stop();
  }
});

test("ws: overflow 'pause' holds the connection, and nothing is lost", async () => {
  const server = await wsServer();
  const address = new Address(server.url);
  try {
    const sub = server.route('/n', 'i').sub({ highWaterMark: 8, overflow: 'pause' });
    const n = 3000;
    const sends = Array.from({ length: n }, (_, i) => address.send('/n', i));
    const got: number[] = [];
    for await (const [i] of sub) {
      got.push(i);
      if (got.length % 100 === 0) await new Promise((resolve) => setImmediate(resolve)); // a slow consumer
      if (got.length === n) break;
    }
    await Promise.all(sends);
    assert.deepEqual(
      got,
      Array.from({ length: n }, (_, i) => i),
    );
    assert.equal(server.stats.overflowed, 0);
  } finally {
    await address.close();
    await server.stop();
  }
});

test('ws: maxConnections evicts the connection silent the longest, or refuses the newcomer', async () => {
  for (const whenFull of ['evict', 'refuse'] as const) {
    const server = await wsServer({ maxConnections: 2, whenFull });
    const sockets: WebSocket[] = [];
    try {
      const hangups: string[] = [];
      server.on('hangup', (err) => hangups.push(err.code));
      sockets.push(await raw(server.url), await raw(server.url));
      await until(5000, 'two connections', () => server.stats.connections === 2);
      const third = new WebSocket(server.url.replace(/^osc\.ws:/, 'ws:'));
      sockets.push(third);
      const outcome = await within(
        5000,
        'the third connection',
        new Promise<string>((resolve) => {
          third.once('open', () => resolve('open'));
          third.once('error', (err) => resolve(err.message));
        }),
      );
      if (whenFull === 'evict') {
        assert.equal(outcome, 'open');
        await until(5000, 'an eviction', () => hangups.length === 1);
        assert.deepEqual(hangups, ['ERR_OSC_EVICTED']);
        assert.equal(sockets[0]?.readyState === WebSocket.OPEN, false);
      } else {
        assert.match(outcome, /503/);
        assert.equal(server.stats.refused, 1);
        assert.deepEqual(hangups, []);
      }
    } finally {
      for (const ws of sockets) await closeRaw(ws);
      await server.stop();
    }
  }
});

test('ws: after the server restarts on its port, the next send connects again', async () => {
  const first = await wsServer();
  const port = first.port;
  const address = new Address(first.url);
  try {
    const sub1 = first.route('/n', 'i').sub();
    await address.send('/n', 1);
    assert.deepEqual(await take(sub1, 1), [[1]]);
    await first.stop();
    await until(5000, 'the address to see the close', () => !address.connected);
    const second = await wsServer({ url: `osc.ws://127.0.0.1:${port}/` });
    try {
      const sub2 = second.route('/n', 'i').sub();
      await address.send('/n', 2);
      assert.deepEqual(await take(sub2, 1), [[2]]);
    } finally {
      await second.stop();
    }
  } finally {
    await address.close();
  }
});

test('ws: a bundle keeps its timetag across the connection, and is dispatched not before it', async () => {
  const server = await wsServer();
  const address = new Address(server.url);
  try {
    const sub = server.route('/at', 'i').sub({ incoming: true });
    const at = TimeTag.now().add(0.05);
    await address.bundle([new Message('/at', 1)], at);
    const [m] = await take(sub, 1);
    assert.ok(m?.timetag.equals(at));
    assert.ok(TimeTag.now().compare(at) >= 0, 'dispatched early');
  } finally {
    await address.close();
    await server.stop();
  }
});

test('ws: stop() closes every connection and the port, and is idempotent', async () => {
  const server = await wsServer();
  const port = server.port;
  const ws = await raw(server.url);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await server.stop();
  await server.stop();
  assert.equal(await within(5000, 'the client to see the close', closed), 1001); // "going away"
  assert.equal(server.stats.connections, 0);
  const again = await wsServer({ url: `osc.ws://127.0.0.1:${port}/` }); // the port is free again
  await again.stop();
});

test('ws: connections are bounded by what their partial messages may hold', () => {
  // 64 MiB of partial messages covers 64 connections of 1 MiB messages, or 1024 of 64 KiB
  assert.throws(() => new Server({ url: 'osc.ws://127.0.0.1:0/', maxConnections: 100 }), {
    code: 'ERR_OSC_INVALID_OPTIONS',
    message: /covers for 64 connections/,
  });
  assert.doesNotThrow(() => new Server({ url: 'osc.ws://127.0.0.1:0/', maxConnections: 1000, maxPacketSize: 65536 }));
  // TCP counts its partial frames against the budget itself: no such bound
  assert.doesNotThrow(() => new Server({ url: 'osc.tcp://127.0.0.1:0/', maxConnections: 5000 }));
});

test("ws: a script whose only work is an Address's first send waits for the handshake, sends and exits 0", async () => {
  const server = await wsServer();
  try {
    const first = server.route('/first', 'i').next({ timeout: 10_000 });
    const { Running } = await import('../helpers/proc.js');
    const child = new Running([
      process.execPath,
      '--import',
      'tsx',
      'test/server/fixtures/ws-first-send.ts',
      server.url,
    ]);
    const { code } = await within(20_000, 'the script to exit', child.exited);
    assert.equal(code, 0, child.stderr);
    assert.equal(child.stdout.toString().trim(), '16'); // the bytes of /first ,i 1
    assert.deepEqual(await first, [1]);
  } finally {
    await server.stop();
  }
});

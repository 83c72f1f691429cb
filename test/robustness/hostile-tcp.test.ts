// Hostile TCP peers (issue 11): a peer that never reads, connections that open and stay silent,
// a length prefix followed by single bytes, oversized sends, a frame cut short by FIN. Each test
// measures what it claims: replies reaching the other clients, the bytes the process holds, what
// a send resolving really meant.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { Address, encode, Message, type OscDecodeError, type OscError, Server } from '../../src/index.js';
import { lengthPrefix, slipEncode } from '../../src/transport/framing.js';
import { event, take, until, within } from '../helpers/async.js';
import { held } from '../helpers/memory.js';
import { RawTcp } from '../helpers/raw.js';

const LOCAL = '127.0.0.1';

const immediate = () => new Promise<void>((r) => setImmediate(r));

/** A TCP socket that writes and never reads: the kernel's buffers toward it fill and stay full. */
async function neverReads(port: number): Promise<Socket> {
  const socket = connect({ port, host: LOCAL, noDelay: true });
  await once(socket, 'connect');
  socket.pause();
  socket.on('error', () => {});
  return socket;
}

type Hangups = { codes: string[] };
function hangups(server: Server): Hangups {
  const h: Hangups = { codes: [] };
  server.on('hangup', (err: OscError) => h.codes.push(err.code));
  return h;
}

// 16 KiB replies: a few hundred fill the kernel's buffers on loopback (tcp_wmem up to 4 MiB plus
// the receiver's unread window), well before the thousands a hostile peer asks for here.
const BLOB = new Uint8Array(16 * 1024);
const replyFrame = (n: number) => lengthPrefix(encode(Message.typed('/pong', 'ib', n, BLOB)));
const ping = (n: number) => lengthPrefix(encode(Message.typed('/ping', 'i', n)));

/** Three well-behaved clients: each sends `n` pings and reads every reply. */
async function politeClients(port: number, n: number, ms: number): Promise<number[]> {
  const frameLength = replyFrame(0).length;
  return Promise.all(
    [1, 2, 3].map(async (c) => {
      const raw = await RawTcp.open(port);
      try {
        await raw.write(Buffer.concat(Array.from({ length: n }, (_, i) => ping(c * 1000 + i))));
        const got = await within(ms, `client ${c}'s ${n} replies`, raw.waitFor(n * frameLength)).catch(
          () => raw.received,
        );
        return Math.floor(got.length / frameLength);
      } finally {
        raw.close();
      }
    }),
  );
}

test('a peer that never reads, with replies awaited (the README echo loop): the others get every reply', {
  timeout: 30_000,
}, async () => {
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0, writeTimeout: 500 });
  await server.start();
  const h = hangups(server);
  const failures: string[] = [];
  const sub = server.route('/ping', 'i').sub({ incoming: true, highWaterMark: 100_000 });
  const loop = (async () => {
    for await (const m of sub) {
      try {
        await m.source.send('/pong', m.args[0], BLOB);
      } catch (err) {
        failures.push((err as OscError).code);
      }
    }
  })();
  const port = server.port as number;
  const hostile = await neverReads(port);
  try {
    // 2,000 replies of 16 KiB asked for: 32 MiB, far more than the kernel holds
    hostile.write(Buffer.concat(Array.from({ length: 2000 }, (_, i) => ping(i))));
    const started = performance.now();
    const got = await politeClients(port, 20, 10_000);
    const took = performance.now() - started;
    console.log(`# replies to the polite clients: ${got.join(', ')} of 20 each, in ${took.toFixed(0)} ms`);
    assert.deepEqual(got, [20, 20, 20]);
    // the stalled reply was given up after writeTimeout, typed; the rest to that peer failed fast
    assert.ok(failures.includes('ERR_OSC_WRITE_TIMEOUT'), failures.slice(0, 3).join());
    assert.deepEqual(h.codes, ['ERR_OSC_WRITE_TIMEOUT']);
    assert.equal(server.stats.hangups, 1);
  } finally {
    hostile.destroy();
    sub.unsub();
    await server.stop();
    await within(5000, 'the echo loop to end', loop).catch(() => undefined);
  }
});

test('a peer that never reads, with replies not awaited: the bytes held for it stay bounded', {
  timeout: 30_000,
}, async () => {
  // room for the polite clients' bursts (20 replies of 16 KiB each, answered in one tick)
  const maxWriteBuffer = 1024 * 1024;
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0, maxWriteBuffer });
  await server.start();
  const h = hangups(server);
  const failures = new Map<string, number>();
  let processed = 0;
  const sub = server.route('/ping', 'i').sub({ incoming: true, highWaterMark: 100_000 });
  const loop = (async () => {
    for await (const m of sub) {
      processed++;
      m.source.send('/pong', m.args[0], BLOB).catch((err: OscError) => {
        failures.set(err.code, (failures.get(err.code) ?? 0) + 1);
      });
    }
  })();
  const port = server.port as number;
  const hostile = await neverReads(port);
  try {
    const before = held();
    const N = 4000; // 64 MiB of replies asked for
    hostile.write(Buffer.concat(Array.from({ length: N }, (_, i) => ping(i))));
    // the connection is closed once its replies pass maxWriteBuffer: what it sent after is not served
    await until(10_000, 'the server to hang up', () => h.codes.length > 0);
    await until(10_000, 'the pings taken in to be answered', () => sub.pending === 0);
    await immediate();
    const growth = held() - before;
    console.log(
      `# held after ${processed} of ${N} unread 16 KiB replies: +${(growth / 2 ** 20).toFixed(1)} MiB; failures ${JSON.stringify([...failures])}`,
    );
    // bounded: maxWriteBuffer, one packet over it, and slack for the test's own garbage
    assert.ok(growth < 16 * 2 ** 20, `held +${growth} bytes`);
    assert.deepEqual(h.codes, ['ERR_OSC_WRITE_BUFFER_FULL']);
    assert.ok((failures.get('ERR_OSC_WRITE_BUFFER_FULL') ?? 0) >= 1);
    // and the server still answers everyone else
    assert.deepEqual(await politeClients(port, 20, 10_000), [20, 20, 20]);
  } finally {
    hostile.destroy();
    sub.unsub();
    await server.stop();
    await within(5000, 'the echo loop to end', loop).catch(() => undefined);
  }
});

test('an Address whose server never reads: its sends reject, typed: awaited ones after writeTimeout, a burst past maxWriteBuffer at once', {
  timeout: 20_000,
}, async () => {
  // a server that accepts and never reads a byte
  const sockets: Socket[] = [];
  const sink = createServer({ pauseOnConnect: true }, (s) => {
    sockets.push(s);
  });
  await new Promise<void>((r) => sink.listen(0, LOCAL, r));
  const port = (sink.address() as { port: number }).port;
  const a = new Address({ host: LOCAL, port, proto: 'tcp' }, { writeTimeout: 300 });
  try {
    // awaited one by one: the kernel's buffers fill, then a send waits, and is given up
    let sent = 0;
    const awaited = await within(
      5000,
      'an awaited send to be given up',
      (async () => {
        for (;;) {
          try {
            await a.send('/x', sent, BLOB);
            sent++;
          } catch (err) {
            return (err as OscError).code;
          }
        }
      })(),
    ).catch((err: Error) => err.message);
    console.log(`# awaited sends: ${sent} resolved, then ${awaited}`);
    assert.equal(awaited, 'ERR_OSC_WRITE_TIMEOUT');
    // a burst, not awaited, on a new connection: past maxWriteBuffer (4 MiB) it is refused
    let resolved = 0;
    const codes = new Map<string, number>();
    const sends = Array.from({ length: 1000 }, (_, i) =>
      a.send('/x', i, BLOB).then(
        () => resolved++,
        (err: OscError) => codes.set(err.code, (codes.get(err.code) ?? 0) + 1),
      ),
    );
    const settled = await within(5000, 'every send to settle', Promise.all(sends)).then(
      () => true,
      () => false,
    );
    console.log(`# 1000 sends of 16 KiB at once: ${resolved} resolved, rejected ${JSON.stringify([...codes])}`);
    assert.ok(settled, 'sends still pending after 5 s');
    assert.equal(codes.get('ERR_OSC_WRITE_BUFFER_FULL'), 1000 - resolved);
  } finally {
    await a.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => sink.close(r));
  }
});

test('slowloris: maxConnections silent sockets do not lock out a legitimate client', async () => {
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0, maxConnections: 8 });
  await server.start();
  const h = hangups(server);
  const silent: RawTcp[] = [];
  const a = new Address({ url: server.url as string });
  try {
    const sub = server.route('/legit', 'i').sub();
    for (let i = 0; i < 8; i++) silent.push(await RawTcp.open(server.port as number));
    await until(3000, 'eight connections', () => server.stats.connections === 8);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        a.send('/legit', i).then(
          () => 'ok',
          (e: OscError) => e.code,
        ),
      ),
    );
    const got = await take(sub, 20, 3000).catch(() => []);
    console.log(
      `# legitimate client: ${got.length} of 20 arrived; sends: ${results.filter((r) => r === 'ok').length} resolved`,
    );
    assert.equal(got.length, 20);
    assert.deepEqual(h.codes, ['ERR_OSC_EVICTED']);
    // the one silent longest (the first) made room
    await within(3000, 'the first silent socket to be closed', silent[0]?.closed() as Promise<void>);
    assert.equal(server.stats.connections, 8);
  } finally {
    for (const s of silent) s.close();
    await a.close();
    await server.stop();
  }
});

test('idleTimeout closes silent connections; an Address whose connection was closed reconnects', async () => {
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0, idleTimeout: 200 });
  await server.start();
  const h = hangups(server);
  const a = new Address({ url: server.url as string });
  try {
    const route = server.route('/i', 'i');
    let sub = route.sub();
    const silent = await Promise.all([0, 1, 2].map(() => RawTcp.open(server.port as number)));
    await a.send('/i', 1);
    assert.deepEqual(await take(sub, 1), [[1]]);
    const closed = await within(3000, 'the silent sockets to be closed', Promise.all(silent.map((s) => s.closed())))
      .then(() => true)
      .catch(() => false);
    assert.ok(closed, 'silent connections were never closed');
    await until(3000, 'the address to see its connection closed', () => !a.connected);
    assert.deepEqual(h.codes, Array(4).fill('ERR_OSC_IDLE_TIMEOUT'));
    sub = route.sub(); // (take() ended the first)
    await a.send('/i', 2); // a new connection
    assert.deepEqual(await take(sub, 1), [[2]]);
  } finally {
    await a.close();
    await server.stop();
  }
});

test('a 1 MiB length prefix fed a byte at a time costs a small constant per byte held', {
  timeout: 60_000,
}, async () => {
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
  await server.start();
  const C = 64;
  const BYTES = 4000;
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < C; i++) {
      const s = connect({ port: server.port as number, host: LOCAL, noDelay: true });
      await once(s, 'connect');
      s.on('error', () => {});
      sockets.push(s);
    }
    await until(3000, `${C} connections`, () => server.stats.connections === C);
    const before = held();
    const prefix = Uint8Array.of(0, 0x10, 0, 0); // announces 1 MiB
    for (const s of sockets) s.write(prefix);
    const one = Uint8Array.of(0x41);
    // one byte per connection per turn of the event loop: the server reads each as it comes
    for (let k = 0; k < BYTES; k++) {
      for (const s of sockets) s.write(one);
      await immediate();
    }
    const expected = C * (4 + BYTES);
    const stats = server.stats;
    await until(10_000, 'every byte to be read', () => stats.buffered === expected).catch(() => undefined);
    const growth = held() - before;
    console.log(
      `# ${C} connections holding ${expected} bytes of partial frames: +${growth} bytes (${(growth / expected).toFixed(1)} per byte held); stats.buffered ${stats.buffered}`,
    );
    assert.equal(stats.buffered, expected);
    assert.ok(growth / expected < 16, `${(growth / expected).toFixed(1)} bytes per byte held`);
  } finally {
    for (const s of sockets) s.destroy();
    await server.stop();
  }
});

test('maxBufferedBytes: partial frames across connections stay within the budget; the largest holder is closed', {
  timeout: 30_000,
}, async () => {
  const budget = 1 << 20;
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0, maxBufferedBytes: budget });
  await server.start();
  const h = hangups(server);
  const raws: RawTcp[] = [];
  const a = new Address({ url: server.url as string });
  try {
    const sub = server.route('/ok', 'i').sub();
    let peak = 0;
    const stats = server.stats;
    // eight connections each announce a 1 MiB frame and send 200 KiB of it: 1.6 MB in all
    for (let i = 0; i < 8; i++) {
      const raw = await RawTcp.open(server.port as number);
      raws.push(raw);
      await raw.write(Buffer.concat([Uint8Array.of(0, 0x10, 0, 0), new Uint8Array(200 * 1024)]));
      await until(3000, 'the bytes to be read', () => raw.socket.writableLength === 0);
      peak = Math.max(peak, stats.buffered);
    }
    await until(5000, 'a hangup', () => h.codes.length > 0).catch(() => undefined);
    console.log(`# hangups ${JSON.stringify(h.codes)}; buffered ${stats.buffered}, peak seen ${peak}`);
    assert.ok(h.codes.length >= 1 && h.codes.every((c) => c === 'ERR_OSC_READ_BUFFER_FULL'));
    assert.ok(stats.buffered <= budget);
    // the server goes on for everyone else
    await a.send('/ok', 1);
    assert.deepEqual(await take(sub, 1), [[1]]);
  } finally {
    for (const r of raws) r.close();
    await a.close();
    await server.stop();
  }
});

test('an oversized send rejects before it is written; the sends after it all arrive', async () => {
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
  await server.start();
  const a = new Address({ url: server.url as string });
  try {
    const sub = server.route('/n', 'i').sub({ highWaterMark: 1000 });
    server.route('/big');
    await a.send('/n', -1);
    const big = await a.send('/big', new Uint8Array(2 * 2 ** 20)).then(
      () => 'resolved',
      (e: OscError) => e.code,
    );
    let resolved = 0;
    for (let i = 0; i < 50; i++) {
      try {
        await a.send('/n', i);
        resolved++;
      } catch {
        // a rejected send is not lost: its sender knows
      }
    }
    const got = await take(sub, 1 + resolved, 3000).catch(() => [] as unknown[]);
    const lost = resolved - Math.max(0, got.length - 1);
    console.log(`# 2 MiB send: ${big}; afterwards ${resolved} of 50 resolved, ${lost} of them lost`);
    assert.equal(big, 'ERR_OSC_PACKET_TOO_LARGE');
    assert.equal(lost, 0);
    assert.equal(resolved, 50);
  } finally {
    await a.close();
    await server.stop();
  }
});

test('maxPacketSize on an Address refuses over UDP too, with the same code', async () => {
  const a = new Address({ host: LOCAL, port: 9, proto: 'udp' }, { maxPacketSize: 1000 });
  try {
    await assert.rejects(a.send('/b', new Uint8Array(2000)), { code: 'ERR_OSC_PACKET_TOO_LARGE' });
    await assert.rejects(new Address({ host: LOCAL, port: 9 }).send('/b', new Uint8Array(70_000)), {
      code: 'ERR_OSC_PACKET_TOO_LARGE',
    });
  } finally {
    await a.close();
  }
});

for (const [framing, frame] of [
  ['length prefix', lengthPrefix],
  ['SLIP', slipEncode],
] as const) {
  test(`a frame cut short by FIN is reported as malformed, with its size (${framing})`, async () => {
    const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
    await server.start();
    try {
      const sub = server.route('/t', 'i').sub();
      const malformed = event<[OscDecodeError]>(server, 'malformed', 3000);
      const raw = await RawTcp.open(server.port as number);
      const second = frame(encode(Message.typed('/t', 'i', 2)));
      await raw.write(Buffer.concat([frame(encode(Message.typed('/t', 'i', 1))), second.subarray(0, 7)]));
      raw.socket.end();
      assert.deepEqual(await take(sub, 1), [[1]]);
      const [err] = await malformed;
      assert.equal(err.code, 'ERR_OSC_TRUNCATED');
      assert.match(err.message, /7 bytes/);
      assert.equal(server.stats.malformed, 1);
    } finally {
      await server.stop();
    }
  });
}

// The browser Client, run in Node with the `ws` package's WebSocket against a plain `ws`
// WebSocketServer that each test controls (far-side.ts): receiving, scheduling, replies,
// requests, malformed frames, reconnection, the send queue and its bound, backpressure, close().
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client as BrowserClient, type ClientEvents } from '../../src/browser/client.js';
import type { WebSocketLike } from '../../src/browser/websocket.js';
import { Client } from '../../src/client-node.js';
import { Bundle } from '../../src/codec/bundle.js';
import { encode } from '../../src/codec/encode.js';
import type { OscDecodeError } from '../../src/codec/errors.js';
import { float, int32 } from '../../src/codec/marks.js';
import { Message } from '../../src/codec/message.js';
import { TimeTag } from '../../src/codec/timetag.js';
import { OscClosedError, SendError } from '../../src/transport/errors.js';
import { drain, take, until, within } from '../helpers/async.js';
import { FarSide } from './far-side.js';

const run = promisify(execFile);

/** The next item of a subscription, leaving it open (a `for await` that breaks would end it). */
async function nextItem<T>(sub: AsyncIterator<T>, ms = 5000): Promise<T> {
  const result = await within(ms, 'the next item', sub.next());
  assert.equal(result.done, false, 'the subscription ended');
  return result.value as T;
}

/** Reconnects fast, so that tests wait milliseconds, not seconds. */
const FAST = { initialDelay: 5, maxDelay: 20, minUptime: 0 } as const;

/** Resolves with the arguments of the client's next `event`. */
function next<K extends keyof ClientEvents>(client: BrowserClient, event: K, ms = 5000): Promise<ClientEvents[K]> {
  return within(ms, `client event '${event}'`, new Promise((resolve) => client.once(event, (...a) => resolve(a))));
}

describe('browser Client (ws in Node)', () => {
  test('routes and typed subscriptions receive what the far side sends', async () => {
    await using far = await FarSide.listen();
    await using client = new Client(far.url);
    const fader = client.route('/fader', 'f');
    const xy = client.route('/xy', 'if');
    const sub = fader.sub();
    const incoming = xy.sub({ incoming: true });
    const handled: number[] = [];
    const stop = fader.on(([v]) => {
      handled.push(v);
    });
    assert.equal(await client.open({ timeout: 5000 }), client);
    assert.equal(client.state, 'open');
    const peer = await far.peer();
    peer.send(encode(new Message('/fader', float(0.5))));
    peer.send(encode(new Message('/fader', float(0.25))));
    peer.send(encode(new Message('/xy', 3, 4))); // 'ii', coerced to the route's 'if'
    assert.deepEqual(await take(sub, 2), [[0.5], [0.25]]);
    const [record] = await take(incoming, 1);
    assert.deepEqual(record?.args, [3, 4]);
    assert.equal(record?.typetags, 'if');
    assert.equal(record?.path, '/xy');
    assert.equal(record?.source, client, 'the source of a message is the client itself');
    await until(2000, 'the handler to see both', () => handled.length === 2);
    assert.deepEqual(handled, [0.5, 0.25]);
    const nextOne = fader.next({ timeout: 2000 });
    peer.send(encode(new Message('/fader', float(1))));
    assert.deepEqual(await nextOne, [1]);
    stop();
    assert.equal(client.stats.packets, 4);
    assert.equal(client.stats.messages, 4);
    assert.equal(client.stats.dispatched, 4);
  });

  test('pattern routes, unmatched messages, and the routes list', async () => {
    await using far = await FarSide.listen();
    await using client = new Client(far.url);
    const params = client.match('/avatar/parameters/*', 'f');
    assert.deepEqual(client.routes, [params]);
    const unmatched = next(client, 'unmatched');
    await client.open();
    const peer = await far.peer();
    const got = params.next({ timeout: 2000, incoming: true });
    peer.send(encode(new Message('/avatar/parameters/Smile', float(0.75))));
    assert.equal((await got).path, '/avatar/parameters/Smile');
    peer.send(encode(new Message('/elsewhere', 1)));
    const [message] = await unmatched;
    assert.equal(message.path, '/elsewhere');
    assert.equal(client.unroute(params), params);
    assert.deepEqual(client.routes, []);
  });

  test('a bundle timed in the future is dispatched at its time, not before', async () => {
    await using far = await FarSide.listen();
    await using client = new Client(far.url);
    const cue = client.route('/cue', 'i');
    const sub = cue.sub({ incoming: true });
    await client.open();
    const peer = await far.peer();
    const at = TimeTag.now().add(0.15);
    peer.send(encode(new Bundle([new Message('/cue', 1), new Message('/cue', 2)], at)));
    peer.send(encode(new Message('/cue', 0))); // unbundled: at once, so before the bundle's
    const items = await take(sub, 3, 3000);
    const arrived = TimeTag.now();
    assert.deepEqual(
      items.map((m) => m.args[0]),
      [0, 1, 2],
    );
    assert.ok(arrived.compare(at) >= 0, `dispatched at ${arrived.toString()}, before ${at.toString()}`);
    assert.equal(items[1]?.timetag.compare(at), 0, 'the bundle’s timetag comes with its messages');
    assert.equal(client.eventsPending, false);
  });

  test('replies through incoming.source.send() reach the far side on the same connection', async () => {
    await using far = await FarSide.listen();
    await using client = new Client(far.url);
    client.route('/ping', 'i').on(async ([n], m) => {
      await m.source.send('/pong', int32(n + 1));
    });
    await client.open();
    const peer = await far.peer();
    peer.send(encode(new Message('/ping', 41)));
    const [pong] = await peer.messages(1);
    assert.equal(pong?.path, '/pong');
    assert.deepEqual(pong?.args, [42]);
    assert.equal(far.peers.length, 1, 'no second connection');
  });

  test('request() resolves with the first reply at its path on this connection, and times out', async () => {
    await using far = await FarSide.listen();
    await using client = new Client(far.url);
    await client.open();
    const peer = await far.peer();
    const asked = client.request('/status', [], { reply: { path: '/status.reply', typespec: 'if' }, timeout: 3000 });
    const [status] = await peer.messages(1);
    assert.equal(status?.path, '/status');
    peer.send(encode(new Message('/other', 1)));
    peer.send(encode(new Message('/status.reply', 1, 2))); // 'ii', coerced to the typed reply's 'if'
    const reply = await asked;
    assert.deepEqual(reply.args, [1, 2]);
    assert.equal(reply.typetags, 'if');
    assert.equal(reply.source, client);
    await assert.rejects(client.request('/status', [], { reply: '/never', timeout: 30 }), { code: 'ERR_OSC_TIMEOUT' });
    const aborted = new AbortController();
    const waiting = client.request('/status', [], { reply: '/never', signal: aborted.signal });
    aborted.abort();
    await assert.rejects(waiting, { code: 'ERR_OSC_ABORTED' });
  });

  test('a text frame and a malformed packet are reported, never thrown, and the client goes on', async () => {
    await using far = await FarSide.listen();
    await using client = new Client(far.url);
    const route = client.route('/ok', 'i');
    const errors: OscDecodeError[] = [];
    client.on('malformed', (error) => errors.push(error));
    await client.open();
    const peer = await far.peer();
    peer.send('{"address":"/ok","args":[1]}'); // a text frame, as JSON-over-WebSocket bridges send
    peer.send(new Uint8Array([0x2f, 0x6f, 0x6b, 0x00])); // "/ok" without its typetag string's padding
    const ok = route.next({ timeout: 2000 });
    peer.send(encode(new Message('/ok', 7)));
    assert.deepEqual(await ok, [7]);
    assert.deepEqual(
      errors.map((e) => e.code),
      ['ERR_OSC_TEXT_FRAME', errors[1]?.code],
    );
    assert.equal(errors.length, 2);
    assert.match(errors[1]?.code ?? '', /^ERR_OSC_/);
    assert.notEqual(errors[1]?.code, 'ERR_OSC_TEXT_FRAME');
    assert.equal(client.stats.malformed, 2);
    assert.equal(client.state, 'open');
    assert.equal(far.peers.length, 1, 'the connection was kept');
  });

  test('reconnects after the far side closes the connection; routes and subscriptions carry on', async () => {
    await using far = await FarSide.listen();
    await using client = new Client(far.url, { reconnect: FAST });
    const sub = client.route('/n', 'i').sub();
    const opens: number[] = [];
    const closes: number[] = [];
    client.on('open', () => opens.push(opens.length));
    client.on('close', (info) => closes.push(info.code));
    await client.open();
    const first = await far.peer(1);
    first.send(encode(new Message('/n', 1)));
    assert.deepEqual(await nextItem(sub), [1]);
    const closed = next(client, 'close');
    first.socket.close(4000, 'go away');
    const [info] = await closed;
    assert.equal(info.code, 4000);
    assert.equal(info.reason, 'go away');
    assert.notEqual(client.state, 'open');
    const second = await far.peer(2);
    await client.open({ timeout: 5000 });
    second.send(encode(new Message('/n', 2)));
    assert.deepEqual(await nextItem(sub), [2], 'the same subscription receives over the new connection');
    assert.deepEqual(opens, [0, 1]);
    assert.deepEqual(closes, [4000]);
    assert.equal(client.stats.reconnects, 1);
    assert.equal(sub.active, true);
  });

  test('reconnects after the far side restarts on the same port', async () => {
    let far = await FarSide.listen();
    const port = far.port;
    const client = new Client(far.url, { reconnect: FAST });
    try {
      const route = client.route('/n', 'i');
      const sub = route.sub();
      await client.open();
      const before = await far.peer();
      before.send(encode(new Message('/n', 4)));
      assert.deepEqual(await nextItem(sub), [4]);
      await far.close(); // every connection ended, and nothing listens
      await until(5000, 'a failed reconnection attempt', () => client.stats.connectFailures >= 1);
      assert.equal(client.state, 'reconnecting');
      far = await FarSide.listen(port);
      const peer = await far.peer();
      await client.open({ timeout: 5000 });
      peer.send(encode(new Message('/n', 5)));
      assert.deepEqual(await nextItem(sub), [5], 'the same subscription receives after the restart');
      assert.equal(client.stats.reconnects, 1);
      assert.deepEqual(client.routes, [route]);
    } finally {
      await client.close();
      await far.close();
    }
  });

  test('sends while not connected are held and arrive in order once a connection opens', async () => {
    await using far = await FarSide.listen();
    far.accepting = false;
    await using client = new Client(far.url, { reconnect: FAST });
    await until(5000, 'a refused attempt', () => client.stats.connectFailures >= 1);
    const sends = [1, 2, 3, 4, 5].map((n) => client.send('/seq', n));
    sends.push(client.bundle([new Message('/seq', 6)]));
    assert.equal(client.stats.sendQueue, 6);
    assert.ok(client.stats.sendQueueBytes > 0);
    assert.equal(client.stats.sent, 0);
    far.accepting = true;
    const peer = await far.peer();
    const sizes = await within(5000, 'the held sends', Promise.all(sends));
    assert.deepEqual(sizes.slice(0, 5), [16, 16, 16, 16, 16]);
    const received = await peer.messages(5);
    assert.deepEqual(
      received.map((m) => m.args[0]),
      [1, 2, 3, 4, 5],
    );
    await until(5000, 'the sixth frame', () => peer.received.length === 6);
    assert.ok(isBundle(peer.received[5] as Uint8Array), 'the bundle went last');
    assert.equal(client.stats.sendQueue, 0);
    assert.equal(client.stats.sent, 6);
  });

  test('past maxSendQueueBytes a send rejects with ERR_OSC_WRITE_BUFFER_FULL; close() rejects what is held', async () => {
    await using far = await FarSide.listen();
    far.accepting = false;
    const client = new Client(far.url, { reconnect: FAST, maxSendQueueBytes: 40 });
    const held = client.send('/a', 1); // 12 bytes: held
    const second = client.send('/b', 'x'.repeat(20)); // 32 more: over 40
    await assert.rejects(second, (err: unknown) => {
      assert.ok(err instanceof SendError);
      assert.equal(err.code, 'ERR_OSC_WRITE_BUFFER_FULL');
      return true;
    });
    assert.equal(client.stats.sendRejected, 1);
    assert.equal(client.stats.sendQueue, 1);
    await client.close();
    await assert.rejects(held, { code: 'ERR_OSC_CLOSED' });
    await assert.rejects(client.send('/c'), { code: 'ERR_OSC_CLOSED' });
  });

  test('close() is idempotent, ends subscriptions after what they hold, and rejects what waits', async () => {
    await using far = await FarSide.listen();
    const client = new Client(far.url);
    const route = client.route('/x', 'i');
    const sub = route.sub();
    const closedEvents: number[] = [];
    client.on('close', (info) => closedEvents.push(info.code));
    await client.open();
    const peer = await far.peer();
    peer.send(encode(new Message('/x', 1)));
    await until(2000, 'a message buffered', () => sub.pending === 1);
    // (the rejections are expected now: asserted on as they happen)
    const nextOne = assert.rejects(route.next(), OscClosedError);
    const request = assert.rejects(client.request('/q', [], { timeout: 5000 }), { code: 'ERR_OSC_CLOSED' });
    const opening = client.open();
    const first = client.close();
    const again = client.close();
    assert.equal(first, again, 'the same promise');
    assert.equal(client.state, 'closed');
    await within(5000, 'close()', first);
    assert.deepEqual(await drain(sub), [[1]], 'what was buffered is still delivered');
    await nextOne;
    await request;
    assert.equal(await opening, client, 'open() had resolved: the client was open');
    await assert.rejects(client.open(), { code: 'ERR_OSC_CLOSED' });
    await peer.closed;
    assert.deepEqual(closedEvents, [1000]);
    await client.close();
    assert.deepEqual(closedEvents, [1000], "no second 'close'");
  });

  test('close() leaves nothing behind: a process that closed its client exits by itself', async () => {
    // the fixture opens a connection, waits to reconnect with a 60 s timer pending, holds a
    // request, a subscription and a held send, then closes: anything left would keep it alive
    const fixture = fileURLToPath(new URL('./fixtures/close-exits.ts', import.meta.url));
    const started = Date.now();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture], { timeout: 20_000 });
    assert.equal(stdout.trim(), 'closed');
    assert.ok(Date.now() - started < 20_000);
  });

  test('an AbortSignal closes the client; an aborted one closes it before it connects', async () => {
    await using far = await FarSide.listen();
    const controller = new AbortController();
    const client = new Client(far.url, { signal: controller.signal });
    try {
      const sub = client.route('/x').sub();
      await client.open();
      controller.abort();
      assert.equal(client.state, 'closed');
      await within(2000, 'the subscription to end', sub.closed);
      await (await far.peer()).closed;
    } finally {
      await client.close();
    }
    const early = new Client(far.url, { signal: AbortSignal.abort() });
    assert.equal(early.state, 'closed');
    await assert.rejects(early.open(), { code: 'ERR_OSC_CLOSED' });
    await assert.rejects(early.send('/x'), { code: 'ERR_OSC_CLOSED' });
    assert.equal(far.peers.length, 1, 'the aborted client never connected');
  });

  test('reconnect: false closes the client when its connection ends', async () => {
    await using far = await FarSide.listen();
    await using client = new Client(far.url, { reconnect: false });
    const sub = client.route('/x').sub();
    await client.open();
    (await far.peer()).socket.close();
    await within(5000, 'the subscription to end', sub.closed);
    assert.equal(client.state, 'closed');
  });
});

describe('backpressure (an injected WebSocket)', () => {
  /** A WebSocket whose bufferedAmount the test sets; it opens on the next microtask. */
  class FakeWebSocket implements WebSocketLike {
    static last: FakeWebSocket | undefined;
    binaryType = 'blob';
    bufferedAmount = 0;
    readyState = 0;
    readonly sent: Uint8Array[] = [];
    onopen: ((event: never) => unknown) | null = null;
    onmessage: ((event: never) => unknown) | null = null;
    onclose: ((event: never) => unknown) | null = null;
    onerror: ((event: never) => unknown) | null = null;
    constructor(readonly url: string) {
      FakeWebSocket.last = this;
      queueMicrotask(() => {
        this.readyState = 1;
        (this.onopen as ((e: unknown) => void) | null)?.({});
      });
    }
    send(data: Uint8Array): void {
      this.sent.push(data);
    }
    close(code = 1000): void {
      this.readyState = 3;
      queueMicrotask(() => (this.onclose as ((e: unknown) => void) | null)?.({ code, reason: '', wasClean: true }));
    }
  }

  test('over maxWriteBuffer a send rejects with ERR_OSC_WRITE_BUFFER_FULL; an empty buffer takes any packet', async () => {
    await using client = new BrowserClient('ws://fake.invalid/', { WebSocket: FakeWebSocket, maxWriteBuffer: 1000 });
    await client.open();
    const ws = FakeWebSocket.last as FakeWebSocket;
    assert.equal(ws.binaryType, 'arraybuffer');
    assert.equal(await client.send('/big', new Uint8Array(2000)), 2016, 'one packet always fits an empty buffer');
    ws.bufferedAmount = 900;
    await assert.rejects(client.send('/b', new Uint8Array(200)), {
      name: 'SendError',
      code: 'ERR_OSC_WRITE_BUFFER_FULL',
    });
    assert.equal(await client.send('/s', new Uint8Array(20)), 32, 'what still fits is sent');
    assert.equal(client.stats.buffered, 900);
    assert.equal(client.stats.sendRejected, 1);
    assert.equal(ws.sent.length, 2, 'the rejected packet was not handed over');
  });

  test('a WebSocket that throws in send() rejects that send with ERR_OSC_SEND_FAILED', async () => {
    class Refusing extends FakeWebSocket {
      override send(): void {
        throw new Error('InvalidStateError');
      }
    }
    await using client = new BrowserClient('ws://fake.invalid/', { WebSocket: Refusing });
    await client.open();
    await assert.rejects(client.send('/x'), (err: unknown) => {
      assert.ok(err instanceof SendError);
      assert.equal(err.code, 'ERR_OSC_SEND_FAILED');
      assert.equal((err.cause as Error).message, 'InvalidStateError');
      return true;
    });
  });

  test('without a WebSocket class (Node 20) the constructor says what to pass', () => {
    if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function') return;
    assert.throws(() => new BrowserClient('ws://localhost/'), {
      code: 'ERR_OSC_INVALID_OPTIONS',
      message: /WebSocket/,
    });
  });
});

function isBundle(bytes: Uint8Array): boolean {
  return new TextDecoder().decode(bytes.subarray(0, 7)) === '#bundle';
}

// Subscriptions: bounded buffers with an explicit overflow policy and a dropped count; the ways a
// subscription ends (unsub, break, AbortSignal, await using, server stop); Incoming records.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Message, OscOverflowError, type Subscription, TimeTag } from '../../src/index.js';
import { drain, event, take, within } from '../helpers/async.js';
import { serverAndAddress } from '../helpers/pair.js';

const fixture = serverAndAddress;

/** Sends `/n ,i 0..count-1` and waits until the server has taken them all in. */
async function flood(f: Awaited<ReturnType<typeof fixture>>, count: number) {
  const before = f.server.stats.messages;
  for (let i = 0; i < count; i++) await f.address.send('/n', i);
  await within(
    5000,
    `${count} messages to arrive`,
    (async () => {
      while (f.server.stats.messages < before + count) await new Promise((r) => setImmediate(r));
    })(),
  );
}

describe('overflow policies', () => {
  test("'drop-oldest' (default) keeps the newest highWaterMark messages and counts the rest", async () => {
    await using f = await fixture();
    const sub = f.server.route('/n', 'i').sub({ highWaterMark: 3 });
    let reported = 0;
    f.server.on('overflow', (s, dropped) => {
      assert.equal(s, sub);
      reported = dropped;
    });
    await flood(f, 10);
    assert.equal(sub.dropped, 7);
    assert.equal(reported, 7);
    assert.equal(f.server.stats.overflowed, 7);
    assert.deepEqual(await take(sub, 3), [[7], [8], [9]]);
  });

  test("'drop-newest' keeps the oldest", async () => {
    await using f = await fixture();
    const sub = f.server.route('/n', 'i').sub({ highWaterMark: 3, overflow: 'drop-newest' });
    await flood(f, 10);
    assert.equal(sub.dropped, 7);
    assert.deepEqual(await take(sub, 3), [[0], [1], [2]]);
  });

  test("'error' delivers what is buffered, then the iteration throws OscOverflowError", async () => {
    await using f = await fixture();
    const sub = f.server.route('/n', 'i').sub({ highWaterMark: 3, overflow: 'error' });
    await flood(f, 5);
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const [n] of sub) got.push(n);
      })(),
      (e: unknown) => e instanceof OscOverflowError && e.code === 'ERR_OSC_OVERFLOW' && e.dropped >= 1,
    );
    assert.deepEqual(got, [0, 1, 2]);
  });

  test("'pause' over TCP loses nothing: the connection stops until the consumer catches up", async () => {
    await using f = await fixture('tcp');
    const sub = f.server.route('/n', 'i').sub({ highWaterMark: 8, overflow: 'pause' });
    const N = 2000;
    const sending = (async () => {
      for (let i = 0; i < N; i++) await f.address.send('/n', i);
    })();
    const got: number[] = [];
    for await (const [n] of sub) {
      got.push(n);
      assert.ok(sub.pending <= 8 + 200, `buffered ${sub.pending}`); // bounded by one read's worth of frames
      if (got.length % 100 === 0) await new Promise((r) => setTimeout(r, 1)); // a slow consumer
      if (got.length === N) break;
    }
    await sending;
    assert.equal(sub.dropped, 0);
    assert.deepEqual(
      got,
      Array.from({ length: N }, (_, i) => i),
    );
  });

  test("'pause' over UDP, where the sender cannot be paused, drops the newest and counts", async () => {
    await using f = await fixture('udp');
    const sub = f.server.route('/n', 'i').sub({ highWaterMark: 2, overflow: 'pause' });
    await flood(f, 5);
    assert.equal(sub.dropped, 3);
    assert.deepEqual(await take(sub, 2), [[0], [1]]);
  });
});

describe('byte limits', () => {
  // A message with a 1,000-character string keeps ~2.2 KB alive (src/server/bytes.ts): two fit in 5,000.
  const text = (i: number) => String(i).padStart(1000, '.');

  async function floodText(f: Awaited<ReturnType<typeof fixture>>, count: number) {
    const before = f.server.stats.messages;
    for (let i = 0; i < count; i++) await f.address.send('/s', text(i));
    await within(
      5000,
      `${count} messages to arrive`,
      (async () => {
        while (f.server.stats.messages < before + count) await new Promise((r) => setImmediate(r));
      })(),
    );
  }

  test("highWaterBytes applies before highWaterMark when messages are big: 'drop-oldest'", async () => {
    await using f = await fixture();
    const sub = f.server.route('/s', 's').sub({ highWaterMark: 100, highWaterBytes: 5000 });
    await floodText(f, 10);
    assert.equal(sub.pending, 2);
    assert.ok(sub.pendingBytes > 4000 && sub.pendingBytes <= 5000, `${sub.pendingBytes} bytes`);
    assert.equal(sub.dropped, 8);
    assert.deepEqual(await take(sub, 2), [[text(8)], [text(9)]]);
    assert.equal(sub.pendingBytes, 0);
  });

  test('a message bigger than highWaterBytes is still taken into an empty buffer', async () => {
    await using f = await fixture();
    const sub = f.server.route('/s', 's').sub({ highWaterBytes: 100, overflow: 'drop-newest' });
    await floodText(f, 3);
    assert.equal(sub.pending, 1);
    assert.equal(sub.dropped, 2);
    assert.deepEqual(await take(sub, 1), [[text(0)]]);
  });

  test("'error' names the byte limit", async () => {
    await using f = await fixture();
    const sub = f.server.route('/s', 's').sub({ highWaterBytes: 5000, overflow: 'error' });
    await floodText(f, 4);
    await assert.rejects(drain(sub), (e: unknown) => e instanceof OscOverflowError && /5000 bytes/.test(e.message));
  });

  test("'pause' over TCP holds the connection on bytes too, and loses nothing", async () => {
    await using f = await fixture('tcp');
    const sub = f.server.route('/s', 's').sub({ highWaterBytes: 20_000, overflow: 'pause' });
    const N = 300;
    const sending = (async () => {
      for (let i = 0; i < N; i++) await f.address.send('/s', text(i));
    })();
    const got: string[] = [];
    let most = 0;
    for await (const [s] of sub) {
      got.push(s);
      most = Math.max(most, sub.pendingBytes);
      if (got.length % 50 === 0) await new Promise((r) => setTimeout(r, 1)); // a slow consumer
      if (got.length === N) break;
    }
    await sending;
    assert.equal(sub.dropped, 0);
    assert.deepEqual(
      got,
      Array.from({ length: N }, (_, i) => text(i)),
    );
    // bounded by the limit and one read's worth of frames (64 KiB of ~1 KB messages)
    assert.ok(most < 20_000 + 64 * 2300, `buffered ${most} bytes`);
  });

  test('highWaterBytes must be a positive integer', async () => {
    await using f = await fixture();
    // OscConfigError since issue 13 (every thrown error an OscError with a code), a RangeError before
    const invalid = { name: 'OscConfigError', code: 'ERR_OSC_INVALID_OPTIONS' };
    assert.throws(() => f.server.route('/s').sub({ highWaterBytes: 0 }), invalid);
    assert.throws(() => f.server.route('/s').sub({ highWaterBytes: 1.5 }), invalid);
  });
});

describe('ending a subscription', () => {
  test('unsub() delivers what is buffered, then ends; closed resolves', async () => {
    await using f = await fixture();
    const route = f.server.route('/n', 'i');
    const sub = route.sub();
    await flood(f, 3);
    sub.unsub();
    assert.equal(route.subscriptions, 0);
    assert.deepEqual(await drain(sub), [[0], [1], [2]]);
    await within(1000, 'closed', sub.closed);
  });

  test('break (return()) ends at once and discards the buffer', async () => {
    await using f = await fixture();
    const route = f.server.route('/n', 'i');
    const sub = route.sub();
    await flood(f, 3);
    for await (const _ of sub) break;
    assert.equal(route.subscriptions, 0);
    assert.equal(sub.pending, 0);
    assert.deepEqual(await sub.next(), { value: undefined, done: true });
  });

  test('an AbortSignal ends it, even while it waits', async () => {
    await using f = await fixture();
    const controller = new AbortController();
    const sub = f.server.route('/n', 'i').sub({ signal: controller.signal });
    const waiting = sub.next();
    controller.abort();
    assert.deepEqual(await within(1000, 'the pending next()', waiting), { value: undefined, done: true });
    const already = f.server.route('/n', 'i').sub({ signal: AbortSignal.abort() });
    assert.equal(already.active, false);
  });

  test('await using ends it at the end of the scope', async () => {
    await using f = await fixture();
    const route = f.server.route('/n', 'i');
    {
      await using sub = route.sub();
      assert.equal(route.subscriptions, 1);
      assert.ok(sub.active);
    }
    assert.equal(route.subscriptions, 0);
  });

  test('server.stop() ends every subscription after what was already buffered', async () => {
    const f = await fixture();
    const subs = [f.server.route('/n', 'i').sub(), f.server.route('/n', 'i').sub()];
    await flood(f, 2);
    await f.address.close();
    await f.server.stop();
    for (const sub of subs) assert.deepEqual(await drain(sub), [[0], [1]]);
  });

  test('one consumer at a time', async () => {
    await using f = await fixture();
    const sub: Subscription<readonly [number]> = f.server.route('/n', 'i').sub();
    const first = sub.next();
    await assert.rejects(sub.next(), /one consumer/);
    sub.return();
    await first;
  });
});

describe('Incoming records', () => {
  test('path, typetags (after coercion), args, timetag, route and source', async () => {
    await using f = await fixture();
    const route = f.server.route('/n', 'd');
    const sub = route.sub({ incoming: true });
    await f.address.send('/n', 3); // ,i coerced to the route's ,d
    const tt = TimeTag.now().subtract(1);
    await f.address.bundle([new Message('/n', 4)], tt);
    const [plain, bundled] = await take(sub, 2);
    assert.equal(plain?.route, route);
    assert.equal(plain?.path, '/n');
    assert.equal(plain?.typetags, 'd');
    assert.deepEqual(plain?.args, [3]);
    assert.ok(plain?.timetag.isImmediate);
    assert.match(plain?.source.url ?? '', /^osc\.udp:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(bundled?.timetag.equals(tt));
  });

  test("'unmatched' reports what no route took", async () => {
    await using f = await fixture();
    f.server.route('/n', 's');
    const unmatched = event<[{ path: string; typetags: string }]>(f.server, 'unmatched');
    await f.address.send('/n', 1); // ,i does not coerce to ,s
    const [m] = await unmatched;
    assert.equal(m.path, '/n');
    assert.equal(m.typetags, 'i');
    assert.equal(f.server.stats.unmatched, 1);
  });
});

// Callbacks: route.on(handler) delivers as a subscription does, one call at a time and in order;
// what a handler throws or rejects with is reported (onError, the 'handlerError' event, a warning
// once), never an unhandled rejection, and the handler goes on. And messages that reach routes
// nobody consumes are counted in stats.unconsumed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Incoming } from '../../src/index.js';
import { event, until } from '../helpers/async.js';
import { serverAndAddress } from '../helpers/pair.js';

const fixture = serverAndAddress;

describe('route.on()', () => {
  test('calls the handler with args and the Incoming record, in order, until disposed', async () => {
    await using f = await fixture();
    const route = f.server.route('/n', 'i');
    const seen: number[] = [];
    let record: Incoming<[number]> | undefined;
    const off = route.on((args, m) => {
      seen.push(args[0]);
      record = m;
    });
    for (let i = 0; i < 5; i++) await f.address.send('/n', i);
    await until(3000, '5 calls', () => seen.length === 5);
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    assert.equal(record?.route, route);
    assert.equal(record?.path, '/n');
    off();
    await off.closed;
    assert.equal(route.subscriptions, 0);
    await f.address.send('/n', 5);
    await until(3000, 'the sixth message', () => f.server.stats.messages === 6);
    assert.equal(seen.length, 5);
    assert.equal(f.server.stats.unconsumed, 1, 'after off(), nobody consumed it');
  });

  test('`using` disposes it; an AbortSignal stops it too', async () => {
    await using f = await fixture();
    const route = f.server.route('/n');
    {
      using _off = route.on(() => {});
      assert.equal(route.subscriptions, 1);
    }
    assert.equal(route.subscriptions, 0);
    const controller = new AbortController();
    const off = route.on(() => {}, { signal: controller.signal });
    controller.abort();
    await off.closed;
    assert.equal(route.subscriptions, 0);
  });

  test('async handlers run one at a time, in arrival order', async () => {
    await using f = await fixture();
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const off = f.server.route('/n', 'i').on(async ([n]) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      order.push(n);
      running--;
    });
    for (let i = 0; i < 10; i++) await f.address.send('/n', i);
    await until(3000, '10 calls', () => order.length === 10);
    assert.equal(most, 1);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    off();
  });

  test("throwing and rejecting handlers are reported with 'handlerError' and keep receiving", async () => {
    await using f = await fixture();
    const route = f.server.route('/n', 'i');
    const errors: [unknown, Incoming][] = [];
    f.server.on('handlerError', (error, message) => errors.push([error, message]));
    const got: number[] = [];
    const off = route.on(async ([n]) => {
      if (n === 1) throw new Error('sync-ish throw');
      if (n === 2) await Promise.reject(new Error('rejected'));
      got.push(n);
    });
    const offSync = f.server.route('/s').on(() => {
      throw new TypeError('plain throw');
    });
    for (let i = 0; i < 4; i++) await f.address.send('/n', i);
    await f.address.send('/s');
    await until(3000, 'the calls and the errors', () => got.length === 2 && errors.length === 3);
    assert.deepEqual(got, [0, 3]);
    assert.deepEqual(errors.map(([e, m]) => [(e as Error).message, m.path, [...m.args]]).sort(), [
      ['plain throw', '/s', []],
      ['rejected', '/n', [2]],
      ['sync-ish throw', '/n', [1]],
    ]);
    assert.equal(f.server.stats.handlerErrors, 3);
    off();
    offSync();
  });

  test('onError takes the errors instead of the event', async () => {
    await using f = await fixture();
    let evented = 0;
    f.server.on('handlerError', () => evented++);
    const caught: unknown[] = [];
    const off = f.server.route('/n').on(
      () => {
        throw new Error('x');
      },
      { onError: (e, m) => caught.push([(e as Error).message, m.path]) },
    );
    await f.address.send('/n');
    await until(3000, 'onError', () => caught.length === 1);
    assert.deepEqual(caught, [['x', '/n']]);
    assert.equal(evented, 0);
    off();
  });

  test('with nobody listening, the first error is a process warning, not a crash', async () => {
    await using f = await fixture();
    const warned = event<[Error]>(process, 'warning');
    const off = f.server.route('/n').on(() => {
      throw new Error('unheard');
    });
    await f.address.send('/n');
    await f.address.send('/n');
    const [warning] = await warned;
    assert.equal((warning as Error & { code?: string }).code, 'AIOLO_HANDLER_ERROR');
    assert.match(warning.message, /unheard/);
    await until(3000, 'both errors counted', () => f.server.stats.handlerErrors === 2);
    off();
  });
});

describe('stats.unconsumed', () => {
  test('messages reaching a route nobody subscribed to are counted, not dispatched', async () => {
    await using f = await fixture();
    const route = f.server.route('/quiet', 'i');
    for (let i = 0; i < 3; i++) await f.address.send('/quiet', i);
    await f.address.send('/nowhere');
    await until(3000, '4 messages', () => f.server.stats.messages === 4);
    assert.equal(f.server.stats.unconsumed, 3);
    assert.equal(f.server.stats.unmatched, 1);
    assert.equal(f.server.stats.dispatched, 0);
    const sub = route.sub();
    await f.address.send('/quiet', 9);
    assert.deepEqual((await sub.next()).value, [9]);
    assert.equal(f.server.stats.dispatched, 1);
    assert.equal(f.server.stats.unconsumed, 3);
    sub.unsub();
  });
});

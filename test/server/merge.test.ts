// merge() and the one-consumer rule: a subscription already in a merge that goes on cannot join
// another (before issue 13 the second merge silently took over the first's wake-up callback, and
// the first stopped seeing new messages).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { merge, type Route, type Subscription } from '../../src/index.js';
import { within } from '../helpers/async.js';
import { serverAndAddress } from '../helpers/pair.js';

const fixture = serverAndAddress;

const refused = { name: 'OscConfigError', code: 'ERR_OSC_INVALID_OPTIONS' };

describe('merge() and the one-consumer rule', () => {
  test('a subscription in a merge that goes on is refused by a second merge, which changes nothing', async () => {
    await using f = await fixture();
    const a = f.server.route('/a', 'i');
    const b = f.server.route('/b', 'i');
    const subA = a.sub();
    const subB = b.sub();
    const first = merge(subA, subB);
    const other = b.sub();
    assert.throws(() => merge(other, subA), refused);
    // the refused merge claimed nothing: `other` can still be merged, and the first merge still wakes
    const second = merge(other);
    const next = first.next();
    await f.address.send('/a', 1);
    assert.deepEqual(await within(2000, 'a merge', next), { value: [a, [1]], done: false });
    const fromSecond = second.next();
    await f.address.send('/b', 2);
    assert.deepEqual((await within(2000, 'a merge', first.next())).value, [b, [2]]);
    assert.deepEqual((await within(2000, 'a merge', fromSecond)).value, [b, [2]]);
    await first.return();
    await second.return();
  });

  test('the same subscription twice in one merge is refused', async () => {
    await using f = await fixture();
    const sub = f.server.route('/a', 'i').sub();
    assert.throws(() => merge(sub, sub), refused);
    // and it can still be merged once
    const m = merge(sub);
    await m.return();
    assert.equal(sub.active, false);
  });

  test('once a merge has ended, its (ended) subscriptions can be merged again: the merge just ends', async () => {
    await using f = await fixture();
    const sub = f.server.route('/a', 'i').sub();
    await merge(sub).return();
    const again = merge(sub);
    assert.deepEqual(await within(2000, 'a merge', again.next()), { value: undefined, done: true });
  });

  test('merge() takes only subscriptions made by route.sub()', () => {
    const fake = { route: null } as unknown as Subscription<unknown, Route>;
    assert.throws(() => merge(fake), refused);
  });
});

// Pattern routes: server.match(pattern) receives every message whose literal path matches the
// pattern — the reverse of OSC dispatch, where the incoming path is the pattern.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, RouteError, Server } from '../../src/index.js';
import { event, take, within } from '../helpers/async.js';

const LOCAL = '127.0.0.1';

async function fixture(options: { maxPatternSteps?: number } = {}) {
  const server = new Server({ host: LOCAL, ...options });
  await server.start();
  const address = new Address({ url: server.url as string });
  return {
    server,
    address,
    async settle(messages: number) {
      await within(
        3000,
        `${messages} messages`,
        (async () => {
          while (server.stats.messages + server.stats.malformed < messages) await new Promise((r) => setTimeout(r, 2));
        })(),
      );
    },
    async [Symbol.asyncDispose]() {
      await address.close();
      await server.stop();
    },
  };
}

describe('server.match()', () => {
  test('receives the messages whose path matches, with their actual paths', async () => {
    await using f = await fixture();
    const params = f.server.match('/avatar/parameters/*', 'f');
    const sub = params.sub({ incoming: true });
    await f.address.send('/avatar/parameters/VelocityX', 0.5);
    await f.address.send('/avatar/parameters/a/b', 1.5); // * does not cross /
    await f.address.send('/avatar/other', 2.5);
    await f.address.send('/avatar/parameters/Grounded', 1); // i, coerced to the route's f
    await f.address.send('/avatar/parameters/Name', 'no'); // s does not fit f
    await f.settle(5);
    const got = await take(sub, 2);
    assert.deepEqual(
      got.map((m) => [m.path, m.typetags, [...m.args]]),
      [
        ['/avatar/parameters/VelocityX', 'f', [0.5]],
        ['/avatar/parameters/Grounded', 'f', [1]],
      ],
    );
    assert.equal(got[0]?.route, params);
    assert.equal(f.server.stats.unmatched, 3);
  });

  test('// matches any number of levels; {a,b} and [] work too', async () => {
    await using f = await fixture();
    const deep = f.server.match('//volume').sub();
    const pick = f.server.match('/mixer/{left,right}/ch[1-2]').sub({ incoming: true });
    await f.address.send('/a/b/c/volume', 1);
    await f.address.send('/volume', 2);
    await f.address.send('/mixer/left/ch2', 3);
    await f.address.send('/mixer/centre/ch1', 4);
    await f.address.send('/mixer/right/ch3', 5);
    await f.settle(5);
    assert.deepEqual(await take(deep, 2), [[1], [2]]);
    assert.deepEqual(
      (await take(pick, 1)).map((m) => m.path),
      ['/mixer/left/ch2'],
    );
    assert.equal(pick.pending, 0);
  });

  test('a message whose path is a pattern does not reach pattern routes', async () => {
    await using f = await fixture();
    const literal = f.server.route('/synth/1').sub({ incoming: true });
    const byPattern = f.server.match('/synth/*').sub();
    await f.address.send('/synth/?', 'pattern'); // OSC dispatch: reaches the literal route only
    await f.address.send('/synth/1', 'literal'); // reaches both
    await f.settle(2);
    assert.deepEqual(
      (await take(literal, 2)).map((m) => [m.path, m.args[0]]),
      [
        ['/synth/?', 'pattern'],
        ['/synth/1', 'literal'],
      ],
    );
    assert.deepEqual(await take(byPattern, 1), [['literal']]);
    assert.equal(byPattern.pending, 0);
    assert.equal(f.server.stats.dispatched, 2, 'one message reaching two routes is dispatched once');
  });

  test('the same pattern and typespec is the same route; unroute ends it; route() points at match()', async () => {
    await using f = await fixture();
    const a = f.server.match('/x/*', 'i');
    assert.equal(f.server.match('/x/*', 'i'), a);
    assert.notEqual(f.server.match('/x/*', 'f'), a);
    assert.equal(a.pattern?.source, '/x/*');
    const sub = a.sub();
    f.server.unroute(a);
    assert.equal((await sub.next()).done, true);
    assert.throws(
      () => f.server.route('/x/*'),
      (e: unknown) => e instanceof RouteError && /server\.match\("\/x\/\*"\)/.test(e.message),
    );
    assert.throws(() => f.server.match('/x/[a'), RouteError);
    assert.throws(() => f.server.match('x/*'), RouteError);
  });

  test('a path too costly to match the pattern routes is rejected whole and reported', async () => {
    await using f = await fixture({ maxPatternSteps: 50 });
    const literal = f.server.route('/a/b/c/d/e/f/g/h').sub();
    f.server.match('//h');
    const malformed = event<[{ code: string }]>(f.server, 'malformed');
    await f.address.send('/a/b/c/d/e/f/g/h');
    const [err] = await malformed;
    assert.equal(err.code, 'ERR_OSC_PATTERN_TOO_COSTLY');
    assert.equal(literal.pending, 0, 'not delivered to the literal route either');
  });
});

// Replying to a message's source, as scsynth answers /status: over UDP from the server's own port
// (so the answer reaches the asking server's routes), over TCP on the same connection; and the
// right source for messages that waited in the schedule (liblo 0.31 answers whoever sent last).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, Message, SendError, Server, TimeTag } from '../../src/index.js';
import { take } from '../helpers/async.js';

const LOCAL = '127.0.0.1';

for (const proto of ['udp', 'tcp'] as const) {
  describe(`replies over ${proto.toUpperCase()}`, () => {
    test('a server sending from its socket gets the reply at its own routes', async () => {
      const synth = new Server({ proto, host: LOCAL, port: 0 });
      const client = new Server({ proto, host: LOCAL, port: 0 });
      await Promise.all([synth.start(), client.start()]);
      try {
        const status = synth.route('/status', 'i').sub({ incoming: true });
        (async () => {
          for await (const m of status) await m.source.send('/status.reply', m.args[0], 'ok');
        })();
        const replies = client.route('/status.reply', 'is').sub({ incoming: true });
        const toSynth = client.address(synth.url as string);
        await toSynth.send('/status', 7);
        const [reply] = await take(replies, 1);
        assert.deepEqual(reply?.args, [7, 'ok']);
        assert.equal(reply?.path, '/status.reply');
        assert.ok(reply?.timetag.isImmediate);
        if (proto === 'udp') {
          // the request left from the client server's port, and the reply came from the synth's
          assert.equal(reply?.source.url, `osc.udp://${LOCAL}:${synth.port}/`);
        } else {
          assert.match(reply?.source.url ?? '', /^osc\.tcp:\/\/127\.0\.0\.1:\d+\/$/);
        }
        await toSynth.close();
      } finally {
        await Promise.all([synth.stop(), client.stop()]);
      }
    });
  });
}

describe('reply sources', () => {
  test('a queued message keeps the source that sent it, whoever sent since', async () => {
    const server = new Server({ host: LOCAL });
    const alice = new Server({ host: LOCAL });
    const bob = new Server({ host: LOCAL });
    await Promise.all([server.start(), alice.start(), bob.start()]);
    try {
      const sub = server.route('/who', 's').sub({ incoming: true });
      const fromAlice = alice.address(server.url as string);
      const fromBob = bob.address(server.url as string);
      await fromAlice.bundle([Message.typed('/who', 's', 'alice')], TimeTag.now().add(0.2));
      await fromBob.send('/who', 'bob'); // arrives last, dispatched first
      const got = await take(sub, 2);
      assert.deepEqual(
        got.map((m) => [m.args[0], m.source.url]),
        [
          ['bob', `osc.udp://${LOCAL}:${bob.port}/`],
          ['alice', `osc.udp://${LOCAL}:${alice.port}/`],
        ],
      );
    } finally {
      await Promise.all([server.stop(), alice.stop(), bob.stop()]);
    }
  });

  test('replying after the server stopped rejects with SendError', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    const sub = server.route('/x').sub({ incoming: true });
    const a = new Address({ url: server.url as string });
    await a.send('/x');
    const [m] = await take(sub, 1);
    await server.stop();
    await assert.rejects(
      m?.source.send('/late') as Promise<number>,
      (e: unknown) => e instanceof SendError && e.code === 'ERR_OSC_CLOSED',
    );
    await a.close();
  });
});

// Replies across implementations: a liblo client sends to an aiolo server, which replies to the
// message's source, and the reply reaches the liblo client; and the reverse, an aiolo server
// sending to a liblo server that replies to the source (UDP and TCP).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Message, Server } from '../../src/index.js';
import { take, within } from '../helpers/async.js';
import { LO_PEER, LoReceiver, LoSender, loMessageCommand } from '../helpers/lo.js';
import { needPeer } from '../helpers/peers.js';

const LOCAL = '127.0.0.1';

for (const proto of ['udp', 'tcp'] as const) {
  describe(`replies over ${proto.toUpperCase()}`, () => {
    test('liblo client -> aiolo server -> reply to source -> liblo client', async (t) => {
      if (!needPeer(t, LO_PEER)) return;
      const server = new Server({ proto, host: LOCAL, port: 0 });
      await server.start();
      try {
        const sub = server.route('/status', 'i').sub({ incoming: true });
        (async () => {
          for await (const m of sub) await m.source.send('/status.reply', m.args[0] + 1, 'ok');
        })();
        await using lo = new LoSender();
        await lo.command(`server ${proto}`); // liblo sends from a server of its own (lo_send_message_from)
        await lo.command(`target osc.${proto}://${LOCAL}:${server.port}/`);
        await lo.command(loMessageCommand(Message.typed('/status', 'i', 41)));
        await within(
          3000,
          'the reply',
          (async () => {
            while (lo.messages.length === 0) await lo.command('poll 500');
          })(),
        );
        const [reply] = lo.messages;
        assert.equal(reply?.path, '/status.reply');
        assert.deepEqual(reply?.message.args, [42, 'ok']);
        sub.unsub();
      } finally {
        await server.stop();
      }
    });

    test('aiolo server -> liblo server -> reply to source -> aiolo server', async (t) => {
      if (!needPeer(t, LO_PEER)) return;
      await using lo = await LoReceiver.start(proto, '-r'); // replies with /reply and the same args
      const server = new Server({ proto, host: LOCAL, port: 0 });
      await server.start();
      try {
        const replies = server.route('/reply', 'is').sub({ incoming: true });
        const toLiblo = server.address({ host: LOCAL, port: lo.port, proto });
        await toLiblo.send('/question', 7, 'why');
        const [reply] = await take(replies, 1);
        assert.deepEqual(reply?.args, [7, 'why']);
        const [seen] = await lo.waitFor(1);
        if (proto === 'udp') {
          // liblo saw the message come from the aiolo server's own port
          assert.equal(seen?.source, `osc.udp://${LOCAL}:${server.port}/`);
        }
        await toLiblo.close();
      } finally {
        await server.stop();
      }
    });
  });
}

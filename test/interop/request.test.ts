// address.request() against liblo itself: a liblo server (lo_peer recv -r) answers every message
// with /reply and the same arguments, to the message's source. Over UDP the reply comes back to the
// address's own socket (or to the server it sends from); over TCP on the same connection.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, Server } from '../../src/index.js';
import { LO_PEER, LoReceiver } from '../helpers/lo.js';
import { needPeer } from '../helpers/peers.js';

const LOCAL = '127.0.0.1';

for (const proto of ['udp', 'tcp'] as const) {
  describe(`request to liblo over ${proto.toUpperCase()}`, () => {
    test('an address of its own', async (t) => {
      if (!needPeer(t, LO_PEER)) return;
      await using lo = await LoReceiver.start(proto, '-r');
      await using address = new Address({ host: LOCAL, port: lo.port, proto });
      const reply = await address.request('/status', [7, 'why'], {
        reply: { path: '/reply', typespec: 'is' } as const,
        timeout: 3000,
      });
      assert.deepEqual(reply.args, [7, 'why']);
      const [seen] = await lo.waitFor(1);
      assert.equal(seen?.path, '/status');
    });

    test('an address sending from a server', async (t) => {
      if (!needPeer(t, LO_PEER)) return;
      await using lo = await LoReceiver.start(proto, '-r');
      const server = new Server({ proto, host: LOCAL, port: 0 });
      await server.start();
      try {
        const toLiblo = server.address({ host: LOCAL, port: lo.port, proto });
        const reply = await toLiblo.request('/status', [1.5], { reply: '/reply', timeout: 3000 });
        assert.deepEqual(reply.args, [1.5]);
        assert.equal(server.stats.unmatched, 0);
        await toLiblo.close();
      } finally {
        await server.stop();
      }
    });
  });
}

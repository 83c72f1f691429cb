// Clean shutdown: after stop() no socket, connection, timer or listener of ours is left, however
// many times a server starts and stops (the long run is in the robustness suite).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, Message, Server, TimeTag } from '../../src/index.js';
import { take } from '../helpers/async.js';

const LOCAL = '127.0.0.1';

function resources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

function same(before: Map<string, number>, after: Map<string, number>): string | undefined {
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if ((before.get(key) ?? 0) !== (after.get(key) ?? 0)) {
      return `${key}: ${before.get(key) ?? 0} before, ${after.get(key) ?? 0} after`;
    }
  }
  return undefined;
}

async function settle(): Promise<void> {
  // closed handles leave libuv's list on the next loop turns
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('lifecycle', () => {
  for (const proto of ['udp', 'tcp'] as const) {
    test(`${proto}: 50 start/stop cycles with traffic, queued bundles and subscriptions leave nothing open`, async () => {
      await settle();
      const before = resources();
      for (let i = 0; i < 50; i++) {
        const server = new Server({ proto, host: LOCAL, port: 0 });
        await server.start();
        const sub = server.route('/x', 'i').sub();
        const a = new Address({ url: server.url as string });
        await a.send('/x', i);
        await a.bundle([Message.typed('/x', 'i', i)], TimeTag.now().add(60)); // left waiting
        await take(sub, 1);
        await a.close();
        await server.stop();
        assert.equal(server.listenerCount('malformed'), 0);
      }
      await settle();
      const leak = same(before, resources());
      assert.equal(leak, undefined, leak);
    });
  }

  test('a server that failed to start leaves nothing open', async () => {
    const holder = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
    await holder.start();
    await settle();
    const before = resources();
    for (let i = 0; i < 20; i++) {
      await new Server({ proto: 'tcp', host: LOCAL, port: holder.port as number }).start().catch(() => undefined);
      await new Server({ proto: 'udp', host: '203.0.113.1', port: 0 }).start().catch(() => undefined); // not ours
    }
    await settle();
    assert.equal(same(before, resources()), undefined);
    await holder.stop();
  });
});

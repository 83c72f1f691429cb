// bridge(): every packet forwarded byte for byte, replies back to the client that caused them (one
// upstream per client, against an aiolo and a liblo far side), the counters, the client limits and
// timeouts, and a stop that releases every socket.
import assert from 'node:assert/strict';
import { createSocket, type Socket as DatagramSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import {
  Address,
  ANY_PATH,
  type Bridge,
  Bundle,
  bridge,
  encode,
  Message,
  OscConfigError,
  Server,
  StartError,
  type Started,
  TimeTag,
} from '../../src/index.js';
import { event, until, within } from '../helpers/async.js';
import { needPeer, PYLIBLO } from '../helpers/peers.js';
import { Running } from '../helpers/proc.js';

const LOCAL = '127.0.0.1';
type Proto = 'udp' | 'tcp' | 'ws';

/** A far side that answers every message with /echo and the same arguments, to its source. */
async function echoServer(proto: Proto = 'udp'): Promise<Started> {
  const server = new Server({ proto, host: LOCAL, port: 0 });
  server.route(ANY_PATH).on(async (args, m) => {
    await m.source.send('/echo', ...args);
  });
  return server.start();
}

/** A client: a server whose address to the bridge sends from it, so replies reach its /echo route. */
async function client(bridgeUrl: string) {
  const server = await new Server({ host: LOCAL, port: 0 }).start();
  const replies: number[] = [];
  server.route('/echo', 'i').on(([id]) => {
    replies.push(id);
  });
  const address = server.address(bridgeUrl);
  return {
    server,
    address,
    replies,
    async [Symbol.asyncDispose]() {
      await address.close();
      await server.stop();
    },
  };
}

async function rawUdp(): Promise<DatagramSocket> {
  const socket = createSocket('udp4');
  socket.bind(0, LOCAL);
  await once(socket, 'listening');
  return socket;
}

/** Three clients send interleaved; each must get back exactly its own replies. */
async function threeClients(b: Bridge, n = 5): Promise<void> {
  const clients = await Promise.all([client(b.url), client(b.url), client(b.url)]);
  try {
    for (let i = 0; i < n; i++) {
      for (const [c, cl] of clients.entries()) await cl.address.send('/ping', (c + 1) * 100 + i);
    }
    const total = () => clients.reduce((sum, cl) => sum + cl.replies.length, 0);
    await until(5000, `${3 * n} replies`, () => total() >= 3 * n);
    for (const [c, cl] of clients.entries()) {
      assert.deepEqual(
        [...cl.replies].sort((x, y) => x - y),
        Array.from({ length: n }, (_, i) => (c + 1) * 100 + i),
        `client ${c} got only its own replies`,
      );
    }
  } finally {
    await Promise.all(clients.map((cl) => cl[Symbol.asyncDispose]()));
  }
}

describe('bridge: replies go back to the client that caused them', () => {
  for (const [from, to] of [
    ['udp', 'udp'],
    ['tcp', 'udp'],
    ['udp', 'tcp'],
    ['tcp', 'tcp'],
    ['ws', 'udp'],
    ['udp', 'ws'],
    ['ws', 'ws'],
  ] as const) {
    test(`${from.toUpperCase()} → ${to.toUpperCase()}: three clients, each its own replies`, async () => {
      const far = await echoServer(to);
      const b = await bridge(`osc.${from}://${LOCAL}:0`, far.url);
      try {
        await threeClients(b);
        const s = b.stats;
        assert.equal(s.forwarded, 15);
        assert.equal(s.returned, 15);
        assert.equal(s.clientsTotal, 3);
        // the clients have closed their connections by now, and their upstreams with them
        await until(
          5000,
          'upstreams of closed connections to close',
          () => b.stats.clients === (from === 'udp' ? 3 : 0),
        );
        assert.equal(s.lost, 0);
      } finally {
        await b.stop();
        await far.stop();
      }
    });
  }

  test('a liblo far side (pyliblo) answering from its own port', { timeout: 30_000 }, async (t) => {
    if (!needPeer(t, PYLIBLO)) return;
    const far = new Running([PYLIBLO.command, 'test/peers/pyliblo_echo.py']);
    let b: Bridge | undefined;
    try {
      await far.until(() => far.stdout.includes('\n'), 'the pyliblo echo server to print its port');
      const port = Number(far.stdout.toString().trim());
      b = await bridge(`osc.udp://${LOCAL}:0`, `osc.udp://${LOCAL}:${port}`);
      await threeClients(b);
      assert.equal(b.stats.returned, 15);
      assert.equal(b.stats.lost, 0);
    } finally {
      await b?.stop();
      await far.stop('SIGKILL');
    }
  });
});

describe('bridge: packets forwarded unchanged', () => {
  for (const from of ['udp', 'tcp'] as const) {
    test(`${from.toUpperCase()} → UDP: messages and nested bundles with future timetags, byte for byte`, async () => {
      const raw = await rawUdp();
      const b = await bridge(`osc.${from}://${LOCAL}:0`, `osc.udp://${LOCAL}:${raw.address().port}`);
      const a = new Address(b.url);
      try {
        const packets = [
          Message.typed('/m', 'ifsh', 1, 2.5, 'x', 3n),
          new Bundle(
            [Message.typed('/b/1', 'i', 1), new Bundle(Message.typed('/b/2', 's', 'y'), TimeTag.now().add(20))],
            TimeTag.now().add(10),
          ),
          new Bundle(Message.typed('/b/past', 'd', Math.PI), new TimeTag(1, 2)),
        ];
        for (const p of packets) {
          const arrived = once(raw, 'message') as Promise<[Buffer]>;
          await (p instanceof Bundle ? a.bundle(p) : a.message(p));
          const [bytes] = await within(5000, 'the forwarded packet', arrived);
          assert.equal(bytes.toString('hex'), Buffer.from(encode(p)).toString('hex'));
        }
        assert.equal(b.stats.forwarded, 3);
        assert.equal(
          b.stats.forwardedBytes,
          packets.reduce((n, p) => n + encode(p).length, 0),
        );
      } finally {
        await a.close();
        await b.stop();
        raw.close();
      }
    });
  }
});

describe('bridge: counters, limits and lifecycle', () => {
  test('stop() is idempotent, ends every client and releases every port', async () => {
    const far = await echoServer();
    const upstreams: string[] = [];
    const closedReasons: string[] = [];
    let b = await bridge(`osc.udp://${LOCAL}:0`, far.url);
    b.on('client', (_client, upstream) => upstreams.push(upstream));
    b.on('clientClosed', (_client, reason) => closedReasons.push(reason));
    const port = Number(/:(\d+)\/$/.exec(b.url)?.[1]);
    try {
      await threeClients(b, 2);
      assert.equal(upstreams.length, 3);
      const first = b.stop();
      assert.equal(b.stop(), first, 'the same promise');
      await first;
      await b.stop();
      assert.deepEqual(closedReasons, ['stopped', 'stopped', 'stopped']);
      assert.equal(b.stats.clients, 0);
      assert.deepEqual(b.clients, []);
      // every upstream's port is free again, and so is the bridge's
      for (const url of upstreams) {
        const socket = createSocket('udp4');
        socket.bind(Number(/:(\d+)\/$/.exec(url)?.[1]));
        await once(socket, 'listening');
        socket.close();
      }
      b = await bridge(`osc.udp://${LOCAL}:${port}`, far.url);
      assert.equal(b.url, `osc.udp://${LOCAL}:${port}/`);
      await threeClients(b, 1);
    } finally {
      await b.stop();
      await far.stop();
    }
  });

  test('a TCP bridge stopped releases its port to a new one', async () => {
    const far = await echoServer();
    let b = await bridge(`osc.tcp://${LOCAL}:0`, far.url);
    try {
      await threeClients(b, 1);
      const url = b.url;
      await b.stop();
      b = await bridge(url, far.url);
      await threeClients(b, 1);
      assert.equal(b.stats.returned, 3);
    } finally {
      await b.stop();
      await far.stop();
    }
  });

  test('an AbortSignal stops it', async () => {
    const far = await echoServer();
    const ac = new AbortController();
    const b = await bridge(`osc.udp://${LOCAL}:0`, far.url, { signal: ac.signal });
    try {
      ac.abort();
      await within(5000, 'the bridge to close', b.closed);
      const a = new Address(b.url);
      // nothing listens any more (a send into the void succeeds over UDP: the counters tell)
      await a.send('/after');
      await a.close();
      assert.equal(b.stats.forwarded, 0);
    } finally {
      await b.stop();
      await far.stop();
    }
  });

  test('counts bytes each way, and every loss by its reason', async () => {
    const far = await echoServer();
    const b = await bridge(`osc.udp://${LOCAL}:0`, far.url, { maxClients: 1, whenFull: 'refuse' });
    const losses: string[] = [];
    b.on('lost', (loss) => losses.push(`${loss.reason} ${loss.direction}`));
    await using a = await client(b.url);
    await using other = await client(b.url);
    const raw = await rawUdp();
    try {
      await a.address.send('/ping', 1); // 16 bytes; /echo i 1 back: 16
      await a.address.send('/ping', 2);
      await until(5000, 'two replies', () => a.replies.length === 2);
      await other.address.send('/ping', 3); // refused: one client at most
      await until(5000, 'the refusal', () => b.stats.refused === 1);
      raw.send(Buffer.from('not osc'), Number(/:(\d+)\/$/.exec(b.url)?.[1]), LOCAL);
      await until(5000, 'the malformed packet', () => b.stats.malformed === 1);
      const s = b.stats;
      assert.deepEqual(
        [s.forwarded, s.forwardedBytes, s.returned, s.returnedBytes, s.clients, s.clientsTotal],
        [2, 32, 2, 32, 1, 1],
      );
      assert.deepEqual([s.refused, s.malformed, s.forwardFailed, s.returnFailed, s.evicted], [1, 1, 0, 0, 0]);
      assert.equal(s.lost, 2 + (s.kernelDropped ?? 0));
      assert.deepEqual(losses, ['refused >', 'malformed >']);
      assert.deepEqual(other.replies, []);
    } finally {
      raw.close();
      await b.stop();
      await far.stop();
    }
  });

  test('when full, a newcomer evicts the client silent the longest', async () => {
    const far = await echoServer();
    const b = await bridge(`osc.udp://${LOCAL}:0`, far.url, { maxClients: 2 });
    await using a = await client(b.url);
    await using c = await client(b.url);
    await using d = await client(b.url);
    try {
      await a.address.send('/ping', 1);
      await c.address.send('/ping', 2);
      await until(5000, 'two replies', () => a.replies.length + c.replies.length === 2);
      const evicted = event<[string, string]>(b, 'clientClosed');
      await d.address.send('/ping', 3);
      const [who, reason] = await evicted;
      assert.deepEqual([who, reason], [`osc.udp://${LOCAL}:${a.server.port}/`, 'evicted']);
      await until(5000, 'the newcomer served', () => d.replies.length === 1);
      assert.deepEqual([b.stats.evicted, b.stats.clients, b.stats.clientsTotal, b.stats.lost], [1, 2, 3, 0]);
    } finally {
      await b.stop();
      await far.stop();
    }
  });

  test('an idle client’s upstream closes; the client is served again when it comes back', async () => {
    const far = await echoServer();
    const b = await bridge(`osc.udp://${LOCAL}:0`, far.url, { idleTimeout: 50 });
    await using a = await client(b.url);
    try {
      const closed = event<[string, string]>(b, 'clientClosed');
      await a.address.send('/ping', 1);
      assert.deepEqual(await closed, [`osc.udp://${LOCAL}:${a.server.port}/`, 'idle']);
      assert.equal(b.stats.clients, 0);
      await a.address.send('/ping', 2);
      await until(5000, 'both replies', () => a.replies.length === 2);
      assert.deepEqual([b.stats.clientsTotal, b.stats.lost], [2, 0]);
    } finally {
      await b.stop();
      await far.stop();
    }
  });

  for (const proto of ['tcp', 'ws'] as const) {
    test(`a ${proto.toUpperCase()} client that closes its connection: its upstream closes at once`, async () => {
      const far = await new Server({ host: LOCAL, port: 0 }).start();
      const held = far.route('/hold');
      const b = await bridge(`osc.${proto}://${LOCAL}:0`, far.url);
      const a = new Address(b.url);
      try {
        const arrived = held.next({ timeout: 5000 });
        await a.send('/hold');
        await arrived;
        assert.equal(b.stats.clients, 1);
        const closed = event<[string, string]>(b, 'clientClosed');
        await a.close();
        assert.equal((await closed)[1], 'gone');
        assert.equal(b.stats.clients, 0);
        assert.equal(b.stats.lost, 0);
      } finally {
        await a.close();
        await b.stop();
        await far.stop();
      }
    });
  }

  test('a far side that cannot be reached: each packet counted as forwardFailed', async () => {
    const probe = createServer();
    probe.listen(0, LOCAL);
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve)); // nothing listens there now
    const b = await bridge(`osc.udp://${LOCAL}:0`, `osc.tcp://${LOCAL}:${port}`);
    const errors: unknown[] = [];
    b.on('lost', (loss) => errors.push(loss.error));
    const a = new Address(b.url);
    try {
      await a.send('/x', 1);
      await a.send('/x', 2);
      await until(5000, 'two failures', () => b.stats.forwardFailed === 2);
      assert.equal(b.stats.forwarded, 0);
      assert.equal((errors[0] as { code?: string }).code, 'ERR_OSC_SEND_FAILED');
    } finally {
      await a.close();
      await b.stop();
    }
  });

  test('bad arguments: OscConfigError; a port in use or an unknown transport: StartError', async () => {
    await assert.rejects(bridge('osc.udp://:0', 'nonsense'), OscConfigError);
    await assert.rejects(bridge('osc.udp://:0', 'osc.udp://localhost:9', { maxClients: 0 }), OscConfigError);
    await assert.rejects(
      bridge('osc.udp://:0', 'osc.udp://localhost:9', { idelTimeout: 5 } as object),
      /did you mean idleTimeout/,
    );
    await assert.rejects(bridge('osc.udp://:0', 'osc.sctp://localhost:9'), { code: 'ERR_OSC_UNKNOWN_PROTOCOL' });
    const b = await bridge(`osc.udp://${LOCAL}:0`, 'osc.udp://localhost:9');
    try {
      await assert.rejects(bridge(b.url, 'osc.udp://localhost:9'), (err: unknown) => {
        assert.ok(err instanceof StartError);
        assert.equal(err.code, 'ERR_OSC_ADDRESS_IN_USE');
        return true;
      });
    } finally {
      await b.stop();
    }
  });
});

// Every typetag liblo supports, at its extremes, and bundles (immediate, past, future, nested),
// over every transport liblo has: UDP, TCP with liblo's length prefix and with its SLIP option, and
// Unix datagram sockets — liblo -> aiolo and aiolo -> liblo. (Multicast: test/server/multicast.test.ts
// and the namespace tests.)
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Address,
  ANY_PATH,
  Bundle,
  Char,
  INFINITUM,
  type Incoming,
  Message,
  Midi,
  OscSymbol,
  Server,
  TimeTag,
} from '../../src/index.js';
import { unixAvailable } from '../../src/transport/unix.js';
import { take, within } from '../helpers/async.js';
import { asMessage, LO_PEER, LoReceiver, LoSender, loMessageCommand } from '../helpers/lo.js';
import { IN_CI, needPeer } from '../helpers/peers.js';

const LOCAL = '127.0.0.1';

/** Every liblo typetag, with extremes: int limits, -0, inf, nan, empty and non-ASCII strings, odd blobs, timetags. */
const EDGE: Message[] = [
  Message.typed('/i', 'iiii', 0, -1, 2147483647, -2147483648),
  Message.typed('/h', 'hhh', 0n, 9223372036854775807n, -9223372036854775808n),
  Message.typed('/f', 'fffff', -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 3.4e38),
  Message.typed('/d', 'dddd', -0, Number.NaN, 1e300, 5e-324),
  Message.typed('/s', 'sss', '', 'héllo wörld', '日本語 🎛'),
  Message.typed('/S', 'SS', new OscSymbol(''), new OscSymbol('sym')),
  Message.typed('/c', 'ccc', new Char(0), new Char(0x41), new Char(0xff)),
  Message.typed(
    '/b',
    'bbbbb',
    Uint8Array.of(1),
    Uint8Array.of(1, 2, 3),
    Uint8Array.of(1, 2, 3, 4),
    Uint8Array.of(1, 2, 3, 4, 5),
    new Uint8Array(1000).fill(7),
  ),
  Message.typed('/m', 'mm', new Midi(0x90, 0x40, 0x3f, 0x7f), new Midi(0, 0, 0, 0xff)),
  Message.typed('/t', 'ttt', TimeTag.IMMEDIATE, new TimeTag(0, 0), new TimeTag(0xffffffff, 0xffffffff)),
  Message.typed('/tfni', 'TFNI', true, false, null, INFINITUM),
  new Message('/empty'),
  Message.typed(
    '/mix',
    'ihfdsScbmtTFNI',
    1,
    2n,
    3.5,
    4.25,
    'str',
    new OscSymbol('sym'),
    new Char(0x78),
    Uint8Array.of(9),
    new Midi(1, 2, 3, 4),
    new TimeTag(1, 2),
    true,
    false,
    null,
    INFINITUM,
  ),
];
/** liblo 0.31 can receive an empty blob but cannot make one. */
const EMPTY_BLOB = Message.typed('/b0', 'b', new Uint8Array(0));

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiolo-interop-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Transport = { name: string; aiolo: () => Server; slip?: boolean; unix?: boolean };
const TRANSPORTS: Transport[] = [
  { name: 'UDP', aiolo: () => new Server({ host: LOCAL }) },
  { name: 'TCP, length prefix', aiolo: () => new Server({ proto: 'tcp', host: LOCAL, port: 0 }) },
  { name: 'TCP, SLIP', aiolo: () => new Server({ proto: 'tcp', host: LOCAL, port: 0 }), slip: true },
  { name: 'Unix', aiolo: () => new Server({ port: join(dir, `aiolo-${process.pid}.sock`) }), unix: true },
];

const unixMissing = !unixAvailable() && !IN_CI;

for (const tr of TRANSPORTS) {
  describe(`interop over ${tr.name}`, { skip: tr.unix && unixMissing ? 'unix-dgram is not installed' : false }, () => {
    test('liblo -> aiolo: every typetag and its extremes', async (t) => {
      if (!needPeer(t, LO_PEER)) return;
      const server = tr.aiolo();
      await server.start();
      try {
        const sub = server.route(ANY_PATH).sub({ incoming: true });
        await using lo = new LoSender();
        await lo.command(`target ${server.url}${tr.slip ? ' slip' : ''}`);
        for (const m of EDGE) assert.match(await lo.command(loMessageCommand(m)), /^SENT [1-9]/);
        const got = await take(sub, EDGE.length);
        got.forEach((m, i) => {
          const as = asMessage(m);
          assert.ok(as.equals(EDGE[i]), `${as} != ${EDGE[i]}`);
        });
        assert.equal(server.stats.malformed, 0);
      } finally {
        await server.stop();
      }
    });

    test('aiolo -> liblo: every typetag and its extremes, and an empty blob', async (t) => {
      if (!needPeer(t, LO_PEER)) return;
      const spec = tr.unix ? `osc.unix://${join(dir, `lo-${process.pid}.sock`)}` : tr.name === 'UDP' ? 'udp' : 'tcp';
      await using lo = await LoReceiver.start(spec);
      const a = tr.unix
        ? new Address({ url: spec })
        : new Address({ host: LOCAL, port: lo.port, proto: tr.name === 'UDP' ? 'udp' : 'tcp' }, { slip: tr.slip });
      try {
        const all = [...EDGE, EMPTY_BLOB];
        for (const m of all) await a.message(m);
        const got = await lo.waitFor(all.length);
        got.forEach((m, i) => {
          assert.ok(m.message.equals(all[i]), `liblo got ${m.message}, sent ${all[i]}`);
          assert.ok(m.timetag.isImmediate);
        });
        assert.deepEqual(lo.errors, []);
      } finally {
        await a.close();
      }
    });

    test('bundles both ways: immediate, past and nested keep their timetags', async (t) => {
      if (!needPeer(t, LO_PEER)) return;
      const past = new TimeTag(1, 0);
      const nested = new Bundle([
        Message.typed('/one', 'i', 1),
        new Bundle(Message.typed('/two', 's', 'x'), new TimeTag(2, 0)),
      ]);
      const packets = [
        new Bundle([Message.typed('/a', 'i', 1), Message.typed('/b', 'f', 2)]),
        new Bundle(Message.typed('/p', 'i', 3), past),
        nested,
      ];
      const expect: [string, TimeTag][] = [
        ['/a', TimeTag.IMMEDIATE],
        ['/b', TimeTag.IMMEDIATE],
        ['/p', past],
        ['/one', TimeTag.IMMEDIATE],
        ['/two', new TimeTag(2, 0)],
      ];
      // aiolo -> liblo
      const spec = tr.unix ? `osc.unix://${join(dir, `lob-${process.pid}.sock`)}` : tr.name === 'UDP' ? 'udp' : 'tcp';
      {
        await using lo = await LoReceiver.start(spec);
        const a = tr.unix
          ? new Address({ url: spec })
          : new Address({ host: LOCAL, port: lo.port, proto: tr.name === 'UDP' ? 'udp' : 'tcp' }, { slip: tr.slip });
        for (const p of packets) await a.bundle(p);
        const got = await lo.waitFor(expect.length);
        assert.deepEqual(
          got.map((m) => [m.path, m.timetag.toString()]),
          expect.map(([p, tt]) => [p, tt.toString()]),
        );
        await a.close();
      }
      // liblo -> aiolo
      const server = tr.aiolo();
      await server.start();
      try {
        const sub = server.route(ANY_PATH).sub({ incoming: true });
        await using lo = new LoSender();
        await lo.command(`target ${server.url}${tr.slip ? ' slip' : ''}`);
        const send = async (p: Message | Bundle): Promise<void> => {
          if (p instanceof Message) {
            await lo.command(loMessageCommand(p));
            return;
          }
          await lo.command(`bundle ${p.timetag.seconds.toString(16)} ${p.timetag.fraction.toString(16)}`);
          for (const e of p.elements) await send(e);
          await lo.command('end');
        };
        for (const p of packets) await send(p);
        const got: Incoming[] = await take(sub, expect.length);
        assert.deepEqual(
          got.map((m) => [m.path, m.timetag.toString()]),
          expect.map(([p, tt]) => [p, tt.toString()]),
        );
      } finally {
        await server.stop();
      }
    });
  });
}

describe('future bundles', () => {
  test('sent by liblo, dispatched by aiolo at their time, never early', async (t) => {
    if (!needPeer(t, LO_PEER)) return;
    const server = new Server({ host: LOCAL });
    await server.start();
    try {
      const sub = server.route('/later', 'i').sub({ incoming: true });
      await using lo = new LoSender();
      await lo.command(`target ${server.url}`);
      const base = TimeTag.now();
      const offsets = [0.3, 0.1, 0.2];
      for (const [i, s] of offsets.entries()) {
        const tt = base.add(s);
        await lo.command(`bundle ${tt.seconds.toString(16)} ${tt.fraction.toString(16)}`);
        await lo.command(loMessageCommand(Message.typed('/later', 'i', i)));
        await lo.command('end');
      }
      const lateness: number[] = [];
      await within(
        5000,
        'three bundles',
        (async () => {
          for await (const m of sub) {
            const late = TimeTag.now().diff(m.timetag);
            assert.ok(late >= 0, `dispatched ${-late * 1000} ms early`);
            lateness.push(late * 1000);
            if (lateness.length === 3) break;
          }
        })(),
      );
      // dispatched in time order, not in the order sent
      assert.equal(lateness.length, 3);
      t.diagnostic(`lateness observed by the consumer: ${lateness.map((x) => x.toFixed(3)).join(', ')} ms`);
    } finally {
      await server.stop();
    }
  });
});

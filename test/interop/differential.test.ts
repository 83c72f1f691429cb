// The generated differential set: at least 1,000 random messages and bundles of every type liblo
// supports, sent liblo -> aiolo and aiolo -> liblo, and equal on arrival.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Address,
  ANY_PATH,
  Bundle,
  type BundleElement,
  type Incoming,
  Message,
  Server,
  TimeTag,
} from '../../src/index.js';
import { within } from '../helpers/async.js';
import { randomArgs, randomPath } from '../helpers/generate.js';
import { asMessage, LO_PEER, LoReceiver, LoSender, loMessageCommand } from '../helpers/lo.js';
import { needPeer } from '../helpers/peers.js';
import { type Random, seeded } from '../helpers/random.js';

const LOCAL = '127.0.0.1';
const COUNT = 1000;
const WINDOW = 40;

/** A random message of liblo's types; liblo cannot send empty blobs, so `sendable` avoids them. */
function message(r: Random, sendable: boolean): Message {
  for (;;) {
    const [tags, args] = randomArgs(r, false);
    const m = Message.typed(randomPath(r), tags, ...args);
    if (sendable && args.some((a) => a instanceof Uint8Array && a.length === 0)) continue;
    return m;
  }
}

/** Past (or immediate) timetags only: liblo keeps future ones in its queue. */
function pastTimetag(r: Random): TimeTag {
  return r.bool(0.3) ? TimeTag.IMMEDIATE : TimeTag.now().subtract(r.int(1, 2 ** 30) + r.next());
}

function bundle(r: Random, depth = 1): Bundle {
  const b = new Bundle([], pastTimetag(r));
  for (let k = r.int(1, 4); k > 0; k--) b.add(depth < 3 && r.bool(0.2) ? bundle(r, depth + 1) : message(r, true));
  return b;
}

/** The messages of a packet in dispatch order, each with the timetag it is dispatched with. */
function flatten(packet: Message | Bundle, timetag = TimeTag.IMMEDIATE): [Message, TimeTag][] {
  if (packet instanceof Message) return [[packet, timetag]];
  return packet.elements.flatMap((e: BundleElement) => flatten(e, packet.timetag));
}

function packets(r: Random): (Message | Bundle)[] {
  return Array.from({ length: COUNT }, () => (r.bool(0.25) ? bundle(r) : message(r, true)));
}

describe('differential: 1,000 random packets each way', () => {
  test(
    'aiolo -> liblo (UDP): liblo dispatches every message with the values sent',
    { timeout: 120_000 },
    seeded(async (r, t) => {
      if (!needPeer(t, LO_PEER)) return;
      await using lo = await LoReceiver.start('udp');
      const a = new Address({ host: LOCAL, port: lo.port });
      try {
        const sent = packets(r);
        const expected: [Message, TimeTag][] = [];
        for (let i = 0; i < sent.length; i += WINDOW) {
          for (const p of sent.slice(i, i + WINDOW)) {
            expected.push(...flatten(p));
            await (p instanceof Bundle ? a.bundle(p) : a.message(p));
          }
          await lo.waitFor(expected.length, 0, 10_000);
        }
        const got = lo.messages;
        assert.equal(got.length, expected.length);
        got.forEach((m, i) => {
          const [want, tt] = expected[i] as [Message, TimeTag];
          assert.ok(m.message.equals(want), `#${i}: liblo got ${m.message}, sent ${want} ${r.replay}`);
          assert.ok(m.timetag.equals(tt), `#${i}: timetag ${m.timetag} != ${tt} ${r.replay}`);
        });
        assert.deepEqual(lo.errors, []);
      } finally {
        await a.close();
      }
    }),
  );

  test(
    'liblo -> aiolo (UDP): aiolo dispatches every message liblo built, nested bundles included',
    {
      timeout: 120_000,
    },
    seeded(async (r, t) => {
      if (!needPeer(t, LO_PEER)) return;
      const server = new Server({ host: LOCAL, queue: false });
      await server.start();
      const sub = server.route(ANY_PATH).sub({ incoming: true, highWaterMark: 100_000 });
      const got: Incoming[] = [];
      const reading = (async () => {
        for await (const m of sub) got.push(m);
      })();
      await using lo = new LoSender();
      try {
        await lo.command(`target osc.udp://${LOCAL}:${server.port}/`);
        const sent = packets(r);
        const expected: [Message, TimeTag][] = [];
        const sendPacket = async (p: Message | Bundle): Promise<void> => {
          if (p instanceof Message) {
            await lo.command(loMessageCommand(p));
            return;
          }
          await lo.command(`bundle ${p.timetag.seconds.toString(16)} ${p.timetag.fraction.toString(16)}`);
          for (const e of p.elements) await sendPacket(e);
          await lo.command('end');
        };
        for (let i = 0; i < sent.length; i += WINDOW) {
          for (const p of sent.slice(i, i + WINDOW)) {
            expected.push(...flatten(p));
            await sendPacket(p);
          }
          await within(
            10_000,
            `aiolo to dispatch ${expected.length} messages`,
            (async () => {
              while (got.length < expected.length) await new Promise((resolve) => setImmediate(resolve));
            })(),
          );
        }
        assert.equal(got.length, expected.length);
        got.forEach((m, i) => {
          const [want, tt] = expected[i] as [Message, TimeTag];
          const as = asMessage(m);
          assert.ok(as.equals(want), `#${i}: aiolo got ${as}, liblo sent ${want} ${r.replay}`);
          assert.ok(m.timetag.equals(tt), `#${i}: timetag ${m.timetag} != ${tt} ${r.replay}`);
        });
        assert.equal(server.stats.malformed, 0);
      } finally {
        sub.unsub();
        await reading;
        await server.stop();
      }
    }),
  );
});

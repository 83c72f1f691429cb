// Hostile and faulty input: a server receiving valid and malformed packets mixed delivers every
// valid message, reports every malformed one (code and source) and keeps serving, over UDP, TCP in
// both framings and Unix; TCP connections that break, flood, or come and go by the hundred.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Address, encode, Message, type OscDecodeError, Server } from '../../src/index.js';
import { lengthPrefix, slipEncode } from '../../src/transport/framing.js';
import { unixAvailable } from '../../src/transport/unix.js';
import { take, within } from '../helpers/async.js';
import { randomPacket } from '../helpers/generate.js';
import { IN_CI } from '../helpers/peers.js';
import { Random } from '../helpers/random.js';
import { RawTcp } from '../helpers/raw.js';

const LOCAL = '127.0.0.1';

/** Waits until the server has taken in `n` packets (UDP has no flow control: tests pace themselves). */
async function caughtUp(server: Server, n: number): Promise<void> {
  await within(
    5000,
    `${n} packets to arrive`,
    (async () => {
      while (server.stats.packets < n) await new Promise((x) => setImmediate(x));
    })(),
  );
}

/** N packets, about a third of them corrupted; returns them with the valid messages' numbers. */
function mixed(r: Random, n: number): { packets: Uint8Array[]; valid: number[]; malformed: number } {
  const packets: Uint8Array[] = [];
  const valid: number[] = [];
  let malformed = 0;
  for (let i = 0; i < n; i++) {
    if (r.bool(0.35)) {
      // a packet that is certainly not OSC: an unterminated path, an unknown tag, a short argument
      const bad = r.pick([
        Buffer.from('/bad'),
        Buffer.from('/bad\0\0\0\0,u\0\0', 'latin1'),
        Buffer.from('/bad\0\0\0\0,i\0\0\0\0', 'latin1'),
        Buffer.concat([Buffer.from('#bundle\0'), Buffer.alloc(8), Buffer.from([0, 0, 0, 99])]),
        Buffer.from(r.bytes(r.int(1, 40)).map((b) => (b === 0x2f || b === 0x23 ? 0x41 : b))), // no '/' or '#' start
      ]);
      packets.push(bad);
      malformed++;
    } else {
      packets.push(encode(Message.typed('/ok', 'i', i)));
      valid.push(i);
    }
  }
  return { packets, valid, malformed };
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiolo-robust-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mixed valid and malformed packets', () => {
  for (const kind of ['udp', 'tcp-length', 'tcp-slip', 'unix'] as const) {
    const skip = kind === 'unix' && !unixAvailable() && !IN_CI ? 'unix-dgram is not installed' : false;
    test(`${kind}: every valid message arrives, every malformed one is reported`, {
      skip,
      timeout: 30_000,
    }, async () => {
      const r = new Random();
      const server =
        kind === 'udp'
          ? new Server({ host: LOCAL })
          : kind === 'unix'
            ? new Server({ port: join(dir, `mixed-${process.pid}.sock`) })
            : new Server({ proto: 'tcp', host: LOCAL, port: 0 });
      await server.start();
      try {
        const sub = server.route('/ok', 'i').sub({ highWaterMark: 10_000 });
        const reports: [OscDecodeError, string][] = [];
        server.on('malformed', (e, source) => reports.push([e, source.url]));
        const { packets, valid, malformed } = mixed(r, 600);
        if (kind === 'udp') {
          const s = createSocket('udp4');
          s.bind(0, LOCAL);
          await once(s, 'listening');
          // paced: UDP has no flow control, and a full socket buffer drops whatever comes next
          for (const [i, p] of packets.entries()) {
            await new Promise<void>((res) => s.send(p, server.port as number, LOCAL, () => res()));
            if (i % 50 === 49) await caughtUp(server, i + 1);
          }
          s.close();
        } else if (kind === 'unix') {
          const { createRequire } = await import('node:module');
          const lib = createRequire(import.meta.url)('unix-dgram');
          const c = lib.createSocket('unix_dgram');
          c.on('error', () => {});
          try {
            for (const p of packets) {
              // the kernel queue holds 10 datagrams: wait for each to be taken
              await new Promise<void>((res) => c.send(Buffer.from(p), 0, p.length, server.path, () => res()));
              const want = server.stats.packets + 1;
              await within(
                2000,
                'the datagram',
                (async () => {
                  while (server.stats.packets < want) await new Promise((x) => setImmediate(x));
                })(),
              );
            }
          } finally {
            c.close(); // a Unix socket would keep the process alive
          }
        } else {
          const raw = await RawTcp.open(server.port as number);
          const frame = kind === 'tcp-slip' ? slipEncode : lengthPrefix;
          await raw.write(Buffer.concat(packets.map((p) => frame(p))));
          raw.close();
        }
        const got = await take(sub, valid.length, 15_000);
        assert.deepEqual(
          got.map((a) => a[0]),
          valid,
          r.replay,
        );
        await within(
          5000,
          'every report',
          (async () => {
            while (reports.length < malformed) await new Promise((x) => setImmediate(x));
          })(),
        );
        assert.equal(reports.length, malformed);
        assert.equal(server.stats.malformed, malformed);
        for (const [e, source] of reports) {
          assert.match(e.code, /^ERR_OSC_/);
          assert.ok(e.offset >= 0);
          assert.match(source, /^osc\.(udp|tcp|unix):\/\//);
        }
      } finally {
        await server.stop();
      }
    });
  }

  test('TCP: garbage between SLIP frames is one malformed packet; the frames around it arrive', async () => {
    const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
    await server.start();
    try {
      const sub = server.route('/ok', 'i').sub();
      const errors: OscDecodeError[] = [];
      server.on('malformed', (e) => errors.push(e));
      const raw = await RawTcp.open(server.port as number);
      await raw.write(
        Buffer.concat([
          slipEncode(encode(Message.typed('/ok', 'i', 1))),
          Buffer.from('garbage\xff\xfe', 'latin1'),
          Buffer.from([0xc0]),
          slipEncode(encode(Message.typed('/ok', 'i', 2))),
        ]),
      );
      assert.deepEqual(await take(sub, 2), [[1], [2]]);
      assert.equal(errors.length, 1);
      raw.close();
    } finally {
      await server.stop();
    }
  });
});

describe('TCP faults', () => {
  test('300 connections opening and closing while 10 others send: nothing the others sent is lost', {
    timeout: 60_000,
  }, async () => {
    const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
    await server.start();
    try {
      const sub = server.route('/s', 'ii').sub({ highWaterMark: 100_000 });
      const truncated: string[] = [];
      server.on('malformed', (err) => truncated.push(err.code));
      const churn = (async () => {
        for (let i = 0; i < 30; i++) {
          await Promise.all(
            Array.from({ length: 10 }, async (_, k) => {
              const raw = await RawTcp.open(server.port as number);
              // half a frame, then gone: a client killed mid-frame
              const frame = lengthPrefix(encode(Message.typed('/churn', 'i', k)));
              await raw.write(frame.subarray(0, 1 + ((i + k) % (frame.length - 1))));
              raw.close();
            }),
          );
        }
      })();
      const senders = Array.from(
        { length: 10 },
        (_, c) => new Address({ url: server.url as string }, { slip: c % 2 === 1 }),
      );
      await Promise.all([
        churn,
        ...senders.map(async (a, c) => {
          for (let i = 0; i < 200; i++) await a.send('/s', c, i);
        }),
      ]);
      const got = await take(sub, 2000, 20_000);
      const next = new Map<number, number>();
      for (const [c, i] of got) {
        assert.equal(i, next.get(c) ?? 0, `sender ${c}`);
        next.set(c, i + 1);
      }
      // no half frame was ever decoded as a message; each was reported as cut short (FIN mid-frame)
      assert.equal(server.stats.unmatched, 0);
      assert.equal(server.stats.malformed, truncated.length);
      assert.ok(truncated.every((code) => code === 'ERR_OSC_TRUNCATED'));
      await Promise.all(senders.map((a) => a.close()));
    } finally {
      await server.stop();
    }
  });

  test('a server stopped while clients send: no crash, the clients’ sends fail with SendError', async () => {
    const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
    await server.start();
    server.route('/s');
    const a = new Address({ url: server.url as string });
    await a.send('/s', 0);
    const sending = (async () => {
      let failures = 0;
      for (let i = 0; i < 2000 && failures < 5; i++) {
        try {
          await a.send('/s', i);
        } catch (err) {
          assert.equal((err as Error).name, 'SendError');
          failures++;
        }
      }
      return failures;
    })();
    await server.stop();
    assert.ok((await sending) > 0);
    await a.close();
  });

  test('maxConnections: connections beyond it are refused and reported; the others go on', async () => {
    const server = new Server({ proto: 'tcp', host: LOCAL, port: 0, maxConnections: 3, whenFull: 'refuse' });
    await server.start();
    try {
      const sub = server.route('/m', 'i').sub();
      const refused: unknown[] = [];
      server.on('refused', (remote) => refused.push(remote));
      const kept = await Promise.all([0, 1, 2].map(() => RawTcp.open(server.port as number)));
      await within(
        2000,
        'three connections',
        (async () => {
          while (server.stats.connections < 3) await new Promise((x) => setImmediate(x));
        })(),
      );
      const extra = await RawTcp.open(server.port as number);
      await within(3000, 'the extra connection to be closed', extra.closed());
      assert.equal(refused.length, 1);
      assert.equal(server.stats.refused, 1);
      for (const [i, raw] of kept.entries()) await raw.write(lengthPrefix(encode(Message.typed('/m', 'i', i))));
      assert.deepEqual((await take(sub, 3)).map((x) => x[0]).sort(), [0, 1, 2]);
      for (const raw of kept) raw.close();
    } finally {
      await server.stop();
    }
  });
});

describe('fuzzed packets over the wire', () => {
  test('UDP: 5,000 mutated packets, and the server still answers', { timeout: 60_000 }, async () => {
    const r = new Random();
    const server = new Server({ host: LOCAL, maxDepth: 8 });
    await server.start();
    const s = createSocket('udp4');
    s.bind(0, LOCAL);
    await once(s, 'listening');
    try {
      for (let i = 0; i < 5000; i++) {
        const p = encode(randomPacket(r)).slice(0, 8000);
        for (let k = r.int(1, 3); k > 0; k--) if (p.length) p[r.int(0, p.length - 1)] = r.int(0, 255);
        await new Promise<void>((res) => s.send(p, server.port as number, LOCAL, () => res()));
        if (i % 50 === 49) await caughtUp(server, i + 1);
      }
      const sub = server.route('/alive', 'i').sub();
      const a = new Address({ url: server.url as string });
      await a.send('/alive', 1);
      assert.deepEqual(await take(sub, 1), [[1]], r.replay);
      await a.close();
    } finally {
      s.close();
      await server.stop();
    }
  });
});

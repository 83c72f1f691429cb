// aiolo dump against liblo's oscdump: the same traffic gives the same output, byte for byte, but
// for the timestamps of immediate messages (the time each printed them: compared by format); the
// same error lines for malformed packets; the same raw (-r) bytes; and a clean stop on SIGINT and
// SIGTERM over every transport.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { on, once } from 'node:events';
import { existsSync, watch } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Address, Bundle, Char, INFINITUM, Message, Midi, OscSymbol, TimeTag } from '../../src/index.js';
import { within } from '../helpers/async.js';
import { aiolo } from '../helpers/io.js';
import { needPeer, OSCDUMP } from '../helpers/peers.js';
import { AIOLO, Running } from '../helpers/proc.js';

const LOCAL = '127.0.0.1';

/**
 * What reference B.1's table sends, and more (none with a newline: lines are compared). `now`
 * marks each line whose timestamp is the time of printing (plain messages, immediate bundles).
 */
function traffic(): { packet: Message | Bundle; now: boolean[] }[] {
  const m = (p: Message) => ({ packet: p, now: [true] });
  return [
    m(Message.typed('/t/i', 'iii', 42, -2147483648, 2147483647)),
    m(Message.typed('/t/h', 'hh', 9223372036854775807n, -5n)),
    m(
      Message.typed(
        '/t/f',
        'ffffffff',
        3.25,
        1e-7,
        123456789,
        Number.POSITIVE_INFINITY,
        Number.NaN,
        -0,
        3.4e38,
        0.0078125,
      ),
    ),
    m(Message.typed('/t/d', 'dddd', Math.E, -0.1, 1e300, 5e-324)),
    m(Message.typed('/t/s', 'ssss', 'hello', 'hello world', '', 'quo"te héllo')),
    m(Message.typed('/t/S', 'S', new OscSymbol('sym'))),
    m(Message.typed('/t/c', 'ccc', new Char('A'), new Char(32), new Char(0xe9))),
    m(Message.typed('/t/m', 'mm', new Midi(0x90, 0x40, 0x3f, 0x7f), new Midi(0, 0, 0, 0xff))),
    m(Message.typed('/t/t', 'tt', new TimeTag(0x12345678, 0x80000000), TimeTag.IMMEDIATE)),
    m(
      Message.typed(
        '/t/b',
        'bbbbbb',
        new Uint8Array(0),
        Uint8Array.of(1),
        Uint8Array.of(0, 0xff, 0x10, 0x7f),
        new Uint8Array(12).map((_, i) => i + 1),
        new Uint8Array(13),
        new Uint8Array(100),
      ),
    ),
    m(Message.typed('/t/tfni', 'TFNI', true, false, null, INFINITUM)),
    m(
      Message.typed(
        '/t/all',
        'ihfdsScmTFNI',
        1,
        2n,
        3.5,
        4.25,
        'str',
        new OscSymbol('sym'),
        new Char('x'),
        new Midi(1, 2, 3, 4),
        true,
        false,
        null,
        INFINITUM,
      ),
    ),
    m(new Message('/t/empty')),
    m(Message.typed('/t/*', 'i', 6)),
    { packet: new Bundle([Message.typed('/b/one', 'i', 1), Message.typed('/b/two', 's', 'x')]), now: [true, true] },
    { packet: new Bundle(Message.typed('/b/past', 'i', 1), new TimeTag(1, 0)), now: [false] },
    {
      packet: new Bundle([
        Message.typed('/b/outer', 'i', 1),
        new Bundle(Message.typed('/b/inner', 's', 'x'), new TimeTag(2, 0)),
      ]),
      now: [true, false],
    },
    // printed last, when it is due, with its timetag
    { packet: new Bundle(Message.typed('/b/future', 'i', 3), TimeTag.now().add(0.3)), now: [false] },
  ];
}

/** Waits for a file to appear (watching its directory: no polling). */
async function socketFile(dir: string, path: string): Promise<void> {
  const watcher = watch(dir);
  try {
    await within(
      10_000,
      `${path} to appear`,
      (async () => {
        const changes = on(watcher, 'change');
        while (!existsSync(path)) await changes.next();
      })(),
    );
  } finally {
    watcher.close();
  }
}

const lines = (b: Buffer) =>
  b
    .toString('latin1')
    .split('\n')
    .filter((l) => l !== '');
const STAMP = /^[0-9a-f]{8}\.[0-9a-f]{8}$/;

async function sendAll(address: Address, packets: (Message | Bundle)[]): Promise<void> {
  for (const p of packets) await (p instanceof Bundle ? address.bundle(p) : address.message(p));
}

describe('aiolo dump, side by side with oscdump', () => {
  for (const proto of ['udp', 'tcp'] as const) {
    test(`${proto.toUpperCase()}: every typetag and the bundle cases print the same lines`, {
      timeout: 60_000,
    }, async (t) => {
      if (!needPeer(t, OSCDUMP)) return;
      const spec = proto === 'udp' ? '0' : 'osc.tcp://:0';
      const theirs = new Running([OSCDUMP.command, '-L', spec]);
      const ours = new Running([...AIOLO, 'dump', '-L', spec]);
      try {
        const plan = traffic();
        const now = plan.flatMap((p) => p.now);
        const total = now.length;
        for (const proc of [theirs, ours]) {
          const a = new Address({ host: LOCAL, port: await proc.port(proto), proto });
          await sendAll(
            a,
            plan.map((p) => p.packet),
          );
          await proc.until(() => lines(proc.stdout).length >= total, `${total} lines`);
          await a.close();
        }
        const want = lines(theirs.stdout);
        const got = lines(ours.stdout);
        assert.equal(got.length, want.length);
        got.forEach((line, i) => {
          const other = want[i] as string;
          if (now[i]) {
            assert.match(line.slice(0, 17), STAMP, line);
            assert.equal(line.slice(17), other.slice(17), `line ${i}`);
          } else {
            assert.equal(line, other, `line ${i}`);
          }
        });
        assert.equal(ours.stderr, theirs.stderr);
      } finally {
        await Promise.all([theirs.stop(), ours.stop()]).finally(() =>
          Promise.all([theirs.stop('SIGKILL'), ours.stop('SIGKILL')]),
        );
      }
    });
  }

  test('malformed packets print the same error lines', { timeout: 60_000 }, async (t) => {
    if (!needPeer(t, OSCDUMP)) return;
    const theirs = new Running([OSCDUMP.command, '-L', '0']);
    const ours = new Running([...AIOLO, 'dump', '-L', '0']);
    const tx = createSocket('udp4');
    tx.bind(0, LOCAL);
    await once(tx, 'listening');
    try {
      const packets = [
        ['/t/notags', [0, 0, 0]],
        ['/t/u', [0, 0, 0, 0], ',u', [0, 0]],
        ['/t/r', [0, 0, 0, 0], ',r', [0, 0], [1, 2, 3, 4]],
        ['/t', [0, 0], ',i', [0, 0], [0, 0, 0, 1], [0, 0, 0, 2]],
        ['/t', [0, 1], ',', [0, 0, 0]],
        ['/abc,i', [0, 0], [0, 0, 0, 42]],
        ['/t', [0, 0], ',i', [0, 0], [0, 1]],
        ['#bundle', [0], [0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 16], '/t', [0, 0], ',', [0, 0, 0]],
        ['#bundle', [0], [0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 4], 'abc', [0]],
        ['/noterm'],
      ].map((parts) =>
        Buffer.concat(
          parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p as number[]))),
        ),
      );
      for (const proc of [theirs, ours]) {
        const port = await proc.port('udp');
        for (const p of packets) await new Promise<void>((resolve) => tx.send(p, port, LOCAL, () => resolve()));
        await tx.send(new Uint8Array(Buffer.from(new Message('/done').path)), port, LOCAL); // not a message either
        await proc.until(() => proc.stderr.split('\n').length > packets.length + 1, 'every error line');
      }
      assert.equal(ours.stderr, theirs.stderr);
      assert.equal(ours.stdout.length, 0);
    } finally {
      tx.close();
      await Promise.all([theirs.stop(), ours.stop()]).finally(() =>
        Promise.all([theirs.stop('SIGKILL'), ours.stop('SIGKILL')]),
      );
    }
  });

  test('-r writes the same raw bytes', { timeout: 60_000 }, async (t) => {
    if (!needPeer(t, OSCDUMP)) return;
    const theirs = new Running([OSCDUMP.command, '-r', '0']);
    const ours = new Running([...AIOLO, 'dump', '-r', '0']);
    try {
      const plan = traffic().filter((p) => p.packet instanceof Message);
      for (const proc of [theirs, ours]) {
        const a = new Address({ host: LOCAL, port: await proc.port('udp') });
        await sendAll(
          a,
          plan.map((p) => p.packet),
        );
        await a.send('/zz/end');
        await proc.until(() => proc.stdout.includes(Buffer.from('/zz/end')), 'the last message');
        await a.close();
      }
      assert.equal(ours.stdout.toString('hex'), theirs.stdout.toString('hex'));
    } finally {
      await Promise.all([theirs.stop(), ours.stop()]).finally(() =>
        Promise.all([theirs.stop('SIGKILL'), ours.stop('SIGKILL')]),
      );
    }
  });

  test('usage errors as oscdump', async (t) => {
    if (!needPeer(t, OSCDUMP)) return;
    const { run } = await import('../helpers/proc.js');
    for (const args of [['-x', '0'], [], ['notaurl'], ['0', 'notagroup']]) {
      const [want, got] = await Promise.all([run([OSCDUMP.command, ...args]), aiolo(['dump', ...args])]);
      assert.equal(got.code, want.code, JSON.stringify(args));
      if (args.length > 0) assert.equal(got.stderr, want.stderr, JSON.stringify(args));
    }
  });
});

describe('aiolo dump, beyond oscdump', () => {
  let dir = '';
  test('stops cleanly on SIGINT and SIGTERM over UDP, TCP and Unix, having printed everything', {
    timeout: 90_000,
  }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'aiolo-dump-'));
    try {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        for (const proto of ['udp', 'tcp', 'unix'] as const) {
          const path = join(dir, `${signal}.sock`);
          const spec =
            proto === 'udp'
              ? 'osc.udp://127.0.0.1:0'
              : proto === 'tcp'
                ? 'osc.tcp://127.0.0.1:0'
                : `osc.unix://${path}`;
          const dump = new Running([...AIOLO, 'dump', spec]);
          let a: Address | undefined;
          try {
            if (proto === 'unix') {
              a = new Address({ url: spec });
              await socketFile(dir, path);
            } else {
              a = new Address({ host: LOCAL, port: await dump.port(proto), proto });
            }
            for (let i = 0; i < 20; i++) await a.send('/n', i);
            await dump.until(
              () => lines(dump.stdout).length >= 20,
              `20 lines from ${proto} (stderr: ${dump.stderr})`,
              20_000,
            );
            await a.close();
            const end = await dump.stop(signal);
            assert.deepEqual(end, { code: 0, signal: null }, `${proto} ${signal}: ${dump.stderr}`);
            assert.deepEqual(
              lines(dump.stdout).map((l) => l.slice(18)),
              Array.from({ length: 20 }, (_, i) => `/n i ${i}`),
            );
          } finally {
            await a?.close();
            await dump.stop('SIGKILL');
          }
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('--json is lossless: int64, NaN and -0, blobs, timetags, the sender', { timeout: 30_000 }, async () => {
    const dump = new Running([...AIOLO, 'dump', '--json', 'osc.udp://127.0.0.1:0']);
    try {
      const a = new Address({ host: LOCAL, port: await dump.port('udp') });
      await a.message(
        Message.typed(
          '/j',
          'hfdbtSc',
          -(2n ** 63n),
          Number.NaN,
          -0,
          Uint8Array.of(0, 255),
          new TimeTag(1, 2),
          new OscSymbol('s'),
          new Char(0xe9),
        ),
      );
      await a.bundle([new Message('/k')], new TimeTag(5, 6));
      await dump.until(() => lines(dump.stdout).length >= 2, 'two JSON lines');
      const [j, k] = lines(dump.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(j?.args, [
        ['h', '-9223372036854775808'],
        ['f', 'NaN'],
        ['d', '-0'],
        ['b', '00ff'],
        ['t', '00000001.00000002'],
        ['S', 's'],
        ['c', 0xe9],
      ]);
      assert.equal(j?.immediate, true);
      assert.match(String(j?.source), /^osc\.udp:\/\/127\.0\.0\.1:\d+\/$/);
      assert.deepEqual([k?.path, k?.timetag, k?.immediate, k?.args], ['/k', '00000005.00000006', false, []]);
      await a.close();
    } finally {
      await dump.stop();
    }
  });
});

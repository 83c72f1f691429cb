// aiolo sendfile against liblo's oscsendfile: for the same input file, the same packets on a raw
// UDP socket (the same bundles, byte for byte, timetags compared as offsets from the first timed
// one, as both re-base them on "now"), the same spacing in time, the same lines printed by liblo's
// oscdump, the same messages and exit codes; and aiolo dump → aiolo sendfile → aiolo dump.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../src/cli/commands.js';
import { Address, Bundle, INFINITUM, Message, TimeTag } from '../../src/index.js';
import { until, within } from '../helpers/async.js';
import { aiolo, Capture } from '../helpers/io.js';
import { needPeer, OSCDUMP, OSCSENDFILE } from '../helpers/peers.js';
import { Running, run } from '../helpers/proc.js';

const LOCAL = '127.0.0.1';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiolo-sendfile-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let files = 0;
async function file(text: string | Buffer): Promise<string> {
  const path = join(dir, `in${files++}.txt`);
  await writeFile(path, text);
  return path;
}

interface Packet {
  readonly at: TimeTag; // when it arrived
  readonly bytes: Buffer;
}

/** A raw UDP socket on loopback that keeps every datagram with its arrival time. */
async function sink(): Promise<{ socket: Socket; port: number; packets: Packet[] }> {
  const socket = createSocket('udp4');
  const packets: Packet[] = [];
  socket.on('message', (bytes) => packets.push({ at: TimeTag.now(), bytes }));
  await new Promise<void>((resolve) => socket.bind(0, LOCAL, resolve));
  return { socket, port: socket.address().port, packets };
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly packets: Packet[];
}

type Tool = 'liblo' | 'aiolo';

/** Runs one tool with `args` after "127.0.0.1 PORT" (or as given, when `raw`), into a fresh sink. */
async function sendTo(tool: Tool, args: readonly string[], packets: number): Promise<Outcome> {
  const s = await sink();
  try {
    const argv = [LOCAL, String(s.port), ...args];
    const r =
      tool === 'liblo'
        ? await run([OSCSENDFILE.command, ...argv])
        : await aiolo(['sendfile', ...argv]).then((a) => ({ ...a, stdout: a.stdout }));
    await until(3000, `${packets} packet(s) from ${tool}`, () => s.packets.length >= packets);
    return { code: r.code, stdout: r.stdout.toString('latin1'), stderr: r.stderr, packets: s.packets };
  } finally {
    s.socket.close();
  }
}

/**
 * A packet for comparison: a bundle's timetag as "immediate" or as its offset (in 2^-32 s) from
 * the first timed bundle of the run ("now" when the file was opened, plus the first's offset).
 */
function shape(packets: readonly Packet[]): string[] {
  let base: bigint | undefined;
  return packets.map(({ bytes }) => {
    assert.equal(bytes.subarray(0, 8).toString('latin1'), '#bundle\0', 'oscsendfile sends only bundles');
    const tt = bytes.readBigUInt64BE(8);
    let when = 'immediate';
    if (tt !== 1n) {
      base ??= tt;
      when = `+${BigInt.asUintN(64, tt - base).toString(16)}`;
    }
    return `${when} ${bytes.subarray(16).toString('hex')}`;
  });
}

/** Both tools, the same file, the same arguments: the same outcome. */
async function same(t: import('node:test').TestContext, args: readonly string[], packets: number) {
  if (!needPeer(t, OSCSENDFILE)) return undefined;
  const liblo = await sendTo('liblo', args, packets);
  const ours = await sendTo('aiolo', args, packets);
  assert.equal(liblo.packets.length, packets, 'oscsendfile sent what the test expects');
  assert.deepEqual(
    { code: ours.code, stdout: ours.stdout, stderr: ours.stderr, packets: shape(ours.packets) },
    { code: liblo.code, stdout: liblo.stdout, stderr: liblo.stderr, packets: shape(liblo.packets) },
  );
  return { liblo, ours };
}

describe('aiolo sendfile and oscsendfile: the same packets for the same file', () => {
  test('every value type it reads, as oscdump prints them where it can read that', async (t) => {
    const path = await file(
      [
        '/t/i i 42',
        '/t/ii ii -2147483648 2147483647',
        '/t/h h 9223372036854775807',
        '/t/h2 h -5',
        '/t/f f 3.141590',
        '/t/f2 ff inf -0.000000',
        '/t/d d 2.718282',
        '/t/d2 d nan',
        '/t/s s "hello"',
        '/t/s2 s "two words"', // liblo splits on spaces: "two, the quote cut off
        "/t/S S 'sym", // sent as s, the quote kept
        "/t/c c 'A'", // the first byte: a quote
        '/t/c2 c x',
        '/t/m m 90403f7f', // oscdump's MIDI [...] is not read; hex is
        '/t/TFNI TFNI #T #F Nil Infinitum', // no values taken: the words are ignored
        '/t/empty ', // oscdump's trailing space
        "/t/all ihfdsScmTFNI 1 2 3.500000 4.250000 \"str\" 'sym 'x' 01020304 #T #F Nil Infinitum",
      ].join('\n'),
    );
    const r = await same(t, [path], 1);
    if (r !== undefined) {
      // one immediate bundle of all 17 messages
      assert.match(shape(r.ours.packets)[0] as string, /^immediate /);
      assert.equal(r.ours.packets[0]?.bytes.subarray(8, 16).toString('hex'), '0000000000000001');
    }
  });

  test('bundles: equal consecutive timetags together, re-based on now, divided by the speed', async (t) => {
    const path = await file(
      [
        'e0000000.00000000 /g/one i 1',
        'e0000000.00000000 /g/two i 2',
        '/now/a i 3', // no timetag: an immediate bundle, with the next such line
        '/now/b i 4',
        'e0000000.20000000 /g/three i 5', // 1/8 s later: 1/16 s at speed 2
        'e0000000.40000000 /g/four i 6',
        'e0000000.40000000 /g/five i 7',
        'e0000000.30000000 /g/back i 8', // earlier: in the past, sent at once
      ].join('\n'),
    );
    const r = await same(t, [path, '2'], 5);
    if (r === undefined) return;
    assert.deepEqual(
      shape(r.ours.packets).map((p) => p.split(' ')[0]),
      ['+0', 'immediate', '+10000000', '+20000000', '+18000000'],
    );
    // each timed bundle arrives at its timetag (never before), within a few ms in both; the arrival
    // is read by this process's event loop, which the suite's other files (run in parallel on two
    // cores) can hold up for a hundred ms or more, so it bounds lateness at 250 ms (the speed itself
    // is checked exactly above, by the timetags' offsets; never early is checked to the millisecond)
    const ms = (a: TimeTag, b: TimeTag) =>
      (((a.seconds - b.seconds) * 2 ** 32 + (a.fraction - b.fraction)) / 2 ** 32) * 1000;
    for (const [tool, o] of [
      ['oscsendfile', r.liblo],
      ['aiolo', r.ours],
    ] as const) {
      for (const i of [0, 2, 3]) {
        const p = o.packets[i] as Packet;
        const late = ms(p.at, new TimeTag(p.bytes.readUInt32BE(8), p.bytes.readUInt32BE(12)));
        assert.ok(late > -1 && late < 250, `${tool}, packet ${i}: ${late} ms late`);
      }
    }
  });

  test('speeds: 0 and nonsense put every timed line at once, in one bundle; negative goes back', async (t) => {
    const path = await file('e0000000.00000000 /a i 1\ne0000000.10000000 /b i 2\n');
    await same(t, [path, '0'], 1);
    await same(t, [path, 'abc'], 1);
    await same(t, [path, '-1'], 2);
    await same(t, [path, '1', 'ignored'], 2);
  });

  test('odd lines: blank, CRLF, leading spaces, a comment, a timetag without a fraction', async (t) => {
    const path = await file(
      [
        '',
        '   /lead i 1\r',
        '',
        '/crlf s x\r',
        '100 /nofrac i 2', // the first timetag: now (its fraction is the slot's)
        '100.8 /frac i 3',
        '100.c', // a timetag and no path: nothing
        '/after i 4',
      ].join('\n'),
    );
    await same(t, [path], 4);
  });

  test('stale tokens: a line with fewer tokens reuses the last ones still in the buffer', async (t) => {
    // "/a" is "/a ,ifs 1 2.5 xyz" again, "/b i" takes 1; "/c ii 7" takes 7 and, for its second,
    // the old "2.5" still at its place in the buffer: refused
    const path = await file(['/before ifs 1 2.5 xyz', '/a', '/b i', '/c ii 7', '/d s "q"', '/e ss'].join('\n'));
    const r = await same(t, [path], 0);
    if (r !== undefined)
      assert.equal(r.ours.stderr, "An invalid value was given: '2.5'\nFailed to create OSC message.\n");
    const path2 = await file(['/before ifs 1 2.5 xyz', '/a', '/b i', '/c ss "q"'].join('\n'));
    await same(t, [path2], 1);
  });

  test('a line longer than 1023 bytes is read in pieces', async (t) => {
    const long = `/long s ${'x'.repeat(1100)}`;
    await same(t, [await file(`${long}\n/next i 1\n`)], 1);
  });
});

describe('aiolo sendfile and oscsendfile: the same errors and exit codes', () => {
  const cases: [string, string][] = [
    ['blob (oscdump form)', '/ok i 1\n/b b [3b 0x1 0x2 0x3]\n'],
    ['timetag type', '/t t 00000001.00000000\n'],
    ['MIDI as oscdump prints it', '/m m MIDI [0x90 0x40 0x3f 0x7f]\n'],
    ['too few values', '/v ii 1\n'],
    ['not an int', '/i i 3.5\n'],
    ['int out of range', '/i i 2147483648\n'],
    ['int64 out of range', '/h h 99999999999999999999\n'],
    ['bad double (perror first)', '/d d x\n'],
    ['errno kept from an earlier line', 'e0.0 /f f 1e99\ne0.1 /d d 2x\n'],
    ['a tab is not a separator', '/tab i\t1\n'],
    ['a comment: "#" a timetag, "comment" the path, a stale byte the types', '/before i 1\n# comment\n'],
    ['after a bundle: the pending one is not sent', 'e0.0 /a i 1\ne0.0 /b i 2\ne0.1 /c i 3\ne0.1 /x x 0\n'],
  ];
  for (const [name, text] of cases) {
    test(name, async (t) => {
      const path = await file(text);
      const packets = name.startsWith('after') ? 1 : 0;
      const r = await same(t, [path], packets);
      if (r !== undefined) {
        assert.equal(r.ours.code, 0, 'oscsendfile exits with 0 after "Failed to create OSC message."');
        assert.match(r.ours.stderr, /Failed to create OSC message\.\n$/);
      }
    });
  }

  test('command lines: missing port, missing file, unreadable file, bad protocol, no arguments', async (t) => {
    if (!needPeer(t, OSCSENDFILE)) return;
    const path = await file('/a i 1\n');
    for (const argv of [
      ['127.0.0.1'],
      ['127.0.0.1', '9'],
      ['osc.udp://127.0.0.1:9'],
      ['127.0.0.1', '9', join(dir, 'missing')],
      ['127.0.0.1', '9', '-'], // not stdin: a file named -
      ['osc.xyz://127.0.0.1:9', path],
      ['file:///tmp/x', path],
      ['-h'], // taken for a host name
    ]) {
      const liblo = await run([OSCSENDFILE.command, ...argv]);
      const ours = await aiolo(['sendfile', ...argv]);
      assert.deepEqual([ours.code, ours.stderr], [liblo.code, liblo.stderr], argv.join(' '));
      assert.equal(ours.code, 1);
    }
    // no arguments: usage on stdout, exit 1 (aiolo's own usage text)
    const liblo = await run([OSCSENDFILE.command]);
    const ours = await aiolo(['sendfile']);
    assert.deepEqual([ours.code, liblo.code], [1, 1]);
    assert.match(liblo.stdout.toString(), /^oscsendfile version 0\.31\n/);
    assert.match(ours.stdout.toString(), /^Usage: aiolo sendfile hostname port file \[speed\]\n/);
  });

  test('a send that fails: reported (exit 1), unless it is the last one (exit 0)', async (t) => {
    if (!needPeer(t, OSCSENDFILE)) return;
    // a TCP port that refuses: a closed listener's
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const url = `osc.tcp://${LOCAL}:${port}`;
    const one = await file('/a i 1\n');
    const two = await file('e0.0 /a i 1\ne0.1 /b i 2\n');
    for (const [path, code, stderr] of [
      [one, 0, ''],
      [two, 1, 'An error occurred: Connection refused\n'],
    ] as const) {
      const liblo = await run([OSCSENDFILE.command, url, path]);
      const ours = await aiolo(['sendfile', url, path]);
      assert.deepEqual([liblo.code, liblo.stderr], [code, stderr]);
      assert.deepEqual([ours.code, ours.stderr], [code, stderr]);
    }
  });
});

describe('aiolo sendfile and oscsendfile into liblo’s oscdump', () => {
  for (const proto of ['udp', 'tcp'] as const) {
    test(`the same printed lines (${proto})`, { timeout: 30_000 }, async (t) => {
      if (!needPeer(t, OSCSENDFILE) || !needPeer(t, OSCDUMP)) return;
      const dump = new Running([OSCDUMP.command, '-L', proto === 'udp' ? '0' : 'osc.tcp://:0']);
      try {
        const port = await dump.port(proto);
        const url = `osc.${proto}://${LOCAL}:${port}`;
        const path = await file(
          [
            'e0000000.00000000 /x/i ihfd 1 -2 3.250000 -0.100000',
            "e0000000.00000000 /x/s sSc \"one\" 'sym 'q'",
            'e0000000.10000000 /x/m mTFNI 90403f7f #T #F Nil Infinitum',
            '/x/now i 7',
          ].join('\n'),
        );
        const lines = () => dump.stdout.toString('latin1').split('\n').filter(Boolean);
        assert.equal((await run([OSCSENDFILE.command, url, path, '4'])).code, 0);
        await dump.until(() => lines().length >= 4, 'oscsendfile’s 4 lines');
        const ours = await aiolo(['sendfile', url, path, '4']);
        assert.equal(ours.code, 0);
        await dump.until(() => lines().length >= 8, 'aiolo’s 4 lines');
        const all = lines();
        // timestamps are each run's "now" (plus 1/64 s for the third line): compare the rest
        const text = (l: string) => l.slice(18);
        assert.deepEqual(all.slice(4).map(text), all.slice(0, 4).map(text));
        assert.equal(all[4]?.slice(0, 17), all[5]?.slice(0, 17), 'one bundle, one timetag');
        assert.equal(dump.stderr, '');
      } finally {
        await dump.stop('SIGKILL');
      }
    });
  }
});

describe('differences from oscsendfile, by choice', () => {
  test('--help: aiolo prints its usage; oscsendfile takes it for a host name', async (t) => {
    const ours = await aiolo(['sendfile', '--help']);
    assert.equal(ours.code, 0);
    assert.match(ours.stdout.toString(), /^Usage: aiolo sendfile/);
    if (!needPeer(t, OSCSENDFILE)) return;
    const liblo = await run([OSCSENDFILE.command, '--help']);
    assert.deepEqual([liblo.code, liblo.stderr], [1, 'No port number is given.\n']);
  });
});

describe('differences from oscsendfile, by necessity', () => {
  test('bytes that are not UTF-8: oscsendfile sends them raw, aiolo sends U+FFFD', async (t) => {
    if (!needPeer(t, OSCSENDFILE)) return;
    const path = await file(Buffer.from('/u s a\xffb\n', 'latin1'));
    const liblo = await sendTo('liblo', [path], 1);
    const ours = await sendTo('aiolo', [path], 1);
    const value = (o: Outcome) => {
      const bytes = o.packets[0]?.bytes as Buffer;
      return bytes.subarray(bytes.indexOf(',s\0\0') + 4).toString('hex');
    };
    assert.equal(value(liblo), '61ff6200');
    assert.equal(value(ours), '61efbfbd62000000');
  });
});

describe('aiolo dump → aiolo sendfile → aiolo dump', () => {
  test('the same lines, bundles kept together, spacing kept', { timeout: 20_000 }, async () => {
    const dumpInto = async () => {
      const stdout = new Capture();
      const stderr = new Capture();
      const ac = new AbortController();
      const s = await sink(); // a free port, then handed over
      const port = s.port;
      s.socket.close();
      const done = main(['dump', `osc.udp://${LOCAL}:${port}`], { stdout, stderr }, ac.signal);
      const stop = (): Promise<number> => {
        ac.abort();
        return done;
      };
      return { port, stdout, stop };
    };
    const first = await dumpInto();
    const second = await dumpInto();
    const out = new Address({ url: `osc.udp://${LOCAL}:${first.port}` });
    try {
      // wait for both dumps to listen: ping each until it prints
      for (const d of [first, second]) {
        const ping = new Address({ url: `osc.udp://${LOCAL}:${d.port}` });
        try {
          await until(5000, 'a dump to listen', () => {
            if (d.stdout.text !== '') return true;
            void ping.send('/ping');
            return false;
          });
        } finally {
          await ping.close();
        }
      }
      const printed = (d: { stdout: Capture }) =>
        d.stdout.text.split('\n').filter((l) => l !== '' && !l.includes(' /ping '));
      const t0 = TimeTag.now().add(0.1);
      await out.bundle(new Bundle([Message.typed('/r/a', 'ih', 1, 2n), Message.typed('/r/b', 's', 'word')], t0));
      await out.bundle(new Bundle(Message.typed('/r/c', 'dTFNI', 0.5, true, false, null, INFINITUM), t0.add(0.1)));
      await until(5000, '3 lines', () => printed(first).length >= 3);
      const lines = printed(first);
      const path = await file(lines.join('\n'));
      const sent = await within(5000, 'sendfile', aiolo(['sendfile', LOCAL, String(second.port), path, '2']));
      assert.equal(sent.code, 0, sent.stderr);
      await until(5000, 'the second dump', () => printed(second).length >= 3);
      const again = printed(second);
      assert.deepEqual(
        again.map((l) => l.slice(18)),
        lines.map((l) => l.slice(18)),
      );
      // the two bundles 0.1 s apart, at speed 2: 0.05 s
      const tt = (l: string) => Number.parseInt(l.slice(0, 8), 16) + Number.parseInt(l.slice(9, 17), 16) / 2 ** 32;
      assert.ok(Math.abs(tt(again[2] as string) - tt(again[0] as string) - 0.05) < 1e-6);
      assert.equal(again[0]?.slice(0, 17), again[1]?.slice(0, 17));
    } finally {
      await out.close();
      await first.stop();
      await second.stop();
    }
  });
});

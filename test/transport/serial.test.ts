// OSC over a serial line (osc.serial://), without hardware: socat links two pseudo-terminals, and
// test/peers/slip_peer.c plays a board speaking SLIP as CNMAT's SLIPEncodedSerial does (an END
// before and after every packet, RFC 1055's escapes), at 115200 baud on its end.
import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bridge } from '../../src/bridge/bridge.js';
import {
  Address,
  ANY_PATH,
  Bundle,
  Char,
  encode,
  INFINITUM,
  Message,
  Midi,
  OscConfigError,
  OscSymbol,
  Rgba,
  Server,
  TimeTag,
} from '../../src/index.js';
import { serialSettings, useSerialPackage } from '../../src/transport/serial.js';
import { parseUrl } from '../../src/transport/url.js';
import { event, take, until, within } from '../helpers/async.js';
import { hex } from '../helpers/hex.js';
import { needPeer } from '../helpers/peers.js';
import { AIOLO, Running, run } from '../helpers/proc.js';
import { Board, PtyPair, SERIAL_PEER } from '../helpers/serial.js';

const END = 0xc0;
const ESC = 0xdb;

/** Every typetag, and bytes that SLIP must escape (0xC0, 0xDB) inside ints, floats, strings and blobs. */
const PACKETS: readonly (Message | Bundle)[] = [
  Message.typed(
    '/all',
    'ihfdsScbmtTFNIr',
    0xc0db,
    -(2n ** 63n),
    1.5,
    Math.PI,
    'héllo',
    new OscSymbol('sym'),
    new Char(0xc0),
    new Uint8Array([END, ESC, 0, END, END, ESC, 0xdd]),
    new Midi(0xc0, 0xdb, 1, 2),
    new TimeTag(0xc0c0c0c0, 0xdbdbdbdb),
    true,
    false,
    null,
    INFINITUM,
    new Rgba(0xc0, 0xdb, 0xdc, 0xdd),
  ),
  Message.typed('/array', 'i[fs]', 1, [2.5, 'x']),
  Message.typed('/empty/blob', 'b', new Uint8Array(0)),
  new Message('/no/args'),
  new Bundle(
    [Message.typed('/in/bundle', 'i', 0xdbc0), new Bundle([new Message('/nested')], new TimeTag(1, 2))],
    TimeTag.IMMEDIATE,
  ),
  Message.typed(
    '/large',
    'b',
    new Uint8Array(3000).map((_, i) => (i % 3 === 0 ? END : i % 3 === 1 ? ESC : i)),
  ),
];

/** A temp dir with a socat pty pair in it, removed after `body`. */
async function withPair(body: (pair: PtyPair, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aiolo-serial-'));
  let pair: PtyPair | undefined;
  try {
    pair = await PtyPair.start(dir);
    await body(pair, dir);
  } finally {
    await pair?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function linksTo(link: string, target: string): boolean {
  try {
    return readlinkSync(link) === target;
  } catch {
    return false;
  }
}

const urlOf = (device: string) => `osc.serial://${device}?baud=115200`;

describe('serial URLs', () => {
  test('osc.serial:///dev/... parses into a device and line settings, with defaults', () => {
    const u = parseUrl('osc.serial:///dev/ttyACM0?baud=57600&parity=even&stopbits=2&databits=7&rtscts=1');
    assert.equal(u.proto, 'serial');
    assert.equal(u.path, '/dev/ttyACM0');
    assert.deepEqual(serialSettings(u, ''), {
      path: '/dev/ttyACM0',
      baudRate: 57600,
      dataBits: 7,
      parity: 'even',
      stopBits: 2,
      rtscts: true,
    });
    const plain = serialSettings(parseUrl('osc.serial:///dev/ttyUSB0'), '');
    assert.equal(plain.baudRate, 115200);
    assert.equal(plain.parity, 'none');
    assert.equal(parseUrl('osc.serial://COM3?baud=9600').path, 'COM3');
    assert.equal(new Address('osc.serial:///dev/ttyACM0').url, 'osc.serial:///dev/ttyACM0?baud=115200');
    assert.equal(
      new Address('osc.serial:///dev/ttyACM0?baud=9600&parity=odd').url,
      'osc.serial:///dev/ttyACM0?baud=9600&parity=odd',
    );
  });

  test('a bad parameter is an OscConfigError that says what is allowed', () => {
    for (const [url, words] of [
      ['osc.serial:///dev/x?bauds=9600', /unknown parameter "bauds".*baud, databits/],
      ['osc.serial:///dev/x?baud=fast', /baud is a positive whole number/],
      ['osc.serial:///dev/x?parity=maybe', /parity is none, even/],
      ['osc.serial:///dev/x?stopbits=3', /stopbits is 1, 1.5 or 2/],
      ['osc.serial:///dev/x?databits=9', /databits is 5, 6, 7 or 8/],
      ['osc.serial://dev/x', /names a device/],
    ] as const) {
      assert.throws(
        () => new Server(url),
        (err: unknown) => err instanceof OscConfigError && words.test(err.message),
        url,
      );
      assert.throws(() => new Address(url), OscConfigError, url);
    }
    assert.throws(() => new Server({ proto: 'serial' as 'udp', port: 1 }), /given by its URL/);
  });

  test('a device that is not there: start() rejects with a StartError naming it', async () => {
    const server = new Server(urlOf('/dev/aiolo-no-such-tty'));
    await assert.rejects(server.start(), {
      name: 'StartError',
      code: 'ERR_OSC_START_FAILED',
      message: /aiolo-no-such-tty/,
    });
    assert.equal(server.running, false);
    const address = new Address(urlOf('/dev/aiolo-no-such-tty'));
    try {
      await assert.rejects(address.send('/x'), { name: 'SendError', code: 'ERR_OSC_SEND_FAILED' });
    } finally {
      await address.close();
    }
  });

  test('without the serialport package: ERR_OSC_SERIAL_UNAVAILABLE, naming the package', async () => {
    useSerialPackage('aiolo-no-such-package-for-serial');
    const address = new Address(urlOf('/dev/ttyACM0'));
    try {
      await assert.rejects(new Server(urlOf('/dev/ttyACM0')).start(), {
        name: 'StartError',
        code: 'ERR_OSC_SERIAL_UNAVAILABLE',
        message: /npm install serialport/,
      });
      await assert.rejects(address.send('/x'), { name: 'SendError', code: 'ERR_OSC_SERIAL_UNAVAILABLE' });
    } finally {
      useSerialPackage(undefined);
      await address.close();
    }
  });

  test('bridge: a serial device cannot be TO (each client would need its own)', async () => {
    await assert.rejects(bridge('osc.udp://127.0.0.1:0', urlOf('/dev/ttyACM0')), {
      name: 'OscConfigError',
      message: /cannot be TO.*make it FROM/,
    });
  });
});

describe('serial (socat ptys and a SLIP board)', () => {
  test('a server: every typetag and bundles both ways, byte for byte; replies go back to the board', async (t) => {
    if (!needPeer(t, SERIAL_PEER)) return;
    await withPair(async (pair) => {
      const server = new Server(urlOf(pair.aiolo));
      const opened = event<[Address]>(server, 'connection');
      const packets = server.packets()[Symbol.asyncIterator]();
      const incoming = server.route(ANY_PATH).sub({ incoming: true })[Symbol.asyncIterator]();
      const board = await Board.start(pair.board);
      try {
        await server.start();
        assert.equal(server.url, urlOf(pair.aiolo));
        const [source] = await opened;
        assert.equal(source.url, urlOf(pair.aiolo));
        for (const p of PACKETS) {
          const bytes = encode(p);
          await board.send(bytes);
          const got = await within(5000, 'a packet from the board', packets.next());
          assert.equal(got.done, false);
          assert.equal(hex((got.value as { data: Uint8Array }).data), hex(bytes));
        }
        // board → aiolo → board: a reply on the message's source, and from server.address()
        const next = await within(5000, 'the first message', incoming.next());
        if (next.done) assert.fail('the subscription ended');
        const first = next.value;
        const out = server.address(urlOf(pair.aiolo));
        for (const [i, p] of PACKETS.entries()) {
          const bytes = encode(p);
          const sender = i % 2 === 0 ? first.source : out;
          await (p instanceof Bundle ? sender.bundle(p) : sender.message(p));
          assert.equal(hex(await board.packet()), hex(bytes));
        }
        await out.close(); // the server's device: closing this address leaves it open
        await first.source.send('/still', 1);
        assert.equal(hex(await board.packet()), hex(encode(Message.typed('/still', 'i', 1))));
      } finally {
        await server.stop();
        await board.stop();
      }
    });
  });

  test('an Address of its own: sends, and request() gets the board’s reply', async (t) => {
    if (!needPeer(t, SERIAL_PEER)) return;
    await withPair(async (pair) => {
      const board = await Board.start(pair.board, true); // echoes
      const address = new Address(urlOf(pair.aiolo));
      try {
        await address.send('/hello', 1, 'two');
        assert.equal(hex(await board.packet()), hex(encode(Message.typed('/hello', 'is', 1, 'two'))));
        assert.equal(address.connected, true);
        const reply = await address.request('/ping', [42], { timeout: 5000 });
        assert.deepEqual(reply.args, [42]);
        await assert.rejects(
          new Address(urlOf(pair.aiolo), { maxPacketSize: 16 }).send('/a/long/path/here', 'and a string'),
          { code: 'ERR_OSC_PACKET_TOO_LARGE' },
        );
      } finally {
        await address.close();
        await board.stop();
      }
    });
  });

  test('garbage, a reset mid-frame and a frame over maxPacketSize are reported; the next frame is read', async (t) => {
    if (!needPeer(t, SERIAL_PEER)) return;
    await withPair(async (pair) => {
      const server = new Server({ url: urlOf(pair.aiolo), maxPacketSize: 256 });
      const malformed: string[] = [];
      server.on('malformed', (err) => malformed.push(err.code));
      const sub = server.route('/ok', 'i').sub();
      const board = await Board.start(pair.board);
      try {
        await server.start();
        // a bootloader's text, then END
        await board.raw(new Uint8Array([...Buffer.from('boot v1.2\r\n'), END]));
        await board.send(encode(Message.typed('/ok', 'i', 1)));
        // a frame cut short by a reset (its first bytes, an ESC pending), then the board starts over
        const cut = encode(Message.typed('/ok', 'i', 99)).subarray(0, 10);
        await board.raw(new Uint8Array([END, ...cut, ESC]));
        await board.send(encode(Message.typed('/ok', 'i', 2)));
        // a frame over the limit: skipped to its END, not the end of the line
        await board.send(encode(Message.typed('/ok/big', 'b', new Uint8Array(1000))));
        await board.send(encode(Message.typed('/ok', 'i', 3)));
        const got = (await take(sub, 3)).map((a) => a[0]);
        assert.deepEqual(got, [1, 2, 3]);
        await until(5000, 'three malformed reports', () => malformed.length >= 3);
        assert.equal(malformed.length, 3);
        assert.equal(malformed[2], 'ERR_OSC_TOO_LARGE');
        assert.notEqual(malformed[0], 'ERR_OSC_TOO_LARGE');
        assert.equal(server.stats.malformed, 3);
      } finally {
        await server.stop();
        await board.stop();
      }
    });
  });

  test('unplugged and plugged back: reported, sends reject while away, the device reopens', async (t) => {
    if (!needPeer(t, SERIAL_PEER)) return;
    const dir = mkdtempSync(join(tmpdir(), 'aiolo-serial-'));
    let pair: PtyPair | undefined = await PtyPair.start(dir);
    const url = urlOf(pair.aiolo);
    const server = new Server(url);
    const sub = server.route('/n', 'i').sub({ incoming: true })[Symbol.asyncIterator]();
    const nextMessage = async () => {
      const r = await within(5000, 'a message from the board', sub.next());
      if (r.done) assert.fail('the subscription ended');
      return r.value;
    };
    let board = await Board.start(pair.board);
    try {
      await server.start();
      const out = server.address(url);
      await board.send(encode(Message.typed('/n', 'i', 1)));
      const m = await nextMessage();
      assert.equal(m.args[0], 1);

      // unplug: both ptys go
      const gone = event<[Address]>(server, 'disconnect');
      await pair.stop();
      pair = undefined;
      const [lost] = await gone;
      assert.equal(lost.url, url);
      assert.equal((await board.next()).kind, 'hangup');
      await board.stop();
      await assert.rejects(m.source.send('/away', 1), { name: 'SendError', code: 'ERR_OSC_CLOSED' });
      await assert.rejects(out.send('/away', 2), { name: 'SendError', code: 'ERR_OSC_CLOSED' });

      // plugged back: a new pair at the same paths; the server opens it again on its own
      const back = event<[Address]>(server, 'connection', 10_000);
      pair = await PtyPair.start(dir);
      board = await Board.start(pair.board);
      await back;
      await board.send(encode(Message.typed('/n', 'i', 2)));
      const again = await nextMessage();
      assert.equal(again.args[0], 2);
      // what was made before the unplug works again
      await m.source.send('/back', 3);
      assert.equal(hex(await board.packet()), hex(encode(Message.typed('/back', 'i', 3))));
      await out.send('/back', 4);
      assert.equal(hex(await board.packet()), hex(encode(Message.typed('/back', 'i', 4))));
    } finally {
      await server.stop();
      await board.stop();
      await pair?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an Address of its own reopens its device too', async (t) => {
    if (!needPeer(t, SERIAL_PEER)) return;
    const dir = mkdtempSync(join(tmpdir(), 'aiolo-serial-'));
    let pair: PtyPair | undefined = await PtyPair.start(dir);
    let board = await Board.start(pair.board);
    const address = new Address(urlOf(pair.aiolo));
    try {
      await address.send('/a', 1);
      assert.equal(hex(await board.packet()), hex(encode(Message.typed('/a', 'i', 1))));
      await pair.stop();
      pair = undefined;
      assert.equal((await board.next()).kind, 'hangup');
      await board.stop();
      await until(5000, 'the address to see its device gone', () => !address.connected);
      await assert.rejects(address.send('/a', 2), { code: 'ERR_OSC_CLOSED' });
      pair = await PtyPair.start(dir);
      board = await Board.start(pair.board);
      await until(10_000, 'the address to reopen its device', () => address.connected);
      await address.send('/a', 3);
      assert.equal(hex(await board.packet()), hex(encode(Message.typed('/a', 'i', 3))));
    } finally {
      await address.close();
      await board.stop();
      await pair?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bridge: a board (FROM) to UDP, and the far side’s replies back to the board', async (t) => {
    if (!needPeer(t, SERIAL_PEER)) return;
    await withPair(async (pair) => {
      const far = await new Server({ url: 'osc.udp://127.0.0.1:0' }).start();
      const board = await Board.start(pair.board);
      const b = await bridge(urlOf(pair.aiolo), far.url);
      try {
        const sub = far.route('/knob', 'f').sub({ incoming: true });
        await board.send(encode(Message.typed('/knob', 'f', 0.5)));
        const [m] = await take(sub, 1);
        assert.equal(m?.args[0], 0.5);
        await m?.source.send('/led', 1);
        assert.equal(hex(await board.packet()), hex(encode(Message.typed('/led', 'i', 1))));
      } finally {
        await b.stop();
        await far.stop();
        await board.stop();
      }
    });
  });

  test('aiolo send and aiolo dump take serial URLs', async (t) => {
    if (!needPeer(t, SERIAL_PEER)) return;
    await withPair(async (pair) => {
      const board = await Board.start(pair.board);
      let dump: Running | undefined;
      try {
        const sent = await run([...AIOLO, 'send', urlOf(pair.aiolo), '/from/cli', 'is', '7', 'x']);
        assert.equal(sent.code, 0, sent.stderr);
        assert.equal(hex(await board.packet()), hex(encode(Message.typed('/from/cli', 'is', 7, 'x'))));
        dump = new Running([...AIOLO, 'dump', urlOf(pair.aiolo)]);
        // the dump has the device open once its process holds the pty: there is no event to wait for
        const pty = realpathSync(pair.aiolo);
        const pid = dump.child.pid as number;
        await within(
          20_000,
          'aiolo dump to open the device',
          (async () => {
            for (;;) {
              const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
              if (fds.some((fd) => linksTo(`/proc/${pid}/fd/${fd}`, pty))) return;
              await new Promise((r) => setTimeout(r, 20)); // polling /proc, as helpers/proc.ts polls ss
            }
          })(),
        );
        await board.send(encode(Message.typed('/to/cli', 'i', 5)));
        await dump.until(() => dump?.stdout.toString().includes(' /to/cli i 5\n') ?? false, 'the dump line');
      } finally {
        await dump?.stop();
        await board.stop();
      }
    });
  });
});

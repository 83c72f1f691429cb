// Differential: packets serialised by liblo through Debian's pyliblo (the types oscsend cannot send:
// blobs, timetags, bundles) are captured off a loopback UDP socket, decoded by aiolo to the values
// asked for, and re-encoded to the very same bytes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Bundle, decode, encode, Message, Midi, TimeTag } from '../../src/index.js';
import { hex } from '../helpers/hex.js';
import { needPeer, PYLIBLO } from '../helpers/peers.js';
import { type Random, seeded } from '../helpers/random.js';

const SCRIPT = fileURLToPath(new URL('../peers/pyliblo_send.py', import.meta.url));

type ArgSpec = [tag: string, value: unknown];
interface MessageSpec {
  path: string;
  args: ArgSpec[];
}
type PacketSpec = MessageSpec | { bundle: number | null; messages: MessageSpec[] };

/** pyliblo turns a float into (seconds, fraction * 2^32): exact for the dyadic values used here. */
function timetagOf(seconds: number): TimeTag {
  const whole = Math.floor(seconds);
  return new TimeTag(whole, (seconds - whole) * 2 ** 32);
}

function expected(spec: MessageSpec): Message {
  const args = spec.args.map(([tag, v]) => {
    switch (tag) {
      case 'b':
        return Uint8Array.from(v as number[]);
      case 't':
        return timetagOf(v as number);
      case 'm':
        return new Midi(...(v as [number, number, number, number]));
      case 'h':
        return BigInt(v as number);
      case 'T':
        return true;
      case 'F':
        return false;
      case 'N':
        return null;
      default:
        return v;
    }
  });
  return Message.typed(spec.path, spec.args.map(([t]) => t).join(''), ...(args as never[]));
}

function generateMessage(r: Random): MessageSpec {
  const args: ArgSpec[] = [];
  for (let k = r.int(0, 5); k > 0; k--) {
    switch (r.pick(['b', 'b', 't', 'i', 's', 'd', 'm', 'T', 'F', 'N'])) {
      case 'b':
        args.push(['b', Array.from(r.bytes(r.bool(0.8) ? r.int(1, 13) : r.int(14, 300)))]);
        break;
      case 't':
        // dyadic fractions (k / 256) so the float pyliblo takes is exact
        args.push(['t', r.int(0, 0xffffffff) + r.int(0, 255) / 256]);
        break;
      case 'i':
        args.push(['i', r.int(-2147483648, 2147483647)]);
        break;
      case 's':
        args.push(['s', r.string(r.int(0, 10), 'abcxyz 0123')]);
        break;
      case 'd':
        args.push(['d', r.next() * 1e6]);
        break;
      case 'm':
        args.push(['m', Array.from(r.bytes(4))]);
        break;
      default:
        args.push([r.pick(['T', 'F', 'N']), null]);
    }
  }
  return { path: `/py/${r.string(r.int(1, 6), 'abcdef')}`, args };
}

/** Sends the specs through pyliblo and returns the datagrams in order. */
async function throughLiblo(specs: readonly PacketSpec[]): Promise<Uint8Array[]> {
  const socket = createSocket('udp4');
  const received: Uint8Array[] = [];
  try {
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const all = new Promise<void>((resolve) => {
      socket.on('message', (data) => {
        received.push(new Uint8Array(data));
        if (received.length === specs.length) resolve();
      });
    });
    const child = spawn(PYLIBLO.command, [SCRIPT, String(socket.address().port)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child.stdin.end(specs.map((s) => JSON.stringify(s)).join('\n'));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, 'pyliblo sender failed');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      all,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`got ${received.length} of ${specs.length} datagrams`)), 5000);
      }),
    ]).finally(() => clearTimeout(timer));
    return received;
  } finally {
    socket.close();
  }
}

describe('aiolo decodes what liblo (pyliblo) encodes, and re-encodes it byte-identically', () => {
  test(
    'blobs of 1-300 bytes, timetags, midi and mixed messages; flat bundles with timetags',
    seeded(async (r, t) => {
      if (!needPeer(t, PYLIBLO)) return;
      const specs: PacketSpec[] = [];
      for (let i = 0; i < 150; i++) specs.push(generateMessage(r));
      for (let i = 0; i < 50; i++) {
        const messages = Array.from({ length: r.int(0, 4) }, () => generateMessage(r));
        specs.push({ bundle: r.bool(0.2) ? null : r.int(1, 0xffffffff) + r.int(0, 255) / 256, messages });
      }
      const packets = await throughLiblo(specs);
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[i] as PacketSpec;
        const bytes = packets[i] as Uint8Array;
        const what = `${JSON.stringify(spec)} ${r.replay}`;
        const got = decode(bytes);
        assert.equal(hex(encode(got)), hex(bytes), `re-encoding ${what}`);
        if ('bundle' in spec) {
          assert.ok(got instanceof Bundle, what);
          // pyliblo's Bundle() without a time uses (0, 0), not liblo's immediate (0, 1)
          const tt = spec.bundle === null ? new TimeTag(0, 0) : timetagOf(spec.bundle);
          assert.ok(got.equals(new Bundle(spec.messages.map(expected), tt)), `${String(got)}: ${what}`);
        } else {
          assert.ok(got instanceof Message && got.equals(expected(spec)), `${String(got)}: ${what}`);
        }
      }
    }),
  );
});

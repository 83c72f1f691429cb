// The codec in a real browser: the browser entry (src/browser/index.ts, which exports aiolo/codec's
// values and functions with the Client) bundled for the browser by esbuild and loaded in
// Debian's chromium. For messages covering every typetag liblo knows, and bundles (one nested, with
// a timetag that is not "immediate"), the bytes the page encodes are exactly the bytes liblo 0.31
// builds (captured off a loopback UDP socket from test/peers/lo_peer.c), and the page decodes
// liblo's bytes back to the same values. OSC 1.0's optional `r` and arrays, which liblo rejects, are
// checked against bytes written out by hand from the specification, and rejected like liblo does
// with `extendedTypes: false`.
//
// Packets travel between Node and the page as JSON-able descriptions whose argument tokens are
// lo_peer's exact text form (test/helpers/lo.ts): floats as their bits, strings and blobs as hex.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Bundle, encode, Message, type OscArg, TimeTag } from '../../src/index.js';
import { within } from '../helpers/async.js';
import { bundle, type Chromium, needBrowser, type OpenPage, withChromium, withPage } from '../helpers/browser.js';
import { hex } from '../helpers/hex.js';
import { fromLoToken, LO_PEER, LoSender } from '../helpers/lo.js';
import { needPeer } from '../helpers/peers.js';

type Codec = typeof import('../../src/codec/index.js');

/** An argument: lo_peer's token for it (`'-'` for T F N I), or a list of them for an OSC array. */
type Token = string | Token[];
interface MessageDesc {
  readonly path: string;
  readonly types: string;
  readonly args: Token[];
}
interface BundleDesc {
  /** `%08x.%08x`, seconds and fraction. */
  readonly timetag: string;
  readonly elements: Desc[];
}
type Desc = MessageDesc | BundleDesc;
type Decoded = { readonly desc: Desc } | { readonly error: string };

/** What installHelpers leaves in the page. */
interface PageGlobals {
  aioloCodec: Codec;
  aioloTest: {
    encodeHex(desc: Desc): string;
    decode(hex: string, extendedTypes: boolean): Decoded;
  };
}

const x = (text: string): string => `x${Buffer.from(text).toString('hex')}`;
const msg = (path: string, types: string, ...args: Token[]): MessageDesc => ({ path, types, args });

// One message with one argument of each typetag liblo 0.31 knows.
const ALL = msg(
  '/all',
  'ihfdsScbmtTFNI',
  '-7',
  '1099511627776',
  '3fc00000',
  '400921fb54442d18',
  x('hello'),
  x('world'),
  '97',
  'xdeadbeef00',
  '01020304',
  'e5f0a2b3.80000000',
  '-',
  '-',
  '-',
  '-',
);

// Every typetag liblo 0.31 sends, with the values at their edges.
const MESSAGES: MessageDesc[] = [
  msg('/i', 'iiii', '0', '42', '2147483647', '-2147483648'),
  msg('/h', 'hhhh', '0', '-2', '9223372036854775807', '-9223372036854775808'),
  // 1.5, -0, +inf, -inf, 3.14 (rounded), the least denormal, NaN
  msg('/f', 'fffffff', '3fc00000', '80000000', '7f800000', 'ff800000', '4048f5c3', '00000001', '7fc00000'),
  msg(
    '/d',
    'dddddd',
    '3ff8000000000000',
    '8000000000000000',
    'fff0000000000000',
    '400921fb54442d18',
    '0000000000000001',
    '7ff8000000000000',
  ),
  msg('/s', 'sssss', x('abc'), x('abcd'), x(''), x('é€😀'), x('a longer string, past one word')),
  msg('/S', 'SS', x('sym'), x('')),
  msg('/c', 'ccc', '65', '0', '195'),
  // liblo 0.31 cannot make an empty blob
  msg('/b', 'bbbb', 'x01', 'x01020304', 'x0102030405', `x${'ab'.repeat(301)}`),
  msg('/m', 'mm', '90403f7f', '00ff0000'),
  msg('/t', 'ttt', '00000001.80000000', '00000000.00000001', 'e5f0a2b3.12345678'),
  msg('/T', 'T', '-'),
  msg('/F', 'F', '-'),
  msg('/N', 'N', '-'),
  msg('/I', 'I', '-'),
  msg('/empty', ''),
  msg('/a/longer/päth', 'TFNI', '-', '-', '-', '-'),
  ALL,
];

const INNER: BundleDesc = {
  timetag: '00000001.00000002',
  elements: [msg('/bundle', 'is', '23', x('23')), msg('/bundle', 'si', x('24'), '24')],
};
const BUNDLES: [name: string, desc: BundleDesc][] = [
  [
    'bundle at e5f0a2b3.12345678 holding a message, a nested bundle and a message',
    { timetag: 'e5f0a2b3.12345678', elements: [msg('/o', 'f', '3f800000'), INNER, msg('/after', 'hT', '-1', '-')] },
  ],
  ['immediate bundle of one message of every type', { timetag: '00000000.00000001', elements: [ALL] }],
  ['empty bundle', { timetag: 'e5f0a2b3.00000000', elements: [] }],
];

// OSC 1.0's optional types, liblo rejects them: bytes written out from the specification.
const EXTENDED: [desc: MessageDesc, bytes: string][] = [
  [msg('/r', 'r', '11223344'), '2f720000 2c720000 11223344'],
  [msg('/a', '[ii]', ['1', '2']), '2f610000 2c5b69695d000000 00000001 00000002'],
  [msg('/a', '[]', []), '2f610000 2c5b5d00'],
  [
    msg('/a', 'i[f[s]r]T', '7', ['3fc00000', [x('hi')], 'ff000080'], '-'),
    '2f610000 2c695b665b735d725d540000 00000007 3fc00000 68690000 ff000080',
  ],
];

const describePacket = (d: Desc): string => ('path' in d ? `${d.path} ,${d.types}` : `bundle ${d.timetag}`);

/** The packet a description stands for, built in Node (liblo's tokens: no `r`, no arrays). */
function toPacket(d: Desc): Message | Bundle {
  if ('path' in d) {
    const args = d.types.split('').map((tag, i) => fromLoToken(tag, d.args[i] as string));
    return Message.typed(d.path, d.types, ...(args as never[]));
  }
  const [s, f] = d.timetag.split('.') as [string, string];
  return new Bundle(d.elements.map(toPacket), new TimeTag(Number.parseInt(s, 16), Number.parseInt(f, 16)));
}

/** liblo's bytes for each packet: lo_peer builds and sends it; a loopback UDP socket receives it. */
async function libloBytes(packets: readonly (Message | Bundle)[]): Promise<Uint8Array[]> {
  const socket = createSocket('udp4');
  try {
    socket.bind(0, '127.0.0.1');
    await within(5000, 'the UDP socket to bind', once(socket, 'listening'));
    await using lo = new LoSender();
    await lo.command(`target osc.udp://127.0.0.1:${socket.address().port}/`);
    const out: Uint8Array[] = [];
    for (const p of packets) {
      const received = once(socket, 'message');
      await lo.packet(p);
      const [bytes] = (await within(5000, `liblo's datagram for ${p}`, received)) as [Buffer];
      out.push(new Uint8Array(bytes));
    }
    return out;
  } finally {
    socket.close();
  }
}

/**
 * Runs in the page (given to page.evaluate, so it may use only the page's globals): builds packets
 * from descriptions with the bundled codec and describes decoded ones, and leaves both in
 * `globalThis.aioloTest`.
 */
function installHelpers(): void {
  const g = globalThis as unknown as PageGlobals;
  const c = g.aioloCodec;
  const toHex = (b: Uint8Array): string => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
  const fromHex = (h: string): Uint8Array => {
    const out = new Uint8Array(h.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16);
    return out;
  };
  const word = new DataView(new ArrayBuffer(8));
  const utf8 = new TextEncoder();
  const fromUtf8 = new TextDecoder('utf-8', { fatal: true });
  const timetag = (t: string): InstanceType<Codec['TimeTag']> => {
    const [s, f] = t.split('.') as [string, string];
    return new c.TimeTag(Number.parseInt(s, 16), Number.parseInt(f, 16));
  };
  const tt = (t: InstanceType<Codec['TimeTag']>): string =>
    `${t.seconds.toString(16).padStart(8, '0')}.${t.fraction.toString(16).padStart(8, '0')}`;

  function value(tag: string, token: string): OscArg {
    switch (tag) {
      case 'i':
        return Number(token);
      case 'h':
        return BigInt(token);
      case 'f':
        word.setUint32(0, Number.parseInt(token, 16));
        return word.getFloat32(0);
      case 'd':
        word.setBigUint64(0, BigInt(`0x${token}`));
        return word.getFloat64(0);
      case 's':
        return fromUtf8.decode(fromHex(token.slice(1)));
      case 'S':
        return new c.OscSymbol(fromUtf8.decode(fromHex(token.slice(1))));
      case 'c':
        return new c.Char(Number(token));
      case 'b':
        return fromHex(token.slice(1));
      case 'm': {
        const b = fromHex(token);
        return new c.Midi(b[0] as number, b[1] as number, b[2] as number, b[3] as number);
      }
      case 'r': {
        const b = fromHex(token);
        return new c.Rgba(b[0] as number, b[1] as number, b[2] as number, b[3] as number);
      }
      case 't':
        return timetag(token);
      case 'T':
        return true;
      case 'F':
        return false;
      case 'N':
        return null;
      case 'I':
        return c.INFINITUM;
      default:
        throw new Error(`no typetag ${tag}`);
    }
  }

  function token(tag: string, v: OscArg): string {
    switch (tag) {
      case 'i':
        return String(v);
      case 'h':
        return String(v as bigint);
      case 'f':
        word.setFloat32(0, v as number);
        return word.getUint32(0).toString(16).padStart(8, '0');
      case 'd':
        word.setFloat64(0, v as number);
        return word.getBigUint64(0).toString(16).padStart(16, '0');
      case 's':
        return `x${toHex(utf8.encode(v as string))}`;
      case 'S':
        return `x${toHex(utf8.encode((v as InstanceType<Codec['OscSymbol']>).value))}`;
      case 'c':
        return String((v as InstanceType<Codec['Char']>).code);
      case 'b':
        if (!(v instanceof Uint8Array)) throw new Error(`a blob decoded to ${typeof v}`);
        return `x${toHex(v)}`;
      case 'm':
        return toHex((v as InstanceType<Codec['Midi']>).toBytes());
      case 'r': {
        const r = v as InstanceType<Codec['Rgba']>;
        return toHex(Uint8Array.of(r.r, r.g, r.b, r.a));
      }
      case 't':
        return tt(v as InstanceType<Codec['TimeTag']>);
      case 'T':
        if (v !== true) throw new Error(`T decoded to ${String(v)}`);
        return '-';
      case 'F':
        if (v !== false) throw new Error(`F decoded to ${String(v)}`);
        return '-';
      case 'N':
        if (v !== null) throw new Error(`N decoded to ${String(v)}`);
        return '-';
      case 'I':
        if (v !== c.INFINITUM) throw new Error(`I decoded to ${String(v)}`);
        return '-';
      default:
        throw new Error(`no typetag ${tag}`);
    }
  }

  // One list of typetags from `start` (to its `]` or the end), with the arguments or tokens it
  // covers: returns where it stopped.
  function walk<I, O>(
    types: string,
    start: number,
    items: readonly I[],
    one: (tag: string, item: I) => O,
  ): [O[], number] {
    const out: O[] = [];
    let t = start;
    let k = 0;
    while (t < types.length && types[t] !== ']') {
      const item = items[k++] as I;
      if (types[t] === '[') {
        const [inner, end] = walk(types, t + 1, item as unknown as readonly I[], one);
        out.push(inner as unknown as O);
        t = end + 1;
      } else {
        out.push(one(types[t] as string, item));
        t++;
      }
    }
    if (k !== items.length) throw new Error(`${items.length} items for ${k} typetags in ${types}`);
    return [out, t];
  }

  function build(d: Desc): InstanceType<Codec['Message']> | InstanceType<Codec['Bundle']> {
    if ('path' in d) {
      const [args] = walk(d.types, 0, d.args, (tag, tok: Token) => value(tag, tok as string));
      return c.Message.typed(d.path, d.types, ...(args as never[]));
    }
    return new c.Bundle(d.elements.map(build), timetag(d.timetag));
  }

  function describe(p: InstanceType<Codec['Message']> | InstanceType<Codec['Bundle']>): Desc {
    if (p instanceof c.Bundle) return { timetag: tt(p.timetag), elements: p.elements.map(describe) };
    const [args] = walk(p.typetags, 0, p.args as readonly OscArg[], (tag, v: OscArg): Token => token(tag, v));
    return { path: p.path, types: p.typetags, args };
  }

  g.aioloTest = {
    encodeHex: (d) => toHex(c.encode(build(d))),
    decode(h, extendedTypes) {
      try {
        return { desc: describe(c.decode(fromHex(h), { extendedTypes })) };
      } catch (err) {
        return { error: err instanceof c.OscDecodeError ? err.code : String(err) };
      }
    },
  };
}

// the browser entry, as a page gets it: the codec it exports is the one the Client sends with
const CODEC_ENTRY = {
  contents: `import * as codec from './src/browser/index.ts';\n(globalThis as { aioloCodec?: unknown }).aioloCodec = codec;\n`,
  resolveDir: fileURLToPath(new URL('../..', import.meta.url)),
};

const encodeIn = (page: OpenPage, d: Desc): Promise<string> =>
  page.evaluate((desc) => (globalThis as unknown as PageGlobals).aioloTest.encodeHex(desc), d);
const decodeIn = (page: OpenPage, bytes: string, extendedTypes = true): Promise<Decoded> =>
  page.evaluate((a) => (globalThis as unknown as PageGlobals).aioloTest.decode(a.bytes, a.extendedTypes), {
    bytes,
    extendedTypes,
  });

test('aiolo/browser in chromium: the bytes liblo 0.31 builds, both ways', async (t) => {
  if (!needBrowser(t) || !needPeer(t, LO_PEER)) return;
  const codec = await bundle(CODEC_ENTRY);
  const cases: [name: string, desc: Desc][] = [
    ...MESSAGES.map((m): [string, Desc] => [`message ${describePacket(m)}`, m]),
    ...BUNDLES,
  ];
  const packets = cases.map(([, d]) => toPacket(d));
  const liblo = (await libloBytes(packets)).map(hex);

  await withChromium(async (chromium: Chromium) => {
    await withPage({ chromium, scripts: { 'codec.js': codec } }, async (page) => {
      await page.evaluate(installHelpers, undefined);

      await t.test('the page is a browser: the bundle runs without Node globals', async () => {
        const globals = await page.evaluate(
          () => [
            typeof (globalThis as { process?: unknown }).process,
            typeof (globalThis as { Buffer?: unknown }).Buffer,
          ],
          undefined,
        );
        assert.deepEqual(globals, ['undefined', 'undefined']);
        const loaded = await page.evaluate(
          () => typeof (globalThis as unknown as PageGlobals).aioloCodec?.encode,
          undefined,
        );
        assert.equal(loaded, 'function');
      });

      for (const [i, [name, desc]] of cases.entries()) {
        await t.test(name, async () => {
          const fromLiblo = liblo[i] as string;
          assert.equal(hex(encode(packets[i] as Message | Bundle)), fromLiblo, 'Node encodes as liblo does');
          assert.equal(await encodeIn(page, desc), fromLiblo, 'the page encodes as liblo does');
          assert.deepEqual(await decodeIn(page, fromLiblo), { desc }, "the page decodes liblo's bytes to the values");
        });
      }

      for (const [desc, spec] of EXTENDED) {
        await t.test(`OSC 1.0 optional types: ${describePacket(desc)}`, async () => {
          const bytes = spec.replace(/\s+/g, '');
          assert.equal(await encodeIn(page, desc), bytes, 'the page encodes as OSC 1.0 specifies');
          assert.deepEqual(await decodeIn(page, bytes), { desc }, 'the page decodes them back');
          assert.deepEqual(
            await decodeIn(page, bytes, false),
            { error: 'ERR_OSC_UNKNOWN_TYPETAG' },
            'extendedTypes: false rejects them, as liblo does',
          );
        });
      }
    });

    // The harness's own promises, in the same browser: what the page reports fails the test.
    await t.test('harness: an uncaught exception in the page fails withPage', async () => {
      await assert.rejects(
        withPage({ chromium, scripts: { 'boom.js': 'throw new Error("boom in the page")' } }, async () => {}),
        /uncaught: Error: boom in the page/,
      );
    });
    await t.test('harness: a console error in the page fails evaluate, and withPage', async () => {
      await assert.rejects(
        withPage({ chromium }, async (page) => {
          await assert.rejects(
            page.evaluate(() => console.error('logged in the page'), undefined),
            /console\.error: logged in the page/,
          );
        }),
        /console\.error: logged in the page/,
      );
    });
  });
});

test('harness: a browser bundle may not import node: modules', async () => {
  await assert.rejects(
    bundle({ contents: `import { readFileSync } from 'node:fs';\nconsole.log(readFileSync);\n`, resolveDir: '.' }),
    /imports node:fs: a browser bundle may not use Node/,
  );
});

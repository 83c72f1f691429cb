// Random OSC values, messages and bundles for property and fuzz tests.
import { Bundle, Char, INFINITUM, Message, Midi, type OscArg, OscSymbol, Rgba, TimeTag } from '../../src/index.js';
import type { Random } from './random.js';

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const WIDE = ['é', 'ß', 'Ω', '日本語', '🎛️', '\u0301', '\u{10FFFF}', 'ä'];

export function randomString(r: Random, max = 40): string {
  let s = '';
  const n = r.bool(0.1) ? r.int(0, 300) : r.int(0, max);
  while (s.length < n) s += r.bool(0.85) ? r.string(1, ASCII) : r.pick(WIDE);
  return s;
}

const FLOATS = [0, -0, 1, -1, 0.5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 3.4e38, 1e-45];
const DOUBLES = [...FLOATS, Number.MAX_VALUE, Number.MIN_VALUE, 1e300, -1e-300, Math.PI];

export function randomArg(r: Random, tag: string): OscArg {
  switch (tag) {
    case 'i':
      return r.bool(0.1) ? r.pick([0, -1, 2147483647, -2147483648]) : r.int(-2147483648, 2147483647);
    case 'h':
      return r.bool(0.1)
        ? r.pick([0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)])
        : BigInt.asIntN(64, (BigInt(r.uint32()) << 32n) | BigInt(r.uint32()));
    case 'f':
      return Math.fround(r.bool(0.2) ? r.pick(FLOATS) : (r.next() - 0.5) * 10 ** r.int(-10, 10));
    case 'd':
      return r.bool(0.2) ? r.pick(DOUBLES) : (r.next() - 0.5) * 10 ** r.int(-100, 100);
    case 's':
      return randomString(r);
    case 'S':
      return new OscSymbol(randomString(r, 12));
    case 'c':
      return new Char(r.int(0, 255));
    case 'b':
      return r.bytes(r.bool(0.1) ? r.int(0, 2000) : r.int(0, 16));
    case 'm':
      return new Midi(r.int(0, 255), r.int(0, 255), r.int(0, 255), r.int(0, 255));
    case 'r':
      return new Rgba(r.int(0, 255), r.int(0, 255), r.int(0, 255), r.int(0, 255));
    case 't':
      return r.bool(0.1) ? TimeTag.IMMEDIATE : new TimeTag(r.uint32(), r.uint32());
    case 'T':
      return true;
    case 'F':
      return false;
    case 'N':
      return null;
    case 'I':
      return INFINITUM;
    default:
      throw new Error(`no generator for ${tag}`);
  }
}

const LIBLO_TAGS = 'ihfdsScbmtTFNI';

/** Random typetags (with nested arrays when `extended`) and matching arguments. */
export function randomArgs(r: Random, extended: boolean, depth = 0): [tags: string, args: OscArg[]] {
  let tags = '';
  const args: OscArg[] = [];
  const n = r.bool(0.05) ? r.int(9, 40) : r.int(0, 8);
  for (let k = 0; k < n; k++) {
    if (extended && depth < 3 && r.bool(0.08)) {
      const [inner, innerArgs] = randomArgs(r, true, depth + 1);
      tags += `[${inner}]`;
      args.push(innerArgs);
      continue;
    }
    const tag = extended && r.bool(0.05) ? 'r' : r.pick([...LIBLO_TAGS]);
    tags += tag;
    args.push(randomArg(r, tag));
  }
  return [tags, args];
}

export function randomPath(r: Random): string {
  const segs = Array.from({ length: r.int(1, 5) }, () =>
    r.string(r.int(1, 12), 'abcdefghijklmnopqrstuvwxyz0123456789_-.'),
  );
  return `/${segs.join('/')}${r.bool(0.05) ? 'é' : ''}`;
}

export function randomMessage(r: Random, extended = true): Message {
  const [tags, args] = randomArgs(r, extended);
  return Message.typed(randomPath(r), tags, ...args);
}

export function randomBundle(r: Random, extended = true, depth = 1): Bundle {
  const tt = r.bool(0.3) ? TimeTag.IMMEDIATE : new TimeTag(r.uint32(), r.uint32());
  const b = new Bundle([], tt);
  for (let k = r.int(0, 5); k > 0; k--) {
    b.add(depth < 4 && r.bool(0.25) ? randomBundle(r, extended, depth + 1) : randomMessage(r, extended));
  }
  return b;
}

export function randomPacket(r: Random, extended = true): Message | Bundle {
  return r.bool(0.3) ? randomBundle(r, extended) : randomMessage(r, extended);
}

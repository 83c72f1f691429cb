// oscdump's text: one line per message, `%08x.%08x PATH TYPES` then each argument as liblo's
// lo_arg_pp prints it, bytes as they are (strings are not escaped, a char is its raw byte).
import type { Received } from '../index.js';
import { type Char, type Midi, type OscArg, type OscSymbol, TimeTag } from '../index.js';
import { formatF } from './printf.js';

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

/** printf("%#02x", b): "00" for zero, "0x.." otherwise. */
function altHex(b: number): string {
  return b === 0 ? '00' : `0x${b.toString(16)}`;
}

function arg(tag: string, value: OscArg): Buffer {
  switch (tag) {
    case 'i':
    case 'h':
      return Buffer.from(String(value), 'latin1');
    case 'f':
    case 'd':
      return Buffer.from(formatF(value as number), 'latin1');
    case 's':
      return Buffer.concat([Buffer.from('"'), Buffer.from(value as string, 'utf8'), Buffer.from('"')]);
    case 'S':
      return Buffer.concat([Buffer.from("'"), Buffer.from((value as OscSymbol).value, 'utf8')]);
    case 'c':
      return Buffer.from([0x27, (value as Char).code, 0x27]);
    case 'b': {
      const b = value as Uint8Array;
      const body = b.length > 12 ? `${b.length} byte blob` : `${b.length}b ${Array.from(b, altHex).join(' ')}`;
      return Buffer.from(`[${body}]`, 'latin1');
    }
    case 'm': {
      const m = value as Midi;
      return Buffer.from(
        `MIDI [0x${hex2(m.port)} 0x${hex2(m.status)} 0x${hex2(m.data1)} 0x${hex2(m.data2)}]`,
        'latin1',
      );
    }
    case 't':
      return Buffer.from(String(value as TimeTag), 'latin1');
    case 'T':
      return Buffer.from('#T');
    case 'F':
      return Buffer.from('#F');
    case 'N':
      return Buffer.from('Nil');
    case 'I':
      return Buffer.from('Infinitum');
    default:
      return Buffer.alloc(0);
  }
}

/**
 * The oscdump line for a message: its bundle's timetag, or — for plain messages and immediate
 * bundles, as oscdump — the time it was printed.
 */
export function dumpLine(m: Received, now: () => TimeTag = TimeTag.now): Buffer {
  const tt = m.timetag.isImmediate ? now() : m.timetag;
  const parts: Buffer[] = [Buffer.from(`${tt} `), Buffer.from(m.path, 'utf8'), Buffer.from(` ${m.typetags}`)];
  for (let i = 0; i < m.typetags.length; i++) {
    parts.push(Buffer.from(' '), arg(m.typetags[i] as string, m.args[i] as OscArg));
  }
  parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** `--json`: one lossless JSON object per message; each argument is [typetag, value]. */
export function jsonLine(m: Received, now: () => TimeTag = TimeTag.now): string {
  const value = (tag: string, v: OscArg): unknown => {
    switch (tag) {
      case 'h':
        return String(v);
      case 'f':
      case 'd':
        return Number.isFinite(v) && !Object.is(v, -0) ? v : String(v === 0 ? '-0' : v);
      case 'S':
        return (v as OscSymbol).value;
      case 'c':
        return (v as Char).code;
      case 'b':
        return Buffer.from(v as Uint8Array).toString('hex');
      case 'm':
        return Buffer.from((v as Midi).toBytes()).toString('hex');
      case 't':
        return String(v);
      case 'I':
        return null; // the typetag says infinitum; JSON has no value for it
      default:
        return v;
    }
  };
  const tt = m.timetag.isImmediate ? now() : m.timetag;
  return `${JSON.stringify({
    timetag: String(tt),
    immediate: m.timetag.isImmediate,
    path: m.path,
    typetags: m.typetags,
    args: Array.from(m.typetags, (tag, i) => [tag, value(tag, m.args[i] as OscArg)]),
    source: m.source.url,
  })}\n`;
}

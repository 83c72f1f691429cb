// OSC values as OSCQuery's JSON carries them (VALUE, RANGE's MIN/MAX/VALS), and back.
//
// JSON → OSC follows the attribute's typetag: `i` an integer within int32; `h` an integer (a JSON
// number that is a safe integer, or a decimal string, for values past 2^53); `f` `d` any number;
// `s` a string; `S` a string (an OscSymbol); `c` a one-character string or a byte; `b` a base64
// string or an array of bytes; `m` an array of four bytes; `r` "#RRGGBBAA" (the # optional) or
// an array of four bytes; `t` "%08x.%08x" (seconds.fraction, as oscdump prints) or an array of two
// uint32; `T` `F` a boolean (either letter: VRChat types its booleans `T` and sends false too);
// `N` anything, as null; `I` anything, as INFINITUM; `[...]` a JSON array, element by element.
// `null` and `{}` stand for "no value" (the spec's empty value) and give `undefined`.
// Anything else does not fit: the caller gets a reason, and reports it as a warning.
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN } from '../codec/ranges.js';
import { TimeTag } from '../codec/timetag.js';
import { Char, INFINITUM, Midi, type OscArg, OscSymbol, Rgba } from '../codec/values.js';

/** A converted value, or why the JSON did not fit the typetag. */
export type Converted =
  | { readonly ok: true; readonly value: OscArg | undefined }
  | { readonly ok: false; readonly why: string };

const NO_VALUE: Converted = { ok: true, value: undefined };

function ok(value: OscArg): Converted {
  return { ok: true, value };
}

function no(tag: string, json: unknown, expected: string): Converted {
  return { ok: false, why: `${shortJson(json)} does not fit typetag '${tag}' (${expected})` };
}

/** JSON text of a value, cut to 60 characters, for messages (never throws, whatever the value). */
export function shortJson(json: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(json);
  } catch {
    // nested too deep for the stack, or a bigint: say what it is, without recursing into it
    text = Array.isArray(json) ? '[…]' : typeof json === 'object' && json !== null ? '{…}' : typeof json;
  }
  text ??= typeof json;
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function isEmptyObject(json: unknown): boolean {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && Object.keys(json).length === 0;
}

function bytes(json: unknown, n: number): number[] | undefined {
  if (!Array.isArray(json) || json.length !== n) return undefined;
  for (const b of json) if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) return undefined;
  return json as number[];
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const RGBA = /^#?([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})$/;
const TIMETAG = /^([0-9a-fA-F]{1,8})\.([0-9a-fA-F]{1,8})$/;

/**
 * One argument's JSON as the OSC value of typetag `tag` (one letter, or a whole `[...]` array
 * typespec). `depth` bounds nested arrays (the tree's own nesting limit applies to them too).
 */
export function jsonToArg(tag: string, json: unknown, depth = 0): Converted {
  if (json === null || isEmptyObject(json)) {
    if (tag === 'N') return ok(null);
    if (tag === 'I') return ok(INFINITUM);
    return NO_VALUE;
  }
  switch (tag) {
    case 'i':
      if (typeof json === 'number' && Number.isInteger(json) && json >= INT32_MIN && json <= INT32_MAX) return ok(json);
      return no(tag, json, 'an integer within int32');
    case 'h':
      if (typeof json === 'number' && Number.isSafeInteger(json)) return ok(BigInt(json));
      if (typeof json === 'string' && /^-?[0-9]{1,19}$/.test(json)) {
        const v = BigInt(json);
        if (v >= INT64_MIN && v <= INT64_MAX) return ok(v);
      }
      return no(tag, json, 'an integer within int64, as a number or a decimal string');
    case 'f':
    case 'd':
      if (typeof json === 'number') return ok(json);
      return no(tag, json, 'a number');
    case 's':
      if (typeof json === 'string' && !json.includes('\0')) return ok(json);
      return no(tag, json, 'a string without NUL');
    case 'S':
      if (typeof json === 'string' && !json.includes('\0')) return ok(new OscSymbol(json));
      return no(tag, json, 'a string without NUL');
    case 'c':
      if (typeof json === 'string' && json.length === 1 && json.charCodeAt(0) <= 0xff) return ok(new Char(json));
      if (typeof json === 'number' && Number.isInteger(json) && json >= 0 && json <= 255) return ok(new Char(json));
      return no(tag, json, 'one character from U+0000 to U+00FF, or a byte');
    case 'b': {
      if (typeof json === 'string' && BASE64.test(json)) return ok(new Uint8Array(Buffer.from(json, 'base64')));
      if (Array.isArray(json) && bytes(json, json.length) !== undefined) return ok(Uint8Array.from(json as number[]));
      return no(tag, json, 'a base64 string or an array of bytes');
    }
    case 'm': {
      const b = bytes(json, 4);
      if (b !== undefined) return ok(new Midi(b[0] as number, b[1] as number, b[2] as number, b[3] as number));
      return no(tag, json, 'an array of four bytes: port, status, data1, data2');
    }
    case 'r': {
      const m = typeof json === 'string' ? RGBA.exec(json) : null;
      if (m !== null) {
        const [r, g, b, a] = m.slice(1).map((h) => Number.parseInt(h, 16));
        return ok(new Rgba(r as number, g as number, b as number, a as number));
      }
      const b = bytes(json, 4);
      if (b !== undefined) return ok(new Rgba(b[0] as number, b[1] as number, b[2] as number, b[3] as number));
      return no(tag, json, '"#RRGGBBAA" or an array of four bytes');
    }
    case 't': {
      const m = typeof json === 'string' ? TIMETAG.exec(json) : null;
      if (m !== null) return ok(new TimeTag(Number.parseInt(m[1] as string, 16), Number.parseInt(m[2] as string, 16)));
      if (
        Array.isArray(json) &&
        json.length === 2 &&
        json.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff)
      ) {
        return ok(new TimeTag(json[0] as number, json[1] as number));
      }
      return no(tag, json, '"%08x.%08x" or [seconds, fraction]');
    }
    case 'T':
    case 'F':
      if (typeof json === 'boolean') return ok(json);
      return no(tag, json, 'a boolean');
    case 'N':
      return ok(null);
    case 'I':
      return ok(INFINITUM);
    default:
      break;
  }
  if (tag.startsWith('[') && tag.endsWith(']')) {
    if (!Array.isArray(json)) return no(tag, json, 'an array');
    if (depth >= 16) return { ok: false, why: 'arrays nested more than 16 deep' };
    const inner = splitTypetags(tag.slice(1, -1));
    if (inner === null) return { ok: false, why: `invalid array typespec '${tag}'` };
    if (inner.length !== json.length) {
      return { ok: false, why: `${json.length} element(s) for array typespec '${tag}' of ${inner.length}` };
    }
    const out: OscArg[] = [];
    for (let i = 0; i < inner.length; i++) {
      const c = jsonToArg(inner[i] as string, json[i], depth + 1);
      if (!c.ok) return c;
      // an element without a value cannot be sent: the whole array has none
      if (c.value === undefined) return NO_VALUE;
      out.push(c.value);
    }
    return ok(out);
  }
  return { ok: false, why: `unknown typetag '${tag}'` };
}

const TAGS = new Set('ihfdsScbmtTFNIr');

/**
 * A TYPE string split into its arguments: `'if[ff]s'` → `['i', 'f', '[ff]', 's']`. `null` if it is
 * not a valid typetag string (unknown letters, unbalanced brackets).
 */
export function splitTypetags(type: string): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < type.length; i++) {
    const c = type[i] as string;
    if (c === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === ']') {
      if (depth === 0) return null;
      depth--;
      if (depth === 0) out.push(type.slice(start, i + 1));
    } else if (!TAGS.has(c)) {
      return null;
    } else if (depth === 0) {
      out.push(c);
    }
  }
  return depth === 0 ? out : null;
}

/**
 * An OSC value as JSON, in the forms {@link jsonToArg} reads back (so `--json` output can be fed
 * to a server): int64 as a decimal string, blobs as base64, MIDI as four bytes, RGBA as
 * "#rrggbbaa", timetags as "%08x.%08x", symbols and chars as strings, INFINITUM as null; numbers
 * JSON cannot hold (NaN, ±Infinity) as the strings "NaN", "Infinity", "-Infinity".
 */
export function argToJson(value: OscArg | undefined): unknown {
  if (value === undefined || value === null || value === INFINITUM) return null;
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'string':
    case 'boolean':
      return value;
    default:
      break;
  }
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof OscSymbol || value instanceof Char) return value.value;
  if (value instanceof Midi) return [value.port, value.status, value.data1, value.data2];
  if (value instanceof Rgba) {
    return `#${[value.r, value.g, value.b, value.a].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  }
  if (value instanceof TimeTag) return value.toString();
  if (Array.isArray(value)) return value.map((v) => argToJson(v as OscArg));
  return null;
}

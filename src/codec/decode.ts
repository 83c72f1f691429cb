import { type Bundle, type BundleElement, createBundle } from './bundle.js';
import { readFloat32, readFloat64, readInt32, readInt64, readUint32 } from './bytes.js';
import { type DecodeErrorCode, OscConfigError, OscDecodeError } from './errors.js';
import { headerSet, knownHeader, rememberHeader } from './headers.js';
import { createMessage, type Message } from './message.js';
import { BUNDLE_HEADER_BYTES, BUNDLE_TAG_BYTES, bundleTilingProblem, isBundle } from './structure.js';
import { TimeTag } from './timetag.js';
import { readInterned, readUtf8 } from './utf8.js';
import { Char, INFINITUM, Midi, type OscArg, OscSymbol, Rgba } from './values.js';

/** Options of `decode()`: the limits a packet from the network is held to. */
export interface DecodeOptions {
  /** Larger packets are refused with `ERR_OSC_TOO_LARGE`. Default {@link DEFAULT_MAX_PACKET_SIZE}. */
  readonly maxPacketSize?: number;
  /** Bundles nested deeper are refused with `ERR_OSC_TOO_DEEP`; a top-level bundle is depth 1. Default {@link DEFAULT_MAX_DEPTH}. */
  readonly maxDepth?: number;
  /**
   * Accept OSC 1.0's optional `r` and `[` `]`, which liblo 0.31 rejects. Default true; false
   * rejects them with `ERR_OSC_UNKNOWN_TYPETAG` exactly as liblo does.
   */
  readonly extendedTypes?: boolean;
}

/** The default `maxPacketSize`, 1 MiB: larger packets are refused with `ERR_OSC_TOO_LARGE`. */
export const DEFAULT_MAX_PACKET_SIZE = 1 << 20;
/** The default `maxDepth` of nested bundles: deeper ones are refused with `ERR_OSC_TOO_DEEP`. */
export const DEFAULT_MAX_DEPTH = 32;

// Decoding is synchronous and calls nothing outside this module, so the options in force are
// module state rather than a parameter threaded through every call.
let maxDepth = DEFAULT_MAX_DEPTH;
let extended = true;

// The string scanner's results, read right after each scanString call.
let strHash = 0;
let strAscii = true;
let strEnd = 0;

function fail(code: DecodeErrorCode, offset: number, message: string): never {
  throw new OscDecodeError(code, offset, message);
}

/**
 * Decodes one OSC packet. Every rule liblo's `lo_message_deserialise` and `lo_validate_bundle`
 * apply is applied here; anything malformed throws {@link OscDecodeError} with a stable `code` and
 * the byte `offset`, and nothing else escapes.
 */
export function decode(bytes: Uint8Array, options?: DecodeOptions): Message | Bundle {
  if (!(bytes instanceof Uint8Array)) {
    throw new OscConfigError('ERR_OSC_INVALID_ARG_TYPE', 'decode takes a Uint8Array (a Buffer is one)');
  }
  const maxSize = options?.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  extended = options?.extendedTypes ?? true;
  const size = bytes.length;
  if (size === 0) fail('ERR_OSC_EMPTY_PACKET', 0, 'empty packet');
  if (size > maxSize) fail('ERR_OSC_TOO_LARGE', maxSize, `packet of ${size} bytes exceeds maxPacketSize ${maxSize}`);
  return decodeElement(bytes, 0, size, 1);
}

function decodeElement(bytes: Uint8Array, start: number, end: number, depth: number): BundleElement {
  return isBundle(bytes, start, end) ? decodeBundle(bytes, start, end, depth) : decodeMessage(bytes, start, end);
}

function decodeBundle(bytes: Uint8Array, start: number, end: number, depth: number): Bundle {
  if (depth > maxDepth) fail('ERR_OSC_TOO_DEEP', start, `bundles nested deeper than maxDepth ${maxDepth}`);
  const first = start + BUNDLE_HEADER_BYTES;
  const at = start + BUNDLE_TAG_BYTES;
  if (end - first < 0) fail('ERR_OSC_INVALID_BUNDLE', at, 'bundle has no complete timetag');
  const timetag = new TimeTag(readUint32(bytes, at), readUint32(bytes, at + 4));
  const problem = bundleTilingProblem(bytes, first, end);
  if (problem >= 0) bundleProblem(bytes, problem, end);
  const elements: BundleElement[] = [];
  for (let pos = first; pos < end; ) {
    const size = readUint32(bytes, pos);
    elements.push(decodeElement(bytes, pos + 4, pos + 4 + size, depth + 1));
    pos += 4 + size;
  }
  return createBundle(elements, timetag);
}

/** Throws what {@link bundleTilingProblem} found at `pos`. */
function bundleProblem(bytes: Uint8Array, pos: number, end: number): never {
  if (end - pos < 4) fail('ERR_OSC_INVALID_BUNDLE', pos, `${end - pos} stray byte(s) after the last bundle element`);
  const size = readUint32(bytes, pos);
  fail('ERR_OSC_INVALID_BUNDLE', pos, `bundle element size ${size} exceeds the ${end - pos - 4} bytes left`);
}

// 32-bit FNV-1a (Fowler-Noll-Vo): one xor and one multiply a byte, computed while the scan reads the
// bytes anyway; good enough to pick a slot of the intern table (utf8.ts), which checks the bytes.
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Scans a NUL-terminated, zero-padded string at `pos` (lo_validate_string). Returns the padded end,
 * or -1 (no NUL), -2 (padding runs past `end`), -3 (non-zero padding): STRING_PROBLEM[-answer]. Sets
 * strEnd (the NUL's position), strHash (FNV-1a of the bytes) and strAscii.
 */
function scanString(bytes: Uint8Array, pos: number, end: number): number {
  let h = FNV_OFFSET_BASIS;
  let ascii = true;
  let i = pos;
  for (; i < end; i++) {
    const c = bytes[i] as number;
    if (c === 0) break;
    if (c >= 0x80) ascii = false;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  if (i === end) return -1;
  strEnd = i;
  strHash = h;
  strAscii = ascii;
  const padded = pos + ((i - pos) & ~3) + 4;
  if (padded > end) return -2;
  for (let k = i + 1; k < padded; k++) if (bytes[k] !== 0) return -3;
  return padded;
}

/**
 * readInterned's limit (utf8.ts's INTERN_MAX_BYTES): a string argument up to this long goes through
 * the intern table. A local copy on purpose: read through the import, it measurably slowed the
 * decode of short messages (V8 loads an imported binding from its module cell at each use).
 */
const INTERN_MAX_BYTES = 64;

/**
 * lo_validate_string, for the liblo report (libloreport.ts): {@link scanString}'s answer. Not on
 * the decoder's path, which calls scanString itself.
 */
export function validateString(bytes: Uint8Array, pos: number, end: number): number {
  return scanString(bytes, pos, end);
}

const STRING_PROBLEM = ['', 'is not NUL-terminated', 'padding runs past the end', 'has non-zero padding'];

// parseHeader's results besides the position it returns, read right after each call (module
// state, as the scanner's: returning an object would allocate one per message). A header the cache
// knows is read from its Header instead, without passing through these.
let parsedPath = '';
let parsedTypetags = '';
/** Where the typetags' ',' is, and their NUL. */
let parsedTagStart = 0;
let parsedTagEnd = 0;
/** Whether every typetag is 'i', 'f' or 'd'. */
let parsedNumeric = false;

/**
 * Reads a message's path and typetag string, the first time they are seen (or again, when the
 * header cache does not keep them), checking them as lo_message_deserialise does. Returns where
 * the arguments start; sets parsedPath, parsedTypetags, parsedTagStart and parsedTagEnd.
 */
function parseHeader(bytes: Uint8Array, start: number, end: number, set: number): number {
  let pos = scanString(bytes, start, end);
  if (pos < 0) fail('ERR_OSC_INVALID_PATH', start, `address ${STRING_PROBLEM[-pos]}`);
  const path = readInterned(bytes, start, strEnd, strHash, strAscii);
  if (pos >= end) fail('ERR_OSC_NO_TYPETAGS', pos, 'no typetag string');
  const tagStart = pos;
  pos = scanString(bytes, tagStart, end);
  if (pos < 0) fail('ERR_OSC_INVALID_TYPETAGS', tagStart, `typetag string ${STRING_PROBLEM[-pos]}`);
  if (bytes[tagStart] !== 0x2c) fail('ERR_OSC_MISSING_COMMA', tagStart, 'typetag string does not start with ","');
  const tagEnd = strEnd;
  const typetags = tagEnd - tagStart > 1 ? readInterned(bytes, tagStart + 1, tagEnd, strHash, strAscii) : '';
  let numeric = true;
  for (let t = tagStart + 1; t < tagEnd && numeric; t++) {
    const tag = bytes[t];
    numeric = tag === 0x69 || tag === 0x66 || tag === 0x64; // i f d
  }
  rememberHeader(set, bytes, start, pos, path, typetags, tagStart - start, tagEnd - start, numeric);
  parsedNumeric = numeric;
  parsedPath = path;
  parsedTypetags = typetags;
  parsedTagStart = tagStart;
  parsedTagEnd = tagEnd;
  return pos;
}

function decodeMessage(bytes: Uint8Array, start: number, end: number): Message {
  if (start === end) fail('ERR_OSC_EMPTY_PACKET', start, 'empty bundle element');
  // the header: the path and the typetags, from the cache of recurring headers or parsed
  let pos: number;
  let path: string;
  let typetags: string;
  let tagStart: number;
  let tagEnd: number;
  let numeric: boolean;
  const set = headerSet(bytes, start, end);
  const known = knownHeader(set, bytes, start, end);
  if (known !== undefined) {
    ({ path, typetags, numeric } = known);
    tagStart = start + known.tagStart;
    tagEnd = start + known.tagEnd;
    pos = start + known.words.length * 4;
  } else {
    pos = parseHeader(bytes, start, end, set);
    path = parsedPath;
    typetags = parsedTypetags;
    tagStart = parsedTagStart;
    tagEnd = parsedTagEnd;
    numeric = parsedNumeric;
  }

  if (numeric) return createMessage(path, typetags, decodeNumbers(bytes, pos, end, tagStart, tagEnd));
  let args: OscArg[] = [];
  let stack: OscArg[][] | undefined;
  for (let t = tagStart + 1; t < tagEnd; t++) {
    const tag = bytes[t] as number;
    const left = end - pos;
    switch (tag) {
      case 0x69: // i
        if (left < 4) short(pos, 'i', 4, left);
        args.push(readInt32(bytes, pos));
        pos += 4;
        break;
      case 0x66: // f, and the f's that follow: runs of floats are common, and the switch is not free
        for (;;) {
          if (end - pos < 4) short(pos, 'f', 4, end - pos);
          args.push(readFloat32(bytes, pos));
          pos += 4;
          if (bytes[t + 1] !== 0x66) break; // the typetags end with a NUL, so this stops in them
          t++;
        }
        break;
      case 0x73: // s
      case 0x53: {
        // S
        const next = scanString(bytes, pos, end);
        // short strings recur (names, states, symbols) and go through the intern table; a longer
        // one rarely does, and is decoded at once rather than first compared with a cached one
        if (next < 0) fail('ERR_OSC_INVALID_ARGUMENT', pos, `string argument ${STRING_PROBLEM[-next]}`);
        const s =
          strEnd - pos <= INTERN_MAX_BYTES
            ? readInterned(bytes, pos, strEnd, strHash, strAscii)
            : readUtf8(bytes, pos, strEnd);
        args.push(tag === 0x73 ? s : new OscSymbol(s));
        pos = next;
        break;
      }
      case 0x62: {
        // b
        if (left < 4) short(pos, 'b', 4, left);
        const n = readUint32(bytes, pos);
        const padded = 4 + n + ((4 - (n & 3)) & 3);
        if (n > left - 4 || padded > left) {
          fail('ERR_OSC_INVALID_ARGUMENT', pos, `blob of ${n} bytes overruns the ${left - 4} bytes left`);
        }
        for (let k = pos + 4 + n; k < pos + padded; k++) {
          if (bytes[k] !== 0) fail('ERR_OSC_INVALID_ARGUMENT', k, 'blob has non-zero padding');
        }
        // a view into the packet, not a copy: blobs are the bulk of big packets
        args.push(new Uint8Array(bytes.buffer, bytes.byteOffset + pos + 4, n));
        pos += padded;
        break;
      }
      case 0x68: // h
        if (left < 8) short(pos, 'h', 8, left);
        args.push(readInt64(bytes, pos));
        pos += 8;
        break;
      case 0x64: // d
        if (left < 8) short(pos, 'd', 8, left);
        args.push(readFloat64(bytes, pos));
        pos += 8;
        break;
      case 0x74: // t
        if (left < 8) short(pos, 't', 8, left);
        args.push(new TimeTag(readUint32(bytes, pos), readUint32(bytes, pos + 4)));
        pos += 8;
        break;
      case 0x63: // c: liblo reads the int32's low byte
        if (left < 4) short(pos, 'c', 4, left);
        args.push(new Char(bytes[pos + 3] as number));
        pos += 4;
        break;
      case 0x6d: // m
        if (left < 4) short(pos, 'm', 4, left);
        args.push(
          new Midi(bytes[pos] as number, bytes[pos + 1] as number, bytes[pos + 2] as number, bytes[pos + 3] as number),
        );
        pos += 4;
        break;
      case 0x54: // T
        args.push(true);
        break;
      case 0x46: // F
        args.push(false);
        break;
      case 0x4e: // N
        args.push(null);
        break;
      case 0x49: // I
        args.push(INFINITUM);
        break;
      case 0x72: // r
        if (!extended) unknownTag(t, tag);
        if (left < 4) short(pos, 'r', 4, left);
        args.push(
          new Rgba(bytes[pos] as number, bytes[pos + 1] as number, bytes[pos + 2] as number, bytes[pos + 3] as number),
        );
        pos += 4;
        break;
      case 0x5b: // [
        if (!extended) unknownTag(t, tag);
        if (stack === undefined) stack = [];
        stack.push(args);
        args = [];
        break;
      case 0x5d: {
        // ]
        if (!extended) unknownTag(t, tag);
        const outer = stack?.pop();
        if (outer === undefined) fail('ERR_OSC_INVALID_TYPETAGS', t, '"]" without a matching "["');
        outer.push(args);
        args = outer;
        break;
      }
      default:
        unknownTag(t, tag);
    }
  }
  if (stack !== undefined && stack.length > 0) fail('ERR_OSC_INVALID_TYPETAGS', tagEnd, '"[" without a matching "]"');
  if (pos !== end) fail('ERR_OSC_TRAILING_BYTES', pos, `${end - pos} byte(s) after the last argument`);
  return createMessage(path, typetags, args);
}

/**
 * The arguments of a message whose typetags are all 'i', 'f' or 'd' (as its header's parse found).
 * A function and an array literal of their own, on purpose. V8 makes a literal's new arrays ready
 * for the kind of elements earlier arrays of the same literal came to hold: after a message with a
 * string, even an array of floats would hold them boxed, one allocation each. And a function's
 * optimised code is made for what its calls have seen: in the general loop, floats pushed into
 * arrays of both kinds, after a stream of other messages, decoded at half the speed (the 16-float
 * case after the 4096-path one, in the benchmark's process). Here, only numbers into arrays of
 * numbers, whatever else the stream carries.
 */
function decodeNumbers(bytes: Uint8Array, start: number, end: number, tagStart: number, tagEnd: number): number[] {
  // A few numbers (the common case: a value or a coordinate) go into an array literal of their
  // exact size; an empty array that is pushed to gets room for 17 on the first push.
  cursor = start;
  const t = tagStart + 1;
  let args: number[];
  switch (tagEnd - t) {
    case 1:
      args = [readNumber(bytes, t, end)];
      break;
    case 2:
      args = [readNumber(bytes, t, end), readNumber(bytes, t + 1, end)];
      break;
    case 3:
      args = [readNumber(bytes, t, end), readNumber(bytes, t + 1, end), readNumber(bytes, t + 2, end)];
      break;
    case 4:
      args = [
        readNumber(bytes, t, end),
        readNumber(bytes, t + 1, end),
        readNumber(bytes, t + 2, end),
        readNumber(bytes, t + 3, end),
      ];
      break;
    default:
      return decodeManyNumbers(bytes, start, end, tagStart, tagEnd);
  }
  if (cursor !== end) fail('ERR_OSC_TRAILING_BYTES', cursor, `${end - cursor} byte(s) after the last argument`);
  return args;
}

/** Where {@link readNumber} reads next (module state, as the string scanner's results). */
let cursor = 0;

/** The number typetag `t` ('i', 'f' or 'd') holds at `cursor`; moves `cursor` past it. */
function readNumber(bytes: Uint8Array, t: number, end: number): number {
  const pos = cursor;
  const tag = bytes[t];
  if (tag === 0x66) {
    if (end - pos < 4) short(pos, 'f', 4, end - pos);
    cursor = pos + 4;
    return readFloat32(bytes, pos);
  }
  if (tag === 0x69) {
    if (end - pos < 4) short(pos, 'i', 4, end - pos);
    cursor = pos + 4;
    return readInt32(bytes, pos);
  }
  if (end - pos < 8) short(pos, 'd', 8, end - pos);
  cursor = pos + 8;
  return readFloat64(bytes, pos);
}

/**
 * {@link decodeNumbers} for more than four. Its run of floats repeats the general loop's on
 * purpose: one function for both would share the type feedback this path is here to keep apart,
 * and {@link readNumber} a value at a time decoded the 16 floats 4-8% slower.
 */
function decodeManyNumbers(bytes: Uint8Array, start: number, end: number, tagStart: number, tagEnd: number): number[] {
  const args: number[] = [];
  let pos = start;
  for (let t = tagStart + 1; t < tagEnd; t++) {
    const tag = bytes[t] as number;
    if (tag === 0x66) {
      // f, and the f's that follow: runs of floats are common
      for (;;) {
        if (end - pos < 4) short(pos, 'f', 4, end - pos);
        args.push(readFloat32(bytes, pos));
        pos += 4;
        if (bytes[t + 1] !== 0x66) break; // the typetags end with a NUL, so this stops in them
        t++;
      }
    } else if (tag === 0x69) {
      if (end - pos < 4) short(pos, 'i', 4, end - pos);
      args.push(readInt32(bytes, pos));
      pos += 4;
    } else {
      // d (numeric means i, f or d)
      if (end - pos < 8) short(pos, 'd', 8, end - pos);
      args.push(readFloat64(bytes, pos));
      pos += 8;
    }
  }
  if (pos !== end) fail('ERR_OSC_TRAILING_BYTES', pos, `${end - pos} byte(s) after the last argument`);
  return args;
}

function short(pos: number, tag: string, need: number, left: number): never {
  fail('ERR_OSC_INVALID_ARGUMENT', pos, `'${tag}' argument needs ${need} bytes, ${left} left`);
}

function unknownTag(at: number, tag: number): never {
  const shown = tag >= 0x20 && tag < 0x7f ? `'${String.fromCharCode(tag)}'` : `byte 0x${tag.toString(16)}`;
  fail('ERR_OSC_UNKNOWN_TYPETAG', at, `unsupported typetag ${shown}`);
}

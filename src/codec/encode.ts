import { PUBLIC_PACKETS, type Slab } from './alloc.js';
import { Bundle, type BundleElement } from './bundle.js';
import { paddedStringSize, writeFloat32, writeFloat64, writeInt32, writeInt64 } from './bytes.js';
import { OscEncodeError } from './errors.js';
import { checkArg, checkPath, countError, Message } from './message.js';
import type { TimeTag } from './timetag.js';
import { typespecString } from './typespec.js';
import { utf8Length, writeUtf8 } from './utf8.js';
import type { Char, Midi, OscSymbol, Rgba } from './values.js';

// Two passes over a packet: the first validates every argument and sums sizes (remembering string
// byte lengths in `lens`), the second writes into one exactly-sized buffer. The encoder is not
// re-entrant (nothing in it calls out), so module-level scratch state is safe.
const lens: number[] = [];
let lensUsed = 0;
let lensRead = 0;
// Where the last sizeOfArgs/writeArgs call stopped in the typetags (its closing ']' or the end).
let tagEnd = 0;

// Paths and typetag strings recur from packet to packet: keep their padded bytes.
const CACHE_LIMIT = 512;
const pathCache = new Map<string, Uint8Array>();
const tagCache = new Map<string, Uint8Array>();

const BUNDLE_HEADER = Uint8Array.of(0x23, 0x62, 0x75, 0x6e, 0x64, 0x6c, 0x65, 0); // "#bundle\0"
// Bundle.add refuses cycles; this only stops a hand-made cycle from overflowing the stack.
const MAX_NESTING = 1024;

function paddedBytes(s: string, prefix: string, cache: Map<string, Uint8Array>): Uint8Array {
  let bytes = cache.get(s);
  if (bytes === undefined) {
    const text = prefix + s;
    const n = utf8Length(text);
    bytes = new Uint8Array(paddedStringSize(n));
    writeUtf8(bytes, 0, text, n);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(s, bytes);
  }
  return bytes;
}

// A path is cached from its second sighting (a direct-mapped table of paths seen once): a stream of
// one-off paths then costs a scan or two per packet, not an allocation and a cache that churns.
const SEEN_SLOTS = 1024; // a power of two, so a slot is `hash & (SEEN_SLOTS - 1)`
const seenPaths: (string | undefined)[] = new Array<string | undefined>(SEEN_SLOTS).fill(undefined);

/**
 * The slot of a path among seenPaths: a hash of three things read in constant time, its length,
 * its last and its middle character (paths of one namespace share their beginning, so the first
 * characters would tell them apart least). 31 and 7 are small odd multipliers that spread the
 * characters over the slots; a collision only costs a path one more sighting before it is cached.
 */
function seenSlot(path: string): number {
  const n = path.length;
  return (n + 31 * path.charCodeAt(n - 1) + 7 * path.charCodeAt(n >> 1)) & (SEEN_SLOTS - 1);
}

/** The size pass's part for a path: its padded size, after checking it; caches it if it recurs. */
function sizeOfPath(path: string): number {
  const cached = pathCache.get(path);
  if (cached !== undefined) return cached.length;
  checkPath(path);
  const slot = seenSlot(path);
  if (seenPaths[slot] === path) return paddedBytes(path, '', pathCache).length;
  seenPaths[slot] = path;
  return paddedStringSize(utf8Length(path));
}

// (the cache may have been cleared since the size pass: a path not in it is written from the string)
function writePath(out: Uint8Array, pos: number, path: string): number {
  const cached = pathCache.get(path);
  if (cached !== undefined) {
    out.set(cached, pos);
    return pos + cached.length;
  }
  return writePadded(out, pos, path, utf8Length(path));
}

/**
 * Encodes a message or bundle into a new `Uint8Array` of exactly its size. Packets up to 8 KiB are
 * views into a shared 64 KiB slab, as small Buffers are in Node: the bytes are the packet's own, but
 * its `.buffer` is the slab's. Keeping a packet keeps its slab; transferring its `.buffer` detaches
 * the other packets of the slab (`.slice()` first).
 */
export function encode(packet: Message | Bundle): Uint8Array {
  return encodeFrom(PUBLIC_PACKETS, packet);
}

/** @internal {@link encode} into a given slab (aiolo's sends use one of their own). */
export function encodeFrom(slab: Slab, packet: Message | Bundle): Uint8Array {
  lensUsed = 0;
  const size = sizeOfElement(packet, 0);
  const out = slab.alloc(size);
  lensRead = 0;
  writeElement(packet, out, 0);
  return out;
}

/**
 * Encodes a message straight from its parts, without building a {@link Message} first: the path
 * Address takes when it sends. `typetags` (without the comma) must come from a typespec
 * `typespecString` accepted; the arguments are checked against them. The result is as
 * {@link encode}'s.
 */
export function encodeMessage(path: string, typetags: string, args: readonly unknown[]): Uint8Array {
  return encodeMessageFrom(PUBLIC_PACKETS, path, typetags, args);
}

/** @internal {@link encodeMessage} into a given slab. */
export function encodeMessageFrom(slab: Slab, path: string, typetags: string, args: readonly unknown[]): Uint8Array {
  lensUsed = 0;
  const size = sizeOfMessage(path, typetags, args);
  const out = slab.alloc(size);
  lensRead = 0;
  writeMessage(path, typetags, args, out, 0);
  return out;
}

/**
 * Encodes into `out` at `offset` (for framing: a length prefix or headroom before the packet).
 * Returns the offset after the packet; throws {@link OscEncodeError} `ERR_OSC_BUFFER_TOO_SMALL`
 * if `out` is too small.
 */
export function encodeInto(packet: Message | Bundle, out: Uint8Array, offset = 0): number {
  lensUsed = 0;
  const size = sizeOfElement(packet, 0);
  if (offset < 0 || offset + size > out.length) {
    throw new OscEncodeError(
      'ERR_OSC_BUFFER_TOO_SMALL',
      `encodeInto needs ${size} bytes at offset ${offset}; the buffer has ${out.length}`,
    );
  }
  lensRead = 0;
  return writeElement(packet, out, offset);
}

/** The number of bytes {@link encode} would produce (and the same validation). */
export function encodedSize(packet: Message | Bundle): number {
  lensUsed = 0;
  return sizeOfElement(packet, 0);
}

function sizeOfElement(packet: BundleElement, depth: number): number {
  if (packet instanceof Message) return sizeOfMessage(packet.path, packet.typetags, packet.args);
  if (packet instanceof Bundle) {
    if (depth >= MAX_NESTING) {
      throw new OscEncodeError('ERR_OSC_BUNDLE_CYCLE', `bundles nested deeper than ${MAX_NESTING} (a cycle?)`);
    }
    let size = 16;
    for (const e of packet.elements) size += 4 + sizeOfElement(e, depth + 1);
    return size;
  }
  throw new OscEncodeError('ERR_OSC_INVALID_VALUE', 'only a Message or a Bundle can be encoded', { value: packet });
}

function sizeOfMessage(path: string, tags: string, args: readonly unknown[]): number {
  return sizeOfPath(path) + paddedBytes(tags, ',', tagCache).length + sizeOfArgs(tags, 0, args, false);
}

// Returns the arguments' byte size and sets tagEnd; validates as it goes.
function sizeOfArgs(tags: string, start: number, args: readonly unknown[], nested: boolean): number {
  let size = 0;
  let t = start;
  let a = 0;
  for (; t < tags.length; t++) {
    const tag = tags.charCodeAt(t);
    if (tag === 0x5d /* ] */) {
      if (nested) break;
      typespecString(tags); // unbalanced: throws
    }
    if (a >= args.length) throw countError(tags, args);
    const value = args[a];
    switch (tag) {
      case 0x69: // i
      case 0x66: // f
        if (typeof value !== 'number' || (tag === 0x69 && (value | 0) !== value)) checkArg(tags[t] as string, value, a);
        size += 4;
        break;
      case 0x63: // c
      case 0x6d: // m
      case 0x72: // r
        checkArg(tags[t] as string, value, a);
        size += 4;
        break;
      case 0x68: // h
      case 0x64: // d
      case 0x74: // t
        checkArg(tags[t] as string, value, a);
        size += 8;
        break;
      case 0x73: // s
      case 0x53: {
        // S
        checkArg(tags[t] as string, value, a);
        const n = utf8Length(tag === 0x73 ? (value as string) : (value as OscSymbol).value);
        lens[lensUsed++] = n;
        size += paddedStringSize(n);
        break;
      }
      case 0x62: // b
        checkArg('b', value, a);
        size += 4 + (((value as Uint8Array).length + 3) & ~3);
        break;
      case 0x54: // T
      case 0x46: // F
      case 0x4e: // N
      case 0x49: // I
        checkArg(tags[t] as string, value, a);
        break;
      case 0x5b: {
        // [
        if (!Array.isArray(value)) checkArg('[', value, a);
        size += sizeOfArgs(tags, t + 1, value as unknown[], true);
        t = tagEnd;
        if (t >= tags.length) typespecString(tags); // unbalanced: throws
        break;
      }
      default:
        typespecString(tags); // names the unknown typetag
        checkArg(tags[t] as string, value, a);
    }
    a++;
  }
  if (a !== args.length) throw countError(tags, args);
  tagEnd = t;
  return size;
}

function writeElement(packet: BundleElement, out: Uint8Array, pos: number): number {
  if (packet instanceof Message) return writeMessage(packet.path, packet.typetags, packet.args, out, pos);
  const bundle = packet as Bundle;
  out.set(BUNDLE_HEADER, pos);
  writeTimeTag(out, pos + 8, bundle.timetag);
  let p = pos + 16;
  for (const e of bundle.elements) {
    const start = p + 4;
    p = writeElement(e, out, start);
    writeInt32(out, start - 4, p - start);
  }
  return p;
}

function writeMessage(path: string, tags: string, args: readonly unknown[], out: Uint8Array, pos: number): number {
  let p = writePath(out, pos, path);
  const tb = paddedBytes(tags, ',', tagCache);
  out.set(tb, p);
  p += tb.length;
  return writeArgs(tags, 0, args, out, p);
}

// A string argument: its byte length was recorded by the size pass.
function writeString(out: Uint8Array, p: number, s: string): number {
  return writePadded(out, p, s, lens[lensRead++] as number);
}

/** Writes `s` (`n` UTF-8 bytes), NUL-terminated and zero-padded to 4; returns the end. */
function writePadded(out: Uint8Array, p: number, s: string, n: number): number {
  const end = writeUtf8(out, p, s, n);
  const padded = p + paddedStringSize(n);
  for (let i = end; i < padded; i++) out[i] = 0;
  return padded;
}

function writeTimeTag(out: Uint8Array, p: number, tt: TimeTag): void {
  writeInt32(out, p, tt.seconds);
  writeInt32(out, p + 4, tt.fraction);
}

// Returns the position after the arguments and sets tagEnd.
function writeArgs(tags: string, start: number, args: readonly unknown[], out: Uint8Array, pos: number): number {
  let p = pos;
  let t = start;
  let a = 0;
  for (; t < tags.length; t++) {
    const tag = tags.charCodeAt(t);
    if (tag === 0x5d) break;
    const value = args[a++];
    switch (tag) {
      case 0x69: // i
        writeInt32(out, p, typeof value === 'bigint' ? Number(value) : (value as number));
        p += 4;
        break;
      case 0x66: // f
        writeFloat32(out, p, value as number);
        p += 4;
        break;
      case 0x64: // d
        writeFloat64(out, p, value as number);
        p += 8;
        break;
      case 0x68: // h
        writeInt64(out, p, typeof value === 'bigint' ? value : BigInt(value as number));
        p += 8;
        break;
      case 0x73: // s
        p = writeString(out, p, value as string);
        break;
      case 0x53: // S
        p = writeString(out, p, (value as OscSymbol).value);
        break;
      case 0x62: {
        // b
        const blob = value as Uint8Array;
        writeInt32(out, p, blob.length);
        out.set(blob, p + 4);
        const end = p + 4 + blob.length;
        p += 4 + ((blob.length + 3) & ~3);
        for (let i = end; i < p; i++) out[i] = 0;
        break;
      }
      case 0x63: // c: int32 whose low byte is the char
        writeInt32(out, p, (value as Char).code);
        p += 4;
        break;
      case 0x6d: {
        // m
        const m = value as Midi;
        out[p] = m.port;
        out[p + 1] = m.status;
        out[p + 2] = m.data1;
        out[p + 3] = m.data2;
        p += 4;
        break;
      }
      case 0x72: {
        // r
        const c = value as Rgba;
        out[p] = c.r;
        out[p + 1] = c.g;
        out[p + 2] = c.b;
        out[p + 3] = c.a;
        p += 4;
        break;
      }
      case 0x74: // t
        writeTimeTag(out, p, value as TimeTag);
        p += 8;
        break;
      case 0x5b: {
        // [
        p = writeArgs(tags, t + 1, value as unknown[], out, p);
        t = tagEnd;
        break;
      }
      // T F N I carry no data
    }
  }
  tagEnd = t;
  return p;
}

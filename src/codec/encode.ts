import { PUBLIC_PACKETS, SLAB_MAX_PACKET, type Slab } from './alloc.js';
import { Bundle, type BundleElement } from './bundle.js';
import { paddedStringSize, readInt32 } from './bytes.js';
import { OscEncodeError } from './errors.js';
import { checkArg, checkPath, countError, Message } from './message.js';
import { typespecString } from './typespec.js';
import { utf8Length, writeUtf8 } from './utf8.js';
import type { Char, Midi, OscSymbol, Rgba } from './values.js';

// One pass: a packet is validated and written at once, straight into the free part of a slab, and
// taken from it (as a view of exactly its size) when it is done. A size pass first would do every
// lookup and check twice, which cost small messages about half their time. Room is checked as the
// packet grows (see `spare`); a packet that outgrows the room left in the slab is written again in
// a fresh slab, and one larger than SLAB_MAX_PACKET is sized first and written into a buffer of its
// own. An argument that does not fit throws part-way, leaving bytes past the slab's packets that
// no packet owns: every byte of a packet, padding included, is written explicitly.
//
// Words are written through a DataView, which stores a big-endian int32 or float in one operation
// (V8 compiles it to a store and a byte swap): for 16 floats, about a third less time than four
// byte stores each into a Uint8Array. The encoder is not re-entrant (nothing in it calls out), so its target and the
// other scratch state below are module-level.

/** Where the packet is written: the same memory as bytes and as a DataView, from the same origin. */
let out: Uint8Array = PUBLIC_PACKETS.bytes;
let view: DataView = PUBLIC_PACKETS.view;
/** The first position the packet may not reach. */
let limit = 0;
/**
 * The room left past the part of the current message already reserved: a message reserves its
 * path, its typetags and the least its arguments take (see Plan.min) before it writes them, and a
 * string or blob, which takes more than its least, draws the rest from here. Negative: no room.
 */
let spare = 0;
// Where the last writeArgs/sizeOfArgs call stopped in the typetags (its closing ']' or the end).
let tagEnd = 0;

/**
 * The last encodeInto() target and its DataView (so that buffer stays referenced until the next
 * one): a caller usually encodes into the same buffer again, and a DataView per call would be an
 * allocation per packet.
 */
let intoBytes: Uint8Array | undefined;
let intoView: DataView = view;

// Paths and typetag strings recur from packet to packet: keep their padded bytes, as big-endian
// int32 words (a path of up to 15 bytes is 4 stores).
const CACHE_LIMIT = 512;

/** What a typetag string says before any argument is looked at. */
class Plan {
  constructor(
    /** ',' and the typetags, padded, as big-endian words. */
    readonly words: Int32Array,
    /**
     * The least the message takes past its path: the typetags, the arguments of fixed size, and the
     * least a string (4 bytes) or blob (its size word) takes. Only reserves room; an invalid typetag
     * counts 0 and is reported when its argument is written.
     */
    readonly min: number,
  ) {}
}

/** A cached path: its padded bytes, and the plan of the typetags it was last sent with. */
class PathEntry {
  constructor(
    readonly path: string,
    readonly words: Int32Array,
    public tags: string,
    public plan: Plan,
  ) {}
}

const pathCache = new Map<string, PathEntry>();
const planCache = new Map<string, Plan>();

const BUNDLE_WORD_0 = 0x2362756e; // "#bun"
const BUNDLE_WORD_1 = 0x646c6500; // "dle\0"
/** "#bundle\0" and a timetag. */
const BUNDLE_HEADER_SIZE = 16;
// Bundle.add refuses cycles; this only stops a hand-made cycle from overflowing the stack.
const MAX_NESTING = 1024;
/** A JS loop writes a short ASCII string faster than TextEncoder's call; see utf8.ts. */
const JS_LOOP_MAX_WRITE = 64;

/** `text` as UTF-8, NUL-terminated and zero-padded to 4 bytes, as big-endian words. */
function wordsOf(text: string): Int32Array {
  const n = utf8Length(text);
  const bytes = new Uint8Array(paddedStringSize(n));
  writeUtf8(bytes, 0, text, n);
  const words = new Int32Array(bytes.length / 4);
  for (let k = 0; k < words.length; k++) words[k] = readInt32(bytes, 4 * k);
  return words;
}

/** The least size in bytes of each typetag's argument (see Plan.min), by char code. */
const MIN_SIZE = new Uint8Array(128);
for (const tag of 'ifcmrsSb') MIN_SIZE[tag.charCodeAt(0)] = 4;
for (const tag of 'hdt') MIN_SIZE[tag.charCodeAt(0)] = 8;

function planFor(tags: string): Plan {
  let plan = planCache.get(tags);
  if (plan === undefined) {
    const words = wordsOf(`,${tags}`);
    let min = words.length * 4;
    for (let t = 0; t < tags.length; t++) min += MIN_SIZE[tags.charCodeAt(t)] ?? 0;
    plan = new Plan(words, min);
    if (planCache.size >= CACHE_LIMIT) planCache.clear();
    planCache.set(tags, plan);
  }
  return plan;
}

// A path is cached from its second sighting (a direct-mapped table of paths seen once): a stream of
// one-off paths then costs a scan or two per packet, not an allocation and a cache that churns.
const SEEN_SLOTS = 1024; // a power of two, so a slot is `hash & (SEEN_SLOTS - 1)`
const seenPaths: (string | undefined)[] = new Array<string | undefined>(SEEN_SLOTS).fill(undefined);
/**
 * The cached paths by the same slots, last found first: a path is found here by a hash of three
 * characters and a comparison, cheaper than the Map's lookup, which only a collision falls back to.
 */
const recentPaths: (PathEntry | undefined)[] = new Array<PathEntry | undefined>(SEEN_SLOTS).fill(undefined);

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

/** The cache entry of a path not cached yet (of seenSlot `slot`), after checking it: made on its second sighting. */
function cachePath(path: string, tags: string, slot: number): PathEntry | undefined {
  checkPath(path);
  if (seenPaths[slot] !== path) {
    seenPaths[slot] = path;
    return undefined;
  }
  const entry = new PathEntry(path, wordsOf(path), tags, planFor(tags));
  if (pathCache.size >= CACHE_LIMIT) pathCache.clear();
  pathCache.set(path, entry);
  return entry;
}

function target(bytes: Uint8Array, dataView: DataView, end: number): void {
  out = bytes;
  view = dataView;
  limit = end;
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
  const start = slab.start();
  target(slab.bytes, slab.view, slab.limit(start));
  const end = writeElement(packet, start, 0);
  if (end >= 0) return slab.take(start, end);
  if (freshSlab(slab, start)) {
    const again = writeElement(packet, 0, 0);
    if (again >= 0) return slab.take(0, again);
  }
  const own = ownBuffer(sizeOfElement(packet, 0));
  writeElement(packet, 0, 0);
  return own;
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
  const start = slab.start();
  target(slab.bytes, slab.view, slab.limit(start));
  const end = writeMessage(path, typetags, args, start);
  if (end >= 0) return slab.take(start, end);
  if (freshSlab(slab, start)) {
    const again = writeMessage(path, typetags, args, 0);
    if (again >= 0) return slab.take(0, again);
  }
  const own = ownBuffer(sizeOfMessage(path, typetags, args));
  writeMessage(path, typetags, args, 0);
  return own;
}

/**
 * After a packet ran out of room at `start`: targets a fresh slab and returns true if the slab's
 * end was what stopped it; false if the packet is larger than a slab takes.
 */
function freshSlab(slab: Slab, start: number): boolean {
  if (start === 0 || slab.limit(start) === start + SLAB_MAX_PACKET) return false;
  slab.renew();
  target(slab.bytes, slab.view, slab.limit(0));
  return true;
}

/** A buffer of exactly `size` bytes, targeted: the home of a packet larger than a slab takes. */
function ownBuffer(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  target(bytes, new DataView(bytes.buffer), size);
  return bytes;
}

/**
 * Encodes into `out` at `offset` (for framing: a length prefix or headroom before the packet).
 * Returns the offset after the packet; throws {@link OscEncodeError} `ERR_OSC_BUFFER_TOO_SMALL`
 * if `out` is too small. Whatever it throws, bytes of `out` from `offset` on may have been written.
 */
export function encodeInto(packet: Message | Bundle, out: Uint8Array, offset = 0): number {
  if (intoBytes !== out) {
    intoBytes = out;
    intoView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }
  // one pass, as encode's: written up to the buffer's end, and sized only if it did not fit
  if (offset >= 0 && offset <= out.length) {
    target(out, intoView, out.length);
    const end = writeElement(packet, offset, 0);
    if (end >= 0) return end;
  }
  const size = sizeOfElement(packet, 0); // (it throws first if an argument past the room is wrong)
  throw new OscEncodeError(
    'ERR_OSC_BUFFER_TOO_SMALL',
    `encodeInto needs ${size} bytes at offset ${offset}; the buffer has ${out.length}`,
  );
}

/** The number of bytes {@link encode} would produce (and the same validation). */
export function encodedSize(packet: Message | Bundle): number {
  return sizeOfElement(packet, 0);
}

// Writing. Each function returns the position after what it wrote, or -1 when the packet ran out
// of room (the caller then starts over elsewhere); validation errors throw.

function writeElement(packet: BundleElement, p: number, depth: number): number {
  if (packet instanceof Message) return writeMessage(packet.path, packet.typetags, packet.args, p);
  if (packet instanceof Bundle) return writeBundle(packet, p, depth);
  throw notAPacket(packet);
}

function notAPacket(value: unknown): OscEncodeError {
  return new OscEncodeError('ERR_OSC_INVALID_VALUE', 'only a Message or a Bundle can be encoded', { value });
}

function tooDeep(): OscEncodeError {
  return new OscEncodeError('ERR_OSC_BUNDLE_CYCLE', `bundles nested deeper than ${MAX_NESTING} (a cycle?)`);
}

function writeBundle(bundle: Bundle, pos: number, depth: number): number {
  if (depth >= MAX_NESTING) throw tooDeep();
  if (pos + BUNDLE_HEADER_SIZE > limit) return -1;
  const v = view;
  v.setInt32(pos, BUNDLE_WORD_0);
  v.setInt32(pos + 4, BUNDLE_WORD_1);
  v.setUint32(pos + 8, bundle.timetag.seconds);
  v.setUint32(pos + 12, bundle.timetag.fraction);
  let p = pos + BUNDLE_HEADER_SIZE;
  const elements = bundle.elements;
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i];
    const start = p + 4; // after the element's size
    if (e instanceof Message) p = writeMessage(e.path, e.typetags, e.args, start);
    else if (e instanceof Bundle) p = writeBundle(e, start, depth + 1);
    else throw notAPacket(e);
    if (p < 0) return -1;
    view.setInt32(start - 4, p - start);
  }
  return p;
}

function writeMessage(path: string, tags: string, args: readonly unknown[], pos: number): number {
  let p = pos;
  let plan: Plan;
  if (typeof path !== 'string') checkPath(path); // throws; seenSlot reads characters
  const slot = seenSlot(path);
  let entry = recentPaths[slot];
  if (entry === undefined || entry.path !== path) {
    entry = pathCache.get(path) ?? cachePath(path, tags, slot);
    if (entry !== undefined) recentPaths[slot] = entry;
  }
  if (entry !== undefined) {
    if (entry.tags !== tags) {
      entry.plan = planFor(tags);
      entry.tags = tags;
    }
    plan = entry.plan;
    const words = entry.words;
    spare = limit - (p + words.length * 4 + plan.min);
    if (spare < 0) return -1;
    const v = view;
    for (let k = 0; k < words.length; k++) v.setInt32(p + 4 * k, words[k] as number);
    p += words.length * 4;
  } else {
    // a path seen for the first time (checked by cachePath)
    plan = planFor(tags);
    const n = utf8Length(path);
    spare = limit - (p + paddedStringSize(n) + plan.min);
    if (spare < 0) return -1;
    p = writePadded(p, path, n);
  }
  const words = plan.words;
  const v = view;
  for (let k = 0; k < words.length; k++) v.setInt32(p + 4 * k, words[k] as number);
  return writeArgs(tags, 0, args, p + words.length * 4, false);
}

/** Writes `s` (`n` UTF-8 bytes, room checked), NUL-terminated and zero-padded to 4; returns the end. */
function writePadded(p: number, s: string, n: number): number {
  const end = p + paddedStringSize(n);
  // the last word first: the string's bytes then overwrite what of it they cover, and the rest is
  // its NUL and padding
  view.setInt32(end - 4, 0);
  writeUtf8(out, p, s, n);
  return end;
}

/**
 * The string of argument `index` (an 's' checked to be a string, or an 'S' checked whole); returns
 * the end, or -1 for no room.
 */
function writeString(p: number, s: string, index: number): number {
  const n = s.length;
  if (n >= JS_LOOP_MAX_WRITE) return writeLongString(p, s, index);
  // as ASCII, which it most likely is: its size is then its length, and UTF-8 is never shorter
  const end = p + (n & ~3) + 4;
  if (end - p - 4 > spare) return -1;
  view.setInt32(end - 4, 0); // the NUL and padding; the string's last bytes overwrite part of it
  const bytes = out;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // NUL (refused) or beyond ASCII: c - 1 wraps to 0xffffffff for 0, and is >= 0x7f from 0x80 on
    if ((c - 1) >>> 0 >= 0x7f) return writeLongString(p, s, index);
    bytes[p + i] = c;
  }
  spare -= end - p - 4;
  return end;
}

/** A string with NULs (refused), non-ASCII characters or too long for the loop. */
function writeLongString(p: number, s: string, index: number): number {
  // (an 'S' argument's string has no NUL: it was checked whole before)
  if (s.includes('\0')) checkArg('s', s, index);
  const n = utf8Length(s);
  const size = paddedStringSize(n);
  if (size - 4 > spare) return -1;
  spare -= size - 4;
  return writePadded(p, s, n);
}

// Returns the position after the arguments (or -1) and sets tagEnd; validates as it goes, in the
// order sizeOfArgs does, so both report the same first error.
function writeArgs(tags: string, start: number, args: readonly unknown[], pos: number, nested: boolean): number {
  let p = pos;
  let t = start;
  let a = 0;
  const v = view;
  for (; t < tags.length; t++) {
    const tag = tags.charCodeAt(t);
    if (tag === 0x5d /* ] */) {
      if (nested) break;
      typespecString(tags); // unbalanced: throws
    }
    if (a >= args.length) throw countError(tags, args);
    let value = args[a];
    switch (tag) {
      case 0x69: // i
        if (typeof value !== 'number' || (value | 0) !== value) checkArg('i', value, a);
        v.setInt32(p, typeof value === 'bigint' ? Number(value) : (value as number));
        p += 4;
        break;
      case 0x66: // f, and the f's that follow: runs of floats are common, and the switch is not free
        for (;;) {
          if (typeof value !== 'number') checkArg('f', value, a);
          v.setFloat32(p, value as number);
          p += 4;
          // (bounds first: a charCodeAt past the end, NaN, made V8 leave its optimized code and
          // run the float loop generically ever after; 16 floats encoded at 4.2 M/s, not 7)
          if (t + 1 >= tags.length || tags.charCodeAt(t + 1) !== 0x66) break;
          t++;
          a++;
          if (a >= args.length) throw countError(tags, args);
          value = args[a];
        }
        break;
      case 0x64: // d
        if (typeof value !== 'number') checkArg('d', value, a);
        v.setFloat64(p, value as number);
        p += 8;
        break;
      case 0x68: // h
        checkArg('h', value, a);
        v.setBigInt64(p, typeof value === 'bigint' ? value : BigInt(value as number));
        p += 8;
        break;
      case 0x73: // s
        if (typeof value !== 'string') checkArg('s', value, a);
        p = writeString(p, value as string, a);
        if (p < 0) return -1;
        break;
      case 0x53: // S
        checkArg('S', value, a);
        p = writeString(p, (value as OscSymbol).value, a);
        if (p < 0) return -1;
        break;
      case 0x62: {
        // b
        checkArg('b', value, a);
        const blob = value as Uint8Array;
        const n = blob.length;
        const padded = (n + 3) & ~3;
        if (padded > spare) return -1;
        spare -= padded;
        v.setInt32(p, n);
        if (padded > n) v.setInt32(p + padded, 0); // the padding (the blob overwrites what it covers)
        out.set(blob, p + 4);
        p += 4 + padded;
        break;
      }
      case 0x63: // c: int32 whose low byte is the char
        checkArg('c', value, a);
        v.setInt32(p, (value as Char).code);
        p += 4;
        break;
      case 0x6d: {
        // m
        checkArg('m', value, a);
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
        checkArg('r', value, a);
        const c = value as Rgba;
        out[p] = c.r;
        out[p + 1] = c.g;
        out[p + 2] = c.b;
        out[p + 3] = c.a;
        p += 4;
        break;
      }
      case 0x74: {
        // t
        checkArg('t', value, a);
        const tt = value as { seconds: number; fraction: number };
        v.setUint32(p, tt.seconds);
        v.setUint32(p + 4, tt.fraction);
        p += 8;
        break;
      }
      case 0x54: // T
      case 0x46: // F
      case 0x4e: // N
      case 0x49: // I: no data
        checkArg(tags[t] as string, value, a);
        break;
      case 0x5b: // [
        if (!Array.isArray(value)) checkArg('[', value, a);
        p = writeArgs(tags, t + 1, value as unknown[], p, true);
        if (p < 0) return -1;
        t = tagEnd;
        if (t >= tags.length) typespecString(tags); // unbalanced: throws
        break;
      default:
        typespecString(tags); // names the unknown typetag
        checkArg(tags[t] as string, value, a);
    }
    a++;
  }
  if (a !== args.length) throw countError(tags, args);
  tagEnd = t;
  return p;
}

// Sizing, for what must know the size first: encodedSize, encodeInto and packets larger than a
// slab takes. It validates as writing does, in the same order.

function sizeOfElement(packet: BundleElement, depth: number): number {
  if (packet instanceof Message) return sizeOfMessage(packet.path, packet.typetags, packet.args);
  if (packet instanceof Bundle) {
    if (depth >= MAX_NESTING) throw tooDeep();
    let size = BUNDLE_HEADER_SIZE;
    for (const e of packet.elements) size += 4 + sizeOfElement(e, depth + 1);
    return size;
  }
  throw notAPacket(packet);
}

function sizeOfMessage(path: string, tags: string, args: readonly unknown[]): number {
  const cached = pathCache.get(path);
  let size: number;
  if (cached !== undefined) {
    size = cached.words.length * 4;
  } else {
    checkPath(path);
    size = paddedStringSize(utf8Length(path));
  }
  return size + planFor(tags).words.length * 4 + sizeOfArgs(tags, 0, args, false);
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
      case 0x53: // S
        checkArg(tags[t] as string, value, a);
        size += paddedStringSize(utf8Length(tag === 0x73 ? (value as string) : (value as OscSymbol).value));
        break;
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
      case 0x5b: // [
        if (!Array.isArray(value)) checkArg('[', value, a);
        size += sizeOfArgs(tags, t + 1, value as unknown[], true);
        t = tagEnd;
        if (t >= tags.length) typespecString(tags); // unbalanced: throws
        break;
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

import { readInt32 } from './bytes.js';

// Streams repeat a few headers (the path and the typetags, padded). Recognising one by its bytes, a
// word at a time, skips scanning, hashing and comparing both strings. Identical bytes parse
// identically, so every check of the full parse holds for a header found here.
//
// 256 sets of two entries. The set comes from the first three words, so that paths sharing 8 bytes
// ("/synth/1") still spread; an 8-byte header is not kept, as its third word is an argument's. A
// header is kept the second time its set sees it (among its set's last two misses): a stream of
// thousands of distinct paths, which would only churn the sets, then costs a comparison or two per
// message and no allocation.

export class Header {
  constructor(
    /** The header's bytes as big-endian int32 words. */
    readonly words: Int32Array,
    readonly path: string,
    readonly typetags: string,
    /** Offsets from the message's start: the typetags' ',' and their NUL. */
    readonly tagStart: number,
    readonly tagEnd: number,
    /** Whether every typetag is 'i', 'f' or 'd' (the decoder's arrays differ; see decode.ts). */
    readonly numeric: boolean,
  ) {}
}

/** 256 sets: the top 8 bits of the hash (`>>> 24`); 512 entries in all, a few KiB. */
const SETS = 256;
/** The three words the set is computed from. */
const MIN_BYTES = 12;
/** Longer headers are rare, and comparing them word by word would cost what scanning does. */
const MAX_BYTES = 128;
// Multiplicative hashing: 0x9e3779b1 is 2^32 / φ (Knuth's golden-ratio constant), which mixes the
// second and third words before they meet the first; 0x85ebca6b is MurmurHash3's 32-bit finaliser
// multiplier, which carries the low bits' differences up into the top 8 bits the set is taken from.
const GOLDEN = 0x9e3779b1;
const MIX = 0x85ebca6b;
/** 32-bit FNV-1a's prime: the signature of a header, a word at a time. */
const FNV_PRIME = 0x01000193;
const entries: (Header | undefined)[] = new Array<Header | undefined>(2 * SETS).fill(undefined);
/** Per set, signatures of the last two headers that missed it: one seen again is kept. */
const candidates = new Int32Array(2 * SETS);

/**
 * The set a message's header belongs to, from the message's first three words; -1 for a message
 * under 12 bytes. The decoder computes it once and hands it to {@link knownHeader} and
 * {@link rememberHeader}.
 */
export function headerSet(bytes: Uint8Array, start: number, end: number): number {
  if (end - start < MIN_BYTES) return -1;
  const h = readInt32(bytes, start) ^ Math.imul(readInt32(bytes, start + 4) ^ readInt32(bytes, start + 8), GOLDEN);
  return Math.imul(h, MIX) >>> 24;
}

function matches(header: Header | undefined, bytes: Uint8Array, start: number, end: number): header is Header {
  if (header === undefined) return false;
  const words = header.words;
  if (words.length * 4 > end - start) return false;
  for (let k = 0; k < words.length; k++) if (readInt32(bytes, start + 4 * k) !== words[k]) return false;
  return true;
}

/** The remembered header that the message at `start`, of set `set`, begins with, if any. */
export function knownHeader(set: number, bytes: Uint8Array, start: number, end: number): Header | undefined {
  if (set < 0) return undefined;
  const first = entries[2 * set];
  if (matches(first, bytes, start, end)) return first;
  const second = entries[2 * set + 1];
  return matches(second, bytes, start, end) ? second : undefined;
}

/** Offers a header the full parse accepted, `pos - start` bytes long, to be remembered. */
export function rememberHeader(
  set: number,
  bytes: Uint8Array,
  start: number,
  pos: number,
  path: string,
  typetags: string,
  tagStart: number,
  tagEnd: number,
  numeric: boolean,
): void {
  const size = pos - start;
  if (set < 0 || size < MIN_BYTES || size > MAX_BYTES) return;
  let signature = size;
  for (let at = start; at < pos; at += 4) signature = Math.imul(signature ^ readInt32(bytes, at), FNV_PRIME);
  if (candidates[2 * set] !== signature && candidates[2 * set + 1] !== signature) {
    candidates[2 * set + 1] = candidates[2 * set] as number;
    candidates[2 * set] = signature;
    return;
  }
  const words = new Int32Array(size / 4);
  for (let k = 0; k < words.length; k++) words[k] = readInt32(bytes, start + 4 * k);
  entries[2 * set + 1] = entries[2 * set];
  entries[2 * set] = new Header(words, path, typetags, tagStart, tagEnd, numeric);
}

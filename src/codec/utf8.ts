// UTF-8 helpers tuned for OSC's short, mostly-ASCII strings: a JS loop beats TextEncoder's call
// overhead below a few dozen bytes, and the decoder interns recurring strings without allocating.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

// Below these lengths (ASCII only) a JS loop over the characters beats a call into TextEncoder /
// TextDecoder, whose fixed cost is worth a few dozen bytes of loop. Reading builds its string a
// character at a time (`s +=`), which grows slower with length than writing bytes does (V8 makes a
// rope of it past 12 characters), so the loop pays for itself only up to a shorter length.
const JS_LOOP_MAX_WRITE = 64;
const JS_LOOP_MAX_READ = 24;

/** UTF-8 byte length of `s`, counting lone surrogates as U+FFFD (3 bytes) as TextEncoder does. */
export function utf8Length(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: 2 code units, 4 bytes
        i++;
      } else {
        bytes += 2;
      }
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/** Writes `s` at `pos`; `byteLength` is its UTF-8 length. Returns the position after it. */
export function writeUtf8(out: Uint8Array, pos: number, s: string, byteLength: number): number {
  const n = s.length;
  if (byteLength === n && n < JS_LOOP_MAX_WRITE) {
    for (let i = 0; i < n; i++) out[pos + i] = s.charCodeAt(i);
  } else {
    encoder.encodeInto(s, out.subarray(pos, pos + byteLength));
  }
  return pos + byteLength;
}

/** Returns bytes [start, end) as a string (invalid UTF-8 becomes U+FFFD). */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n < JS_LOOP_MAX_READ) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = bytes[i] as number;
      if (c >= 0x80) return decoder.decode(bytes.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(bytes.subarray(start, end));
}

// A direct-mapped cache of recently decoded ASCII strings (paths, typetags, short arguments), so
// that a stream of messages to the same address decodes its path without allocating a string.
// 1024 slots: more than the distinct paths and typetags of a typical stream, for a few KiB.
const INTERN_SLOTS = 1024;
/**
 * Strings up to this many bytes are interned: paths, typetags and short arguments (names, states)
 * recur; longer strings rarely do, and would cost a comparison before the decode.
 */
export const INTERN_MAX_BYTES = 64;
const internTable: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);

/**
 * Like {@link readUtf8}, with `hash` an FNV-1a hash of the bytes computed by the caller's scan.
 * Strings up to {@link INTERN_MAX_BYTES} ASCII bytes are interned.
 */
export function readInterned(bytes: Uint8Array, start: number, end: number, hash: number, ascii: boolean): string {
  const n = end - start;
  if (!ascii || n > INTERN_MAX_BYTES)
    return ascii ? readAscii(bytes, start, end) : decoder.decode(bytes.subarray(start, end));
  const slot = hash & (INTERN_SLOTS - 1);
  const cached = internTable[slot];
  if (cached !== undefined && cached.length === n) {
    let i = 0;
    while (i < n && cached.charCodeAt(i) === bytes[start + i]) i++;
    if (i === n) return cached;
  }
  const s = readAscii(bytes, start, end);
  internTable[slot] = s;
  return s;
}

// One call to String.fromCharCode makes a flat string; appending char by char makes V8 build a
// rope once past 12 characters, slower to read back (and interned strings are compared often).
// The codes go in an array kept for each length: setting an array's length is itself slow.
const codesOfLength: number[][] = Array.from({ length: INTERN_MAX_BYTES + 1 }, (_, n) => new Array<number>(n).fill(0));

function readAscii(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > INTERN_MAX_BYTES) return decoder.decode(bytes.subarray(start, end));
  const codes = codesOfLength[n] as number[];
  for (let i = 0; i < n; i++) codes[i] = bytes[start + i] as number;
  return String.fromCharCode.apply(null, codes);
}

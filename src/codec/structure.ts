// The structural rules of an OSC packet as liblo 0.31 checks them (lo_validate_string,
// lo_validate_bundle), shared by the decoder and by the liblo report (libloreport.ts). Small
// functions on the decoder's hot path: V8 inlines them.
import { readUint32 } from './bytes.js';

/** A bundle starts with the 8 bytes "#bundle\0", then an 8-byte timetag, then its elements. */
export const BUNDLE_TAG_BYTES = 8;
export const BUNDLE_HEADER_BYTES = 16;

/** Whether the bytes [start, end) begin with "#bundle\0". */
export function isBundle(bytes: Uint8Array, start: number, end: number): boolean {
  return (
    end - start >= BUNDLE_TAG_BYTES &&
    bytes[start] === 0x23 && // #
    bytes[start + 1] === 0x62 && // b
    bytes[start + 2] === 0x75 &&
    bytes[start + 3] === 0x6e &&
    bytes[start + 4] === 0x64 &&
    bytes[start + 5] === 0x6c &&
    bytes[start + 6] === 0x65 &&
    bytes[start + 7] === 0
  );
}

/** {@link paddedEnd}'s answers besides a position: what is wrong with the string. */
export const NO_NUL = -1;
export const PAST_END = -2;
export const BAD_PADDING = -3;

/**
 * The second half of lo_validate_string: the string at `start` has its NUL at `nul`; returns its
 * padded end (a multiple of 4 bytes from `start`), or {@link PAST_END} when the padding runs past
 * `end`, {@link BAD_PADDING} when a padding byte is not zero.
 */
export function paddedEnd(bytes: Uint8Array, start: number, nul: number, end: number): number {
  const padded = start + ((nul - start) & ~3) + 4;
  if (padded > end) return PAST_END;
  for (let k = nul + 1; k < padded; k++) if (bytes[k] !== 0) return BAD_PADDING;
  return padded;
}

/**
 * lo_validate_bundle's size check, made before any element is looked at: the elements (each an
 * int32 size, then that many bytes) from `first` must tile the bundle up to `end`. Returns -1 when
 * they do, else where they stop doing so: a size that overruns the bundle (4 or more bytes left
 * there), or stray bytes after the last element (fewer).
 */
export function bundleTilingProblem(bytes: Uint8Array, first: number, end: number): number {
  let pos = first;
  while (end - pos >= 4) {
    const size = readUint32(bytes, pos);
    if (size > end - pos - 4) return pos;
    pos += 4 + size;
  }
  return pos === end ? -1 : pos;
}

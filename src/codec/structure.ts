// The structure of a bundle as liblo 0.31 checks it (lo_validate_bundle), shared by the decoder and
// by the liblo report (libloreport.ts). (Strings: decode.ts's validateString.)
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

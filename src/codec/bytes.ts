// Scratch views for converting floats and int64s without a DataView per packet. OSC is big-endian;
// the host almost always is not, so each read/write copies bytes in the order `BIG` says.

const scratch = new ArrayBuffer(8);
export const f32 = new Float32Array(scratch);
export const f64 = new Float64Array(scratch);
export const i64 = new BigInt64Array(scratch);
export const u8 = new Uint8Array(scratch);
const BIG = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/** Copies `n` scratch bytes to `out[pos..]` in network order. */
export function scratchOut(out: Uint8Array, pos: number, n: 4 | 8): void {
  if (BIG) {
    for (let i = 0; i < n; i++) out[pos + i] = u8[i] as number;
  } else {
    for (let i = 0; i < n; i++) out[pos + i] = u8[n - 1 - i] as number;
  }
}

/** Copies `n` bytes in network order from `bytes[pos..]` into scratch. */
export function scratchIn(bytes: Uint8Array, pos: number, n: 4 | 8): void {
  if (BIG) {
    for (let i = 0; i < n; i++) u8[i] = bytes[pos + i] as number;
  } else {
    for (let i = 0; i < n; i++) u8[n - 1 - i] = bytes[pos + i] as number;
  }
}

export function writeInt32(out: Uint8Array, pos: number, v: number): void {
  out[pos] = v >>> 24;
  out[pos + 1] = v >>> 16;
  out[pos + 2] = v >>> 8;
  out[pos + 3] = v;
}

export function readInt32(bytes: Uint8Array, pos: number): number {
  return (
    ((bytes[pos] as number) << 24) |
    ((bytes[pos + 1] as number) << 16) |
    ((bytes[pos + 2] as number) << 8) |
    (bytes[pos + 3] as number)
  );
}

export function readUint32(bytes: Uint8Array, pos: number): number {
  return readInt32(bytes, pos) >>> 0;
}

/** Size of a string of `byteLength` UTF-8 bytes on the wire: NUL-terminated, padded to 4. */
export function paddedStringSize(byteLength: number): number {
  return (byteLength & ~3) + 4;
}

// Reading. (The encoder writes through a DataView over its slab: see encode.ts.) Floats and int64s
// go through one scratch word seen as several typed arrays. OSC is big-endian; moving whole 32-bit
// integers through `i32` (rather than bytes through a Uint8Array) leaves byte order to readInt32,
// so only which half of a 64-bit value comes first depends on the host — and it is about twice as
// fast as copying bytes, or as a DataView per packet.
const scratch = new ArrayBuffer(8);
const f32 = new Float32Array(scratch);
const f64 = new Float64Array(scratch);
const i64 = new BigInt64Array(scratch);
const i32 = new Int32Array(scratch);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE ? 1 : 0;
const LO = LITTLE ? 0 : 1;

export function readFloat32(bytes: Uint8Array, pos: number): number {
  i32[0] = readInt32(bytes, pos);
  const value = f32[0] as number;
  return Number.isNaN(value) ? Number.NaN : value; // (see readFloat64)
}

function read64(bytes: Uint8Array, pos: number): void {
  i32[HI] = readInt32(bytes, pos);
  i32[LO] = readInt32(bytes, pos + 4);
}

// Every NaN decodes as JavaScript's own NaN, its payload bits dropped. V8 keeps numbers in an array
// of doubles when it can, and quiets or replaces a NaN stored there depending on which of its tiers
// runs the store: left as they came, the same bytes decoded to doubles of different bits (and
// re-encoded differently) depending on how warm the decoder was. The fuzz test found it.
export function readFloat64(bytes: Uint8Array, pos: number): number {
  read64(bytes, pos);
  const value = f64[0] as number;
  return Number.isNaN(value) ? Number.NaN : value;
}

export function readInt64(bytes: Uint8Array, pos: number): bigint {
  read64(bytes, pos);
  return i64[0] as bigint;
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

// Packets are carved from shared slabs, as Node's Buffer.allocUnsafe does from its pool: a fresh
// ArrayBuffer costs about a microsecond once it is larger than V8's on-heap limit (64 bytes), far
// more than encoding a small message. Slabs are never reused, so a packet's bytes are its own and
// start zeroed; bigger packets get an ArrayBuffer of their own.
//
// A caller that transfers a packet's `.buffer` detaches every packet of its slab. So what aiolo
// sends and what it receives come from slabs of their own, never from the slab of `encode()`'s
// results: a user's transfer can spoil only the user's own packets, never one aiolo has queued.

const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_PACKET = 8 * 1024;

export class Slab {
  #buffer = new ArrayBuffer(SLAB_SIZE);
  #used = 0;

  /** A zero-filled `Uint8Array` of `size` bytes, a view into this slab when it fits. */
  alloc(size: number): Uint8Array {
    if (size > SLAB_MAX_PACKET) return new Uint8Array(size);
    // a slab whose ArrayBuffer a caller transferred away reads as detached: length 0
    if (this.#used + size > SLAB_SIZE || this.#buffer.byteLength === 0) {
      this.#buffer = new ArrayBuffer(SLAB_SIZE);
      this.#used = 0;
    }
    const out = new Uint8Array(this.#buffer, this.#used, size);
    this.#used = (this.#used + size + 7) & ~7; // 8-byte aligned, so a caller's Float64Array view fits
    return out;
  }
}

/** Where `encode()` and the other public encoders put their results. */
export const PUBLIC_PACKETS = new Slab();
/** Where aiolo's own sends are encoded and framed. */
export const SENDING = new Slab();
/** Where received frames that must be copied (SLIP, frames split across reads) go. */
export const RECEIVED = new Slab();

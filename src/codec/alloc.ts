// Packets are carved from shared slabs, as Node's Buffer.allocUnsafe does from its pool: a fresh
// ArrayBuffer costs microseconds once it is larger than V8's on-heap limit (64 bytes; 2.6-3.0 us for
// 1 KiB on a 2-core VM, most of it V8's main thread waiting for its array-buffer sweeper), far more
// than encoding a small message. Slabs are never reused, so a packet's bytes are its own;
// bigger packets get an ArrayBuffer of their own.
//
// The encoder writes a packet straight into the slab past the packets already taken, then takes
// it (see encode.ts): an encode that throws or runs out of room part-way leaves bytes there that no
// packet owns yet. So nothing may count on a slab's free bytes being zero: every packet's bytes,
// padding included, are written explicitly by whoever takes them.
//
// A caller that transfers a packet's `.buffer` detaches every packet of its slab. So what aiolo
// sends and what it receives come from slabs of their own, never from the slab of `encode()`'s
// results: a user's transfer can spoil only the user's own packets, never one aiolo has queued.

const SLAB_SIZE = 64 * 1024;
/** Larger packets get a buffer of their own: one would otherwise use up an eighth of a slab or more. */
export const SLAB_MAX_PACKET = 8 * 1024;

export class Slab {
  #buffer = new ArrayBuffer(SLAB_SIZE);
  #used = 0;
  /** @internal The whole slab as bytes, for the encoder to write a packet into before taking it. */
  bytes = new Uint8Array(this.#buffer);
  /** @internal The whole slab as a DataView (big-endian words in one store each). */
  view = new DataView(this.#buffer);

  /** A `Uint8Array` of `size` bytes, a view into this slab when it fits; the caller writes every byte. */
  alloc(size: number): Uint8Array {
    if (size > SLAB_MAX_PACKET) return new Uint8Array(size);
    if (this.#used + size > SLAB_SIZE || this.#buffer.byteLength === 0) this.renew();
    return this.take(this.#used, this.#used + size);
  }

  /** @internal Where a packet written now starts (in a fresh slab if this one was transferred away). */
  start(): number {
    // a slab whose ArrayBuffer a caller transferred away reads as detached: length 0
    if (this.#buffer.byteLength === 0) this.renew();
    return this.#used;
  }

  /** @internal How far a packet starting at `start` may reach: SLAB_MAX_PACKET bytes, or the slab's end. */
  limit(start: number): number {
    return Math.min(SLAB_SIZE, start + SLAB_MAX_PACKET);
  }

  /** @internal Starts a fresh slab; what was taken from the old one stays the packets'. */
  renew(): void {
    this.#buffer = new ArrayBuffer(SLAB_SIZE);
    this.bytes = new Uint8Array(this.#buffer);
    this.view = new DataView(this.#buffer);
    this.#used = 0;
  }

  /** @internal Bytes [start, end) of the slab, written by the caller, as a packet of their own. */
  take(start: number, end: number): Uint8Array {
    const out = new Uint8Array(this.#buffer, start, end - start);
    this.#used = (end + 7) & ~7; // 8-byte aligned, so a caller's Float64Array view fits
    return out;
  }
}

/** Where `encode()` and the other public encoders put their results. */
export const PUBLIC_PACKETS = new Slab();
/** Where aiolo's own sends are encoded and framed. */
export const SENDING = new Slab();
/** Where received frames that must be copied (SLIP, frames split across reads) go. */
export const RECEIVED = new Slab();

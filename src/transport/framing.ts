import { RECEIVED, SENDING } from '../codec/alloc.js';
import { readInt32 } from '../codec/bytes.js';
import { OscError } from '../codec/errors.js';

// Stream framing for OSC over TCP: OSC 1.0's int32 big-endian length prefix (liblo's default) and
// OSC 1.1's SLIP (RFC 1055). Decoders take chunks as they arrive and hand out whole frames one at a
// time, so a reader can stop between frames (backpressure) and carry on later.

export const END = 0xc0;
export const ESC = 0xdb;
export const ESC_END = 0xdc;
export const ESC_ESC = 0xdd;

export type Framing = 'length' | 'slip';

/** A frame decoder's answer: a frame, nothing yet, or the stream is broken (close it). */
export type FrameResult = Uint8Array | undefined | FramingError;

/**
 * Why a connection's framing broke: a frame over the limit, one cut short by the peer's FIN, or
 * (WebSocket) a text frame where OSC goes in binary frames.
 */
export type FramingErrorCode = 'ERR_OSC_FRAME_TOO_LARGE' | 'ERR_OSC_TRUNCATED' | 'ERR_OSC_TEXT_FRAME';

/**
 * The stream cannot go on: a frame announced or grown past the limit (`size` is its size), or the
 * peer ended the stream in the middle of a frame (`size` is the bytes of it that arrived). A decoder
 * returns it rather than throwing (the reader decides what to do); made only when a stream breaks.
 */
export class FramingError extends OscError {
  override readonly name = 'FramingError';
  declare readonly code: FramingErrorCode;
  readonly size: number;
  constructor(size: number, code: FramingErrorCode = 'ERR_OSC_FRAME_TOO_LARGE') {
    super(
      code,
      code === 'ERR_OSC_TRUNCATED'
        ? `the stream ended ${size} byte(s) into a frame`
        : code === 'ERR_OSC_TEXT_FRAME'
          ? `a text frame of ${size} bytes: OSC goes in binary frames`
          : `a frame of ${size} bytes is over the limit`,
    );
    this.size = size;
  }
}

export interface FrameDecoder {
  readonly framing: Framing;
  push(chunk: Uint8Array): void;
  next(): FrameResult;
  /** Bytes held that are not yet part of a complete frame. */
  readonly buffered: number;
}

/**
 * Which framing a peer speaks, from the first byte of its stream. A SLIP stream starts with END or
 * with a packet ('/' for a message, '#' for a bundle); a length prefix starting with any of those
 * bytes would announce a frame of at least 587 MB. Unlike liblo 0.31's four-byte guess, this also
 * recognises SLIP streams that begin with END then a bundle. A SLIP stream that begins with anything
 * else (a garbage frame, a path without '/') cannot be told from a length prefix by its first bytes:
 * it is taken for one. SLIP senders that open with END (osc.js, CNMAT's SLIPEncoded*, aiolo's own
 * first frame: `slipEncode`) are always recognised.
 */
export function detectFraming(firstByte: number): Framing {
  return firstByte === END || firstByte === 0x2f || firstByte === 0x23 ? 'slip' : 'length';
}

const NO_BYTES = new Uint8Array(0);
/** The first allocation for a partial frame: a small message fits, and doubling starts from here. */
const PART_MIN = 64;
/** A SLIP frame buffer grown past this is handed out with its frame, not kept for the next one. */
const SLIP_KEEP_MAX = 8 * 1024;

export class LengthPrefixDecoder implements FrameDecoder {
  readonly framing = 'length' as const;
  readonly #maxFrame: number;
  // Reads not yet looked at, the first from #offset on. Whole frames inside a read are handed out as
  // views of it, made with the Uint8Array constructor: Buffer's subarray goes through JavaScript and
  // cost more than decoding the frame.
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #size = 0;
  // The start of a frame not complete yet (its prefix included), copied out of the reads that
  // brought it. Keeping those reads instead would keep a Buffer per read, hundreds of bytes each
  // however few bytes it holds: a peer sending a byte at a time would cost ~360 bytes per byte.
  // Grown by doubling and never past the frame's size, it is at most twice the bytes it holds.
  #part: Uint8Array = NO_BYTES;
  #partLength = 0;

  constructor(maxFrame: number) {
    this.#maxFrame = maxFrame;
  }

  get buffered(): number {
    return this.#size + this.#partLength;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  next(): FrameResult {
    for (;;) {
      if (this.#partLength > 0) {
        if (this.#partLength < 4) this.#keep(4);
        if (this.#partLength < 4) return undefined;
        const n = readInt32(this.#part, 0) >>> 0;
        if (n > this.#maxFrame) return new FramingError(n);
        this.#keep(4 + n);
        if (this.#partLength < 4 + n) return undefined;
        const part = this.#part;
        this.#part = NO_BYTES;
        this.#partLength = 0;
        // liblo 0.31 stalls a connection on an empty frame; skip it
        if (n === 0) continue;
        return new Uint8Array(part.buffer, part.byteOffset + 4, n);
      }
      if (this.#size < 4) break;
      const n = this.#peek4() >>> 0;
      if (n > this.#maxFrame) return new FramingError(n);
      if (this.#size < 4 + n) break;
      this.#skip(4);
      if (n === 0) continue;
      return this.#take(n);
    }
    // an incomplete frame: its bytes leave the reads that brought them
    if (this.#size > 0) this.#keep(this.#size >= 4 ? 4 + (this.#peek4() >>> 0) : 4);
    return undefined;
  }

  /** Moves bytes from the reads into the partial frame, until it holds `upTo` bytes or the reads run out. */
  #keep(upTo: number): void {
    const m = Math.min(upTo - this.#partLength, this.#size);
    if (m <= 0) return;
    const need = this.#partLength + m;
    if (need > this.#part.length) {
      const grown = new Uint8Array(Math.min(upTo, Math.max(need, this.#part.length * 2, PART_MIN)));
      grown.set(this.#part.subarray(0, this.#partLength));
      this.#part = grown;
    }
    let left = m;
    while (left > 0) {
      const c = this.#chunks[0] as Uint8Array;
      const k = Math.min(c.length - this.#offset, left);
      this.#part.set(c.subarray(this.#offset, this.#offset + k), this.#partLength);
      this.#partLength += k;
      left -= k;
      this.#skip(k);
    }
  }

  #peek4(): number {
    const first = this.#chunks[0] as Uint8Array;
    if (first.length - this.#offset >= 4) return readInt32(first, this.#offset);
    let v = 0;
    let got = 0;
    for (let k = 0; got < 4; k++) {
      const c = this.#chunks[k] as Uint8Array;
      for (let i = k === 0 ? this.#offset : 0; i < c.length && got < 4; i++, got++) v = (v << 8) | (c[i] as number);
    }
    return v;
  }

  #skip(n: number): void {
    this.#size -= n;
    let left = n;
    while (left > 0) {
      const available = (this.#chunks[0] as Uint8Array).length - this.#offset;
      if (available > left) {
        this.#offset += left;
        return;
      }
      left -= available;
      this.#chunks.shift();
      this.#offset = 0;
    }
  }

  // The next n bytes: a view when they sit in one chunk, one copy otherwise.
  #take(n: number): Uint8Array {
    const first = this.#chunks[0] as Uint8Array;
    let out: Uint8Array;
    if (first.length - this.#offset >= n) {
      out = new Uint8Array(first.buffer, first.byteOffset + this.#offset, n);
    } else {
      out = RECEIVED.alloc(n);
      let filled = 0;
      for (let k = 0; filled < n; k++) {
        const c = this.#chunks[k] as Uint8Array;
        const from = k === 0 ? this.#offset : 0;
        const m = Math.min(c.length - from, n - filled);
        out.set(c.subarray(from, from + m), filled);
        filled += m;
      }
    }
    this.#skip(n);
    return out;
  }
}

export class SlipDecoder implements FrameDecoder {
  readonly framing = 'slip' as const;
  readonly #maxFrame: number;
  readonly #resync: boolean;
  #chunks: Uint8Array[] = [];
  #offset = 0; // read position in chunks[0]
  #frame: Uint8Array;
  #length = 0;
  #escaped = false;
  /** (resync) The bytes up to the next END belong to a frame over the limit: they are dropped. */
  #skipping = false;
  #size = 0;

  /**
   * With `resync`, a frame over `maxFrame` is reported (a `FramingError`) and its bytes dropped up
   * to the next END, after which decoding goes on: a serial line has no connection to close, and a
   * board that resets or babbles must not end the stream. Without it (TCP), the stream is broken.
   */
  constructor(maxFrame: number, options: { readonly resync?: boolean } = {}) {
    this.#maxFrame = maxFrame;
    this.#resync = options.resync ?? false;
    this.#frame = new Uint8Array(Math.min(1024, maxFrame + 1));
  }

  get buffered(): number {
    return this.#size + this.#length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  next(): FrameResult {
    while (this.#chunks.length > 0) {
      const c = this.#chunks[0] as Uint8Array;
      let i = this.#offset;
      for (; i < c.length; i++) {
        const b = c[i] as number;
        if (b === END) {
          this.#consumed(c, i + 1);
          if (this.#skipping) {
            this.#skipping = false;
            break; // the end of the oversized frame: what follows is read again
          }
          const n = this.#length;
          this.#length = 0;
          this.#escaped = false;
          if (n === 0) break; // double END: an empty packet, skipped
          if (n > SLIP_KEEP_MAX) {
            // a large frame takes its buffer along: a connection does not keep a big one after it
            const out = this.#frame.subarray(0, n);
            this.#frame = new Uint8Array(Math.min(1024, this.#maxFrame + 1));
            return out;
          }
          const out = RECEIVED.alloc(n);
          out.set(this.#frame.subarray(0, n));
          return out;
        }
        if (this.#skipping) continue;
        let v = b;
        if (this.#escaped) {
          this.#escaped = false;
          // RFC 1055: an ESC before anything else is a protocol violation; keep the byte as sent
          v = b === ESC_END ? END : b === ESC_ESC ? ESC : b;
        } else if (b === ESC) {
          this.#escaped = true;
          continue;
        }
        if (this.#length >= this.#maxFrame) {
          this.#consumed(c, i + 1);
          const size = this.#length + 1;
          if (this.#resync) {
            this.#skipping = true;
            this.#length = 0;
            // the buffer grown for it is not kept either
            if (this.#frame.length > SLIP_KEEP_MAX) this.#frame = new Uint8Array(Math.min(1024, this.#maxFrame + 1));
          }
          return new FramingError(size);
        }
        if (this.#length === this.#frame.length) {
          const grown = new Uint8Array(Math.min(this.#frame.length * 2, this.#maxFrame + 1));
          grown.set(this.#frame);
          this.#frame = grown;
        }
        this.#frame[this.#length++] = v;
      }
      if (i >= c.length) this.#consumed(c, c.length);
    }
    return undefined;
  }

  #consumed(chunk: Uint8Array, upTo: number): void {
    this.#size -= upTo - this.#offset;
    if (upTo >= chunk.length) {
      this.#chunks.shift();
      this.#offset = 0;
    } else {
      this.#offset = upTo;
    }
  }
}

/**
 * SLIP-encodes one packet the way liblo 0.31 does: escapes, then a single END after it.
 *
 * With `opening` (the first frame written on a connection) an END also goes before it, as RFC 1055
 * advises and as double-END senders do, so that a receiver which detects SLIP from the first byte
 * (aiolo) or resynchronises on END recognises the stream whatever the packet starts with — except
 * before a bundle: liblo 0.31's detector takes `C0 '#bun'` for a length prefix and never delivers the
 * stream, while it recognises `'#bun'` at the start, and `C0 '/'` wherever it recognises `'/'`
 * (its test: `C0 '/' p p`, `'/' p p p` or `"#bun"`, p printable or NUL).
 * After the first frame no END is needed: the previous frame's END has delimited it.
 */
export function slipEncode(packet: Uint8Array, opening = false): Uint8Array {
  return encodeSlip(packet, opening && !startsWithBun(packet));
}

/**
 * SLIP-encodes one packet as CNMAT's OSC library for Arduino (`SLIPEncodedSerial`) does: END, the
 * escaped packet, END — an END before and after every packet, whatever it starts with. A receiver
 * that joins mid-stream, or a board that reset in the middle of a frame, is back in step at the
 * next END. (For serial lines; TCP keeps {@link slipEncode}, which liblo 0.31 reads.)
 */
export function slipEncodeDoubleEnd(packet: Uint8Array): Uint8Array {
  return encodeSlip(packet, true);
}

function encodeSlip(packet: Uint8Array, leadingEnd: boolean): Uint8Array {
  const lead = leadingEnd ? 1 : 0;
  let n = lead + packet.length + 1;
  for (let i = 0; i < packet.length; i++) {
    const b = packet[i];
    if (b === END || b === ESC) n++;
  }
  const out = SENDING.alloc(n);
  let o = 0;
  if (lead) out[o++] = END;
  for (let i = 0; i < packet.length; i++) {
    const b = packet[i] as number;
    if (b === END) {
      out[o++] = ESC;
      out[o++] = ESC_END;
    } else if (b === ESC) {
      out[o++] = ESC;
      out[o++] = ESC_ESC;
    } else {
      out[o++] = b;
    }
  }
  out[o] = END;
  return out;
}

/** Whether a packet begins with "#bun", the bytes liblo 0.31 recognises a SLIP bundle by. */
function startsWithBun(packet: Uint8Array): boolean {
  return packet[0] === 0x23 && packet[1] === 0x62 && packet[2] === 0x75 && packet[3] === 0x6e;
}

/** The OSC 1.0 stream frame: int32 big-endian length, then the packet. */
export function lengthPrefix(packet: Uint8Array): Uint8Array {
  const out = SENDING.alloc(4 + packet.length);
  const n = packet.length;
  out[0] = n >>> 24;
  out[1] = n >>> 16;
  out[2] = n >>> 8;
  out[3] = n;
  out.set(packet, 4);
  return out;
}

export function decoderFor(
  framing: Framing,
  maxFrame: number,
  options: { readonly resync?: boolean } = {},
): FrameDecoder {
  return framing === 'slip' ? new SlipDecoder(maxFrame, options) : new LengthPrefixDecoder(maxFrame);
}

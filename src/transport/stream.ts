import type { Socket } from 'node:net';
import { SendError } from './errors.js';
import {
  decoderFor,
  detectFraming,
  type FrameDecoder,
  type Framing,
  FramingError,
  lengthPrefix,
  slipEncode,
} from './framing.js';

export interface StreamHandlers {
  /** One complete frame (an OSC packet), in arrival order. */
  frame(packet: Uint8Array, link: StreamLink): void;
  /** The peer broke the framing (an oversized frame); the link is being closed. */
  framingError(error: FramingError, link: StreamLink): void;
  /** The connection is gone (either side closed it, or it failed). */
  closed(link: StreamLink, error: Error | undefined): void;
}

/**
 * One TCP connection carrying OSC packets. Reading detects the peer's framing from its first byte
 * (liblo answers in length prefix even to SLIP clients, so a client must detect too); writing uses
 * `writeFraming`, or once known, the framing the peer speaks. Reading can be held (backpressure)
 * by any number of holders and resumes when the last releases.
 */
export class StreamLink {
  readonly socket: Socket;
  readonly remoteAddress: string;
  readonly remotePort: number;
  #writeFraming: Framing | undefined;
  #decoder: FrameDecoder | undefined;
  readonly #maxFrame: number;
  readonly #handlers: StreamHandlers;
  readonly #holders = new Set<unknown>();
  #draining = false;
  #broken = false;
  #closed = false;
  /** Whether writes are being gathered until the end of this tick. */
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.socket.uncork();
  };
  #error: Error | undefined;
  /** Whether a frame has been written: the first SLIP frame of a connection opens with END. */
  #wrote = false;

  constructor(socket: Socket, options: { maxFrame: number; writeFraming?: Framing; handlers: StreamHandlers }) {
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.#maxFrame = options.maxFrame;
    this.#writeFraming = options.writeFraming;
    this.#handlers = options.handlers;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => {
      this.#error ??= err;
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#handlers.closed(this, this.#error);
    });
  }

  /** The framing this link writes in: chosen, or detected from what the peer sent. */
  get framing(): Framing | undefined {
    return this.#writeFraming ?? this.#decoder?.framing;
  }

  get closed(): boolean {
    return this.#closed || this.socket.destroyed;
  }

  /** Stop delivering frames (and reading the socket) until every holder has released. */
  hold(holder: unknown): void {
    if (this.#holders.size === 0) this.socket.pause();
    this.#holders.add(holder);
  }

  release(holder: unknown): void {
    if (!this.#holders.delete(holder) || this.#holders.size > 0) return;
    this.#drain();
    if (this.#holders.size === 0 && !this.socket.destroyed) this.socket.resume();
  }

  get held(): boolean {
    return this.#holders.size > 0;
  }

  #onData(chunk: Buffer): void {
    if (this.#decoder === undefined) {
      this.#decoder = decoderFor(detectFraming(chunk[0] as number), this.#maxFrame);
    }
    this.#decoder.push(chunk);
    this.#drain();
  }

  #drain(): void {
    const decoder = this.#decoder;
    if (decoder === undefined || this.#draining) return;
    this.#draining = true;
    try {
      // frames already received are delivered even after the peer has closed: a held link may
      // be released long after the socket is gone, and nothing it accepted may be lost
      while (this.#holders.size === 0 && !this.#broken) {
        const frame = decoder.next();
        if (frame === undefined) break;
        if (frame instanceof FramingError) {
          this.#broken = true;
          this.socket.destroy();
          this.#handlers.framingError(frame, this);
          break;
        }
        this.#handlers.frame(frame, this);
      }
    } finally {
      this.#draining = false;
    }
  }

  /**
   * Frames and writes one packet. Resolves with liblo's count: the packet's length for a length
   * prefix, the encoded length for SLIP.
   */
  write(packet: Uint8Array): Promise<number> {
    if (this.closed) {
      return Promise.reject(new SendError('ERR_OSC_CLOSED', `the connection to ${this.#peer()} is closed`));
    }
    const slip = this.framing === 'slip';
    const framed = slip ? slipEncode(packet, !this.#wrote) : lengthPrefix(packet);
    this.#wrote = true;
    const count = slip ? framed.length : packet.length;
    // the packets of one tick leave in one writev, not a syscall each (a burst of sends)
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(this.#uncork);
    }
    return new Promise((resolve, reject) => {
      this.socket.write(framed, (err) => {
        if (err)
          reject(
            new SendError('ERR_OSC_SEND_FAILED', `sending to ${this.#peer()} failed: ${err.message}`, { cause: err }),
          );
        else resolve(count);
      });
    });
  }

  /** Closes the connection; resolves once it is closed. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }

  #peer(): string {
    return `${this.remoteAddress.includes(':') ? `[${this.remoteAddress}]` : this.remoteAddress}:${this.remotePort}`;
  }
}

import type { Duplex } from 'node:stream';
import { ConnectionError, type ConnectionErrorCode, SendError } from './errors.js';
import {
  decoderFor,
  detectFraming,
  type FrameDecoder,
  type Framing,
  FramingError,
  lengthPrefix,
  slipEncode,
  slipEncodeDoubleEnd,
} from './framing.js';
import { type Link, type LinkHandlers, nextActivity } from './link.js';
import { bracketHost } from './url.js';
import { sendErrorFor, Watchdog, type Watched } from './watchdog.js';

/**
 * Bytes a connection may have written and not yet handed to the kernel, by default. Four packets of
 * the default maximum size, or some 100,000 small messages sent in one tick; the kernel buffers
 * another 4 MiB or so of its own (Linux's `tcp_wmem`) before anything waits here.
 */
export const DEFAULT_MAX_WRITE_BUFFER = 4 * 1024 * 1024;
/**
 * How long buffered writes may wait without any of them completing, by default. A peer that is
 * alive but busy reads within a second or two; one that has not taken a byte in 10 s is not
 * reading, and everyone else's replies should not wait on it.
 */
export const DEFAULT_WRITE_TIMEOUT = 10_000;
/**
 * Bytes of partial frames a server holds across all its connections, by default: 64 frames of the
 * default maximum size in flight at once.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** Limits of one connection; 0 turns a timeout off. */
export interface StreamLimits {
  /** Bytes written and not yet taken by the kernel beyond which a write closes the connection. */
  readonly maxWriteBuffer?: number | undefined;
  /** Milliseconds buffered writes may go without one completing before the connection is closed. */
  readonly writeTimeout?: number | undefined;
  /** Milliseconds without a byte read or a write completed before the connection is closed. */
  readonly idleTimeout?: number | undefined;
  /** Shared by a server's connections: the bytes of partial frames they may hold together. */
  readonly budget?: ReadBudget | undefined;
}

/**
 * The byte stream a {@link StreamLink} frames: a TCP socket (`net.Socket`), or a serial port
 * (serialport's `SerialPort`), both Node Duplex streams. A socket also says who its peer is.
 */
export type ByteStream = Duplex & {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
};

/**
 * A serial line (`osc.serial://`): the device, and how it differs from TCP. Both ways SLIP, never
 * detected; every packet written between two ENDs (CNMAT's `SLIPEncodedSerial`); a frame over the
 * limit is reported and skipped up to the next END, as is garbage (a board's boot messages, a
 * reset mid-frame), since a serial line is not a connection that can be closed and opened again.
 */
export interface SerialLine {
  /** The link's URL (`osc.serial:///dev/ttyACM0?baud=115200`). */
  readonly url: string;
  /** The device path, which stands for the peer in messages and in `remoteAddress`. */
  readonly path: string;
}

/** Bytes gathered in one tick after which they are written at once (a writev of this size is efficient). */
const CORK_FLUSH = 64 * 1024;

/**
 * The bytes of partial frames a server's connections hold together. When a read takes the total
 * over the limit, the connection holding the most is closed (`ERR_OSC_READ_BUFFER_FULL`), and the
 * next, until the total is within it: a connection holding little is not closed for what others hold.
 */
export class ReadBudget {
  readonly limit: number;
  #used = 0;
  readonly #holders = new Set<StreamLink>();
  readonly #onChange: ((used: number) => void) | undefined;

  constructor(limit: number, onChange?: (used: number) => void) {
    this.limit = limit;
    this.#onChange = onChange;
  }

  /** Bytes held now, by every connection together. */
  get used(): number {
    return this.#used;
  }

  /** @internal A link's holding changed by `delta` bytes. */
  change(link: StreamLink, delta: number, holding: number): void {
    this.#used += delta;
    if (holding > 0) this.#holders.add(link);
    else this.#holders.delete(link);
    this.#onChange?.(this.#used);
    while (this.#used > this.limit) {
      let largest: StreamLink | undefined;
      for (const l of this.#holders) if (largest === undefined || l.holding > largest.holding) largest = l;
      if (largest === undefined) break;
      largest.hangup(
        'ERR_OSC_READ_BUFFER_FULL',
        `partial frames held across connections passed maxBufferedBytes (${this.limit}); closing the connection holding the most (${largest.holding} bytes)`,
      );
    }
  }
}

/**
 * One TCP connection (or serial line: see {@link SerialLine}) carrying OSC packets. Reading detects the peer's framing from its first byte
 * (liblo answers in length prefix even to SLIP clients, so a client must detect too); writing uses
 * `writeFraming`, or once known, the framing the peer speaks. Reading can be held (backpressure)
 * by any number of holders and resumes when the last releases.
 *
 * What the peer can make it hold is bounded: writes it does not read (`maxWriteBuffer`, and
 * `writeTimeout` for writes that stop completing), silence (`idleTimeout`), partial frames (the
 * frame limit, and a server's shared `budget`). Crossing one closes the connection and reports a
 * {@link ConnectionError}; writes not yet taken by the kernel reject with a typed `SendError`.
 */
export class StreamLink implements Link, Watched {
  readonly proto: 'tcp' | 'serial';
  readonly socket: ByteStream;
  readonly remoteAddress: string;
  readonly remotePort: number;
  #writeFraming: Framing | undefined;
  #decoder: FrameDecoder | undefined;
  readonly #maxFrame: number;
  readonly #handlers: LinkHandlers;
  readonly #holders = new Set<unknown>();
  readonly #maxWriteBuffer: number;
  readonly #watchdog: Watchdog;
  readonly #budget: ReadBudget | undefined;
  /** A client's connection ends when its peer ends it (see the 'end' listener). */
  readonly #client: boolean;
  #draining = false;
  #broken = false;
  #closed = false;
  #peerEnded = false;
  /** Why the link closed the connection itself, once it has. */
  #failure: ConnectionError | undefined;
  /** Bytes of partial frames counted against the budget. */
  #holding = 0;
  /** Whether writes are being gathered until the end of this tick. */
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.socket.uncork();
    // what the kernel did not take at once is watched: it must keep moving
    if (this.socket.writableLength > 0) this.#watchdog.watchWrites();
  };
  /** When this link last read a byte or completed a write, in the order of all links' activity. */
  #lastActive = nextActivity();
  #error: Error | undefined;
  /** Bytes ever given to socket.write; and, once destroyed, how many of them the kernel had taken. */
  #queued = 0;
  #handed = -1;
  /** Whether a frame has been written: the first SLIP frame of a connection opens with END. */
  #wrote = false;
  /** A serial line's: its URL and device; undefined for TCP. */
  readonly #line: SerialLine | undefined;

  constructor(
    socket: ByteStream,
    options: {
      maxFrame: number;
      writeFraming?: Framing;
      handlers: LinkHandlers;
      limits?: StreamLimits | undefined;
      /** The connection is ours (an Address's): when the peer ends it, it ends here too. */
      client?: boolean | undefined;
      /** The stream is a serial line, not a TCP connection. */
      line?: SerialLine | undefined;
    },
  ) {
    this.socket = socket;
    const line = options.line;
    this.#line = line;
    this.proto = line === undefined ? 'tcp' : 'serial';
    this.remoteAddress = line?.path ?? socket.remoteAddress ?? '';
    this.remotePort = line === undefined ? (socket.remotePort ?? 0) : 0;
    this.#maxFrame = options.maxFrame;
    this.#writeFraming = line === undefined ? options.writeFraming : 'slip';
    // a serial line speaks SLIP from its first byte, whatever that byte is (garbage, a reset)
    if (line !== undefined) this.#decoder = decoderFor('slip', this.#maxFrame, { resync: true });
    this.#handlers = options.handlers;
    const limits = options.limits ?? {};
    this.#maxWriteBuffer = limits.maxWriteBuffer ?? DEFAULT_MAX_WRITE_BUFFER;
    this.#budget = limits.budget;
    this.#client = options.client ?? false;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err) => {
      this.#error ??= err;
    });
    socket.on('close', () => this.#onClose());
    this.#watchdog = new Watchdog(this, limits.writeTimeout ?? DEFAULT_WRITE_TIMEOUT, limits.idleTimeout ?? 0);
  }

  get url(): string {
    return this.#line?.url ?? `osc.tcp://${this.#peer()}/`;
  }

  /** The framing this link writes in: chosen, or detected from what the peer sent. */
  get framing(): Framing | undefined {
    return this.#writeFraming ?? this.#decoder?.framing;
  }

  get closed(): boolean {
    return this.#closed || this.socket.destroyed;
  }

  /** Bytes written and not yet taken by the kernel. */
  waiting(): number {
    return this.socket.writableLength;
  }

  /** Bytes of partial frames this link holds (counted against its server's budget). */
  get holding(): number {
    return this.#holding;
  }

  /** The order of this link's last activity (a byte read, a write completed) among all links. */
  get lastActive(): number {
    return this.#lastActive;
  }

  /** Stop delivering frames (and reading the socket) until every holder has released. */
  hold(holder: unknown): void {
    if (this.#holders.size === 0) this.socket.pause();
    this.#holders.add(holder);
  }

  release(holder: unknown): void {
    if (!this.#holders.delete(holder) || this.#holders.size > 0) return;
    // the silence while held was ours, not the peer's
    this.#lastActive = nextActivity();
    this.#drain();
    if (this.#holders.size === 0 && !this.socket.destroyed) this.socket.resume();
  }

  get held(): boolean {
    return this.#holders.size > 0;
  }

  /**
   * Closes the connection because the peer broke a limit: reports it (the handlers' `hangup`),
   * and writes not yet completed reject with a `SendError` that says why. Once only.
   */
  hangup(code: ConnectionErrorCode, message: string): void {
    if (this.#failure !== undefined || this.closed) return;
    this.#failure = new ConnectionError(code, this.#peer(), `${this.#peer()}: ${message}`);
    this.#broken = true; // nothing more is delivered from a connection closed for breaking a limit
    this.#release();
    this.#destroy();
    this.#handlers.hangup?.(this.#failure, this);
  }

  #onData(chunk: Buffer): void {
    this.#lastActive = nextActivity();
    if (this.#broken) return;
    if (this.#decoder === undefined) {
      this.#decoder = decoderFor(detectFraming(chunk[0] as number), this.#maxFrame);
    }
    this.#decoder.push(chunk);
    this.#drain();
  }

  /** Brings this link's share of the budget up to date with what its decoder holds. */
  #account(): void {
    const budget = this.#budget;
    if (budget === undefined) return;
    const now = this.#broken ? 0 : (this.#decoder?.buffered ?? 0);
    const delta = now - this.#holding;
    if (delta === 0) return;
    this.#holding = now;
    budget.change(this, delta, now);
  }

  #release(): void {
    if (this.#holding === 0 || this.#budget === undefined) return;
    const delta = -this.#holding;
    this.#holding = 0;
    this.#budget.change(this, delta, 0);
  }

  #onEnd(): void {
    this.#peerEnded = true;
    this.#drain(); // reports a frame cut short, once what came before it is delivered
    // A server closing a client's connection is done with it (an eviction, a limit, a stop): what
    // is still buffered here would be flushed into a closed socket and "succeed". Ending now makes
    // those writes reject (an Address sends them again on a new connection) and the next send
    // reconnect. A server's own connections stay half-open until their replies are flushed.
    if (this.#client) this.#destroy();
  }

  #onClose(): void {
    // (a serial port may say it twice: closed on a disconnect, then destroyed by its write's error)
    if (this.#closed) return;
    this.#closed = true;
    this.#watchdog.stop();
    // frames kept for a holder still count until they are delivered
    if (this.#broken || !this.held) this.#release();
    this.#handlers.closed(this, this.#error);
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
        if (frame === undefined) {
          if (this.#peerEnded && decoder.buffered > 0) {
            this.#broken = true;
            this.#handlers.framingError(new FramingError(decoder.buffered, 'ERR_OSC_TRUNCATED'), this);
          }
          break;
        }
        if (frame instanceof FramingError) {
          if (this.#line !== undefined) {
            // the oversized frame is skipped up to the next END; the line goes on
            this.#handlers.framingError(frame, this);
            continue;
          }
          this.#broken = true;
          this.#destroy();
          this.#handlers.framingError(frame, this);
          break;
        }
        this.#handlers.frame(frame, this);
      }
    } finally {
      this.#draining = false;
    }
    if (this.closed && !this.held) this.#release();
    else this.#account();
  }

  /**
   * Frames and writes one packet. Resolves with liblo's count (the packet's length for a length
   * prefix, the encoded length for SLIP) once the kernel has taken it, which is not delivery: TCP
   * cannot tell. Rejects with a `SendError`: `ERR_OSC_CLOSED` on a closed connection,
   * `ERR_OSC_WRITE_BUFFER_FULL` or `ERR_OSC_WRITE_TIMEOUT` when the peer is not reading.
   */
  write(packet: Uint8Array): Promise<number> {
    if (this.#failure !== undefined) return Promise.reject(this.#sendError(undefined));
    if (this.closed || this.socket.writableEnded) {
      return Promise.reject(new SendError('ERR_OSC_CLOSED', `the connection to ${this.#peer()} is closed`));
    }
    const slip = this.framing === 'slip';
    const framed =
      this.#line !== undefined
        ? slipEncodeDoubleEnd(packet)
        : slip
          ? slipEncode(packet, !this.#wrote)
          : lengthPrefix(packet);
    this.#wrote = true;
    const count = slip ? framed.length : packet.length;
    // One packet always goes into an empty buffer, so a packet larger than the limit is not
    // refused forever; more than the limit waiting means the peer is not keeping up.
    const waiting = this.socket.writableLength;
    if (waiting > 0 && waiting + framed.length > this.#maxWriteBuffer) {
      this.hangup(
        'ERR_OSC_WRITE_BUFFER_FULL',
        `${waiting} bytes written are still waiting for the peer to read them; a ${framed.length}-byte write would pass maxWriteBuffer (${this.#maxWriteBuffer})`,
      );
      return Promise.reject(this.#sendError(undefined));
    }
    // the packets of one tick leave in one writev, not a syscall each (a burst of sends)
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(this.#uncork);
    }
    const sent = new Promise<number>((resolve, reject) => {
      this.#queued += framed.length;
      const end = this.#queued;
      this.socket.write(framed, (err) => {
        // Node completes a write cut off by destroy() without an error: unless the kernel had
        // taken it before, it was never sent
        if (err || (this.socket.destroyed && end > this.#handed)) {
          reject(this.#sendError(err));
        } else {
          this.#watchdog.completed();
          this.#lastActive = nextActivity();
          resolve(count);
        }
      });
    });
    // A large burst is handed to the kernel as it grows, so that what waits here (and counts
    // against maxWriteBuffer) is what the kernel could not take, not a tick's worth of sends.
    if (this.socket.writableLength >= CORK_FLUSH) {
      this.socket.uncork();
      this.socket.cork();
    }
    return sent;
  }

  #sendError(err: Error | null | undefined): SendError {
    return sendErrorFor(this.#failure, this.#peerEnded || this.closed, this.#peer(), err);
  }

  /** Closes the connection; resolves once it is closed. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.#destroy();
    });
  }

  /** Destroys the socket, noting which writes the kernel had taken (they were sent; the rest were not). */
  #destroy(): void {
    if (!this.socket.destroyed) this.#handed = this.#queued - this.socket.writableLength;
    this.socket.destroy();
  }

  #peer(): string {
    if (this.#line !== undefined) return this.#line.path;
    return `${bracketHost(this.remoteAddress)}:${this.remotePort}`;
  }
}

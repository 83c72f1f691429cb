// One WebSocket connection carrying OSC packets (the `ws` package), one per binary message: what a
// server's WebSocket listener (ws.ts) and an Address's connection both are.
import { debuglog } from 'node:util';
import { type RawData, WebSocket } from 'ws';
import { ConnectionError, type ConnectionErrorCode, SendError } from './errors.js';
import { FramingError } from './framing.js';
import { type Link, type LinkHandlers, nextActivity } from './link.js';
import { DEFAULT_MAX_WRITE_BUFFER, DEFAULT_WRITE_TIMEOUT, type StreamLimits } from './stream.js';
import { bracketHost } from './url.js';
import { sendErrorFor, Watchdog, type Watched } from './watchdog.js';

const debug = debuglog('aiolo');
const textDecoder = new TextDecoder();

/**
 * How long a closing connection waits for the peer's close frame before the socket is destroyed:
 * a peer that reads answers within a round trip; one that does not is not waited for longer
 * (`ws` itself would wait 30 s).
 */
export const CLOSE_GRACE_MS = 1000;

/**
 * How many pieces a WebSocket message may arrive in, for a largest message of `maxFrame` bytes:
 * both the TCP reads `ws` buffers for the frame it is reading (`maxBufferedChunks`) and the
 * frames of one fragmented message (`maxFragments`). `ws` keeps each piece as an object of its
 * own, ~140–200 bytes beyond its data (measured by test/robustness/hostile-ws.test.ts), so the
 * defaults of `ws` (262,144 reads, 16,384 fragments) let a peer sending a 1 MiB message a byte at
 * a time hold ~50 MiB, not 1. One piece per KiB is what a real sender needs: TCP carries a
 * message written at once in segments of at least 1220 bytes on any path that carries IPv6
 * (minimum MTU 1280), and senders that fragment use pieces of kilobytes. The 16 more leave room
 * for a frame header (up to 14 bytes) read a byte at a time. The peer's pieces then cost at most
 * ~0.33 byte of bookkeeping per byte of `maxFrame`; past them `ws` closes the connection (1008),
 * reported as a hangup, `ERR_OSC_READ_BUFFER_FULL`.
 */
export function maxPieces(maxFrame: number): number {
  return Math.ceil(maxFrame / 1024) + 16;
}

/** Bytes of a message whose reading is held, read before `ws.pause()` took effect: delivered on release. */
type Pending = { readonly data: Uint8Array; readonly binary: boolean };

function bytesOf(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/**
 * One WebSocket connection carrying OSC packets, one per binary message. A text message is
 * reported (`ERR_OSC_TEXT_FRAME`) and dropped; a message over `maxFrame` closes the connection
 * (`ws` enforces it while reading, so no more than that is ever buffered). What the peer can make
 * it hold is bounded as for TCP: replies it does not read (`maxWriteBuffer`, counted in
 * `bufferedAmount`, and `writeTimeout` for writes that stop completing), and silence (`idleTimeout`).
 */
export class WsLink implements Link, Watched {
  readonly proto = 'ws';
  readonly url: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #ws: WebSocket;
  readonly #handlers: LinkHandlers;
  readonly #text: ((text: string, link: WsLink) => void) | undefined;
  readonly #maxFrame: number;
  readonly #maxWriteBuffer: number;
  readonly #holders = new Set<unknown>();
  /** Messages that arrived while held (ws stops reading at the next chunk, not at once). */
  readonly #pending: Pending[] = [];
  #closed = false;
  /** The peer broke the framing (a message over maxFrame): nothing more is delivered. */
  #broken = false;
  #failure: ConnectionError | undefined;
  #error: Error | undefined;
  #lastActive = nextActivity();
  /** Writes handed to ws and not yet completed. */
  #inFlight = 0;
  readonly #watchdog: Watchdog;
  #graceTimer: NodeJS.Timeout | undefined;

  constructor(
    ws: WebSocket,
    options: {
      /** The peer as a URL: where a client connected to, or the client a server accepted. */
      url: string;
      remoteAddress: string;
      remotePort: number;
      maxFrame: number;
      handlers: LinkHandlers;
      limits?: StreamLimits | undefined;
      /**
       * Text messages, for protocols that speak JSON beside OSC on one WebSocket (OSCQuery's
       * LISTEN). Without it a text message is reported as malformed (`ERR_OSC_TEXT_FRAME`).
       */
      text?: ((text: string, link: WsLink) => void) | undefined;
    },
  ) {
    this.#ws = ws;
    this.url = options.url;
    this.remoteAddress = options.remoteAddress;
    this.remotePort = options.remotePort;
    this.#handlers = options.handlers;
    this.#text = options.text;
    this.#maxFrame = options.maxFrame;
    const limits = options.limits ?? {};
    this.#maxWriteBuffer = limits.maxWriteBuffer ?? DEFAULT_MAX_WRITE_BUFFER;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, binary) => this.#onMessage(bytesOf(data), binary));
    ws.on('error', (err: Error & { code?: string }) => {
      this.#error ??= err;
      // ws closes the connection itself after a protocol error; one over maxPayload is the peer's doing
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' && this.#failure === undefined && !this.#broken) {
        this.#broken = true;
        this.#handlers.framingError(new FramingError(this.#maxFrame + 1), this);
      } else if (err.code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS' && this.#failure === undefined) {
        // (ws is closing the connection already: only the report is ours)
        this.#failure = new ConnectionError(
          'ERR_OSC_READ_BUFFER_FULL',
          this.#peer(),
          `${this.#peer()}: a WebSocket message came in more than ${maxPieces(this.#maxFrame)} pieces (reads or fragments): its partial data would cost more memory than maxPacketSize allows for`,
        );
        this.#pending.length = 0;
        this.#handlers.hangup?.(this.#failure, this);
      } else if (err.code?.startsWith('WS_ERR_') && this.#failure === undefined && !this.#broken) {
        // a breach of the protocol (ws closes with 1002 or 1007 itself): reported, so it is counted
        this.#failure = new ConnectionError(
          'ERR_OSC_PROTOCOL_ERROR',
          this.#peer(),
          `${this.#peer()}: the WebSocket protocol was broken (${err.code}): ${err.message}`,
        );
        this.#pending.length = 0;
        this.#handlers.hangup?.(this.#failure, this);
      } else {
        debug('websocket %s: %s', this.url, err.message);
      }
    });
    ws.on('close', () => this.#onClose());
    if (ws.readyState !== WebSocket.OPEN) this.#closed = ws.readyState !== WebSocket.CONNECTING;
    this.#watchdog = new Watchdog(this, limits.writeTimeout ?? DEFAULT_WRITE_TIMEOUT, limits.idleTimeout ?? 0);
  }

  get closed(): boolean {
    return this.#closed || this.#ws.readyState !== WebSocket.OPEN;
  }

  get held(): boolean {
    return this.#holders.size > 0;
  }

  get lastActive(): number {
    return this.#lastActive;
  }

  /** Bytes written and not yet sent (the WebSocket's `bufferedAmount`; a write not yet completed counts one). */
  waiting(): number {
    return this.#ws.bufferedAmount + (this.#inFlight > 0 ? 1 : 0);
  }

  hold(holder: unknown): void {
    if (this.#holders.size === 0) this.#ws.pause();
    this.#holders.add(holder);
  }

  release(holder: unknown): void {
    if (!this.#holders.delete(holder) || this.#holders.size > 0) return;
    this.#lastActive = nextActivity(); // the silence while held was ours, not the peer's
    while (this.#holders.size === 0 && this.#pending.length > 0) {
      const m = this.#pending.shift() as Pending;
      this.#deliver(m.data, m.binary);
    }
    if (this.#holders.size === 0 && this.#ws.readyState === WebSocket.OPEN) this.#ws.resume();
  }

  hangup(code: ConnectionErrorCode, message: string): void {
    if (this.#failure !== undefined || this.closed) return;
    this.#failure = new ConnectionError(code, this.#peer(), `${this.#peer()}: ${message}`);
    this.#pending.length = 0; // nothing more is delivered from a connection closed for breaking a limit
    // a peer that broke a limit is not owed a close handshake (one that does not read could not finish it)
    this.#ws.terminate();
    this.#handlers.hangup?.(this.#failure, this);
  }

  #onMessage(data: Uint8Array, binary: boolean): void {
    this.#lastActive = nextActivity();
    if (this.#failure !== undefined || this.#broken) return;
    if (this.#holders.size > 0) this.#pending.push({ data, binary });
    else this.#deliver(data, binary);
  }

  #deliver(data: Uint8Array, binary: boolean): void {
    if (binary) this.#handlers.frame(data, this);
    else if (this.#text !== undefined) this.#text(textDecoder.decode(data), this);
    else this.#handlers.framingError(new FramingError(data.length, 'ERR_OSC_TEXT_FRAME'), this);
  }

  /** Sends a text message (JSON of a protocol beside OSC); bounded and reported as `write` is. */
  writeText(text: string): Promise<number> {
    return this.#send(text, Buffer.byteLength(text), false);
  }

  #onClose(): void {
    this.#closed = true;
    this.#watchdog.stop();
    clearTimeout(this.#graceTimer);
    this.#handlers.closed(this, this.#error);
  }

  /**
   * Sends one packet as one binary message. Resolves with its length once `ws` has written it to
   * the socket (not delivery: TCP cannot tell). Rejects with a `SendError`: `ERR_OSC_CLOSED`, or
   * `ERR_OSC_WRITE_BUFFER_FULL` / `ERR_OSC_WRITE_TIMEOUT` when the peer is not reading.
   */
  write(packet: Uint8Array): Promise<number> {
    return this.#send(packet, packet.length, true);
  }

  #send(data: Uint8Array | string, length: number, binary: boolean): Promise<number> {
    if (this.#failure !== undefined) return Promise.reject(this.#sendError(undefined));
    if (this.closed) return Promise.reject(new SendError('ERR_OSC_CLOSED', `the connection to ${this.url} is closed`));
    // one message always goes into an empty buffer, so one larger than the limit is not refused forever
    const waiting = this.#ws.bufferedAmount;
    if (waiting > 0 && waiting + length > this.#maxWriteBuffer) {
      this.hangup(
        'ERR_OSC_WRITE_BUFFER_FULL',
        `${waiting} bytes written are still waiting for the peer to read them; a ${length}-byte message would pass maxWriteBuffer (${this.#maxWriteBuffer})`,
      );
      return Promise.reject(this.#sendError(undefined));
    }
    this.#inFlight++;
    const sent = new Promise<number>((resolve, reject) => {
      this.#ws.send(data, { binary }, (err) => {
        this.#inFlight--;
        if (err) {
          reject(this.#sendError(err));
        } else {
          this.#watchdog.completed();
          this.#lastActive = nextActivity();
          resolve(length);
        }
      });
    });
    if (this.#ws.bufferedAmount > 0) this.#watchdog.watchWrites();
    return sent;
  }

  #sendError(err: Error | undefined): SendError {
    return sendErrorFor(this.#failure, this.closed, this.url, err);
  }

  /** Closes the connection with a close handshake (the socket is destroyed if it takes longer than a second). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#ws.once('close', () => resolve());
      if (this.#ws.readyState === WebSocket.CONNECTING) {
        this.#ws.terminate();
        return;
      }
      this.#ws.close(1001, 'going away');
      this.#graceTimer ??= setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS).unref();
    });
  }

  #peer(): string {
    return `${bracketHost(this.remoteAddress)}:${this.remotePort}`;
  }
}

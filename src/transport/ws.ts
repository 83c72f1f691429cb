// OSC over WebSocket (the `ws` package): one OSC packet per binary message, the convention of
// osc.js, osc-js and OSCQuery. A connection is a WsLink; a server listens with listenWs, on its
// own HTTP server or on a path of the user's; an Address connects with connectWs.
import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { type NetConnectOpts, connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { debuglog } from 'node:util';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { ConnectionError, type ConnectionErrorCode, SendError, StartError } from './errors.js';
import { FramingError } from './framing.js';
import { type ConnectionHost, type Link, type LinkHandlers, nextActivity } from './link.js';
import { LinkPool, type PoolLimits } from './pool.js';
import { startError } from './start-error.js';
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
 * How long a TCP connection to a WebSocket server of aiolo's own may take to finish its upgrade
 * request. A WebSocket client (a browser, \`ws\`) writes the whole request at once as soon as it
 * has connected, so a healthy one needs a round trip; 10 s is a hundred round trips of a poor
 * mobile link. Node's own limit (\`headersTimeout\`, 60 s, checked every 30 s) would let a peer
 * that sends half a request hold its socket for up to 90 s. \`idleTimeout\`, when shorter, applies.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * How many pieces a WebSocket message may arrive in, for a largest message of \`maxFrame\` bytes:
 * both the TCP reads \`ws\` buffers for the frame it is reading (\`maxBufferedChunks\`) and the
 * frames of one fragmented message (\`maxFragments\`). \`ws\` keeps each piece as an object of its
 * own, ~140–200 bytes beyond its data (measured by test/robustness/hostile-ws.test.ts), so the
 * defaults of \`ws\` (262,144 reads, 16,384 fragments) let a peer sending a 1 MiB message a byte at
 * a time hold ~50 MiB, not 1. One piece per KiB is what a real sender needs: TCP carries a
 * message written at once in segments of at least 1220 bytes on any path that carries IPv6
 * (minimum MTU 1280), and senders that fragment use pieces of kilobytes. The 16 more leave room
 * for a frame header (up to 14 bytes) read a byte at a time. The peer's pieces then cost at most
 * ~0.33 byte of bookkeeping per byte of \`maxFrame\`; past them \`ws\` closes the connection (1008),
 * reported as a hangup, \`ERR_OSC_READ_BUFFER_FULL\`.
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

/** What a WebSocket listener's connections may hold, and how many it serves. */
export interface WsListenLimits extends PoolLimits {
  readonly maxWriteBuffer: number;
  readonly writeTimeout: number;
  readonly idleTimeout: number;
}

export interface WsListenOptions {
  /** Default every IPv4 address, as for TCP. Ignored with `httpServer`. */
  readonly host: string | undefined;
  readonly port: number;
  /** The HTTP path upgraded to WebSocket (`/` by default; another path is answered 404). */
  readonly path: string;
  readonly limits: WsListenLimits;
  /** The largest message accepted (the server's maxPacketSize). */
  readonly maxFrame: number;
  /** Share this HTTP(S) server (a web app's) rather than start one: only upgrades at `path` are taken. */
  readonly httpServer?: HttpServer | undefined;
}

export interface WsListener {
  readonly port: number;
  /** Stops taking connections (and closes its own HTTP server); the owner closes the connections. */
  close(): Promise<void>;
}

/**
 * Refuses an upgrade with an HTTP status, before any WebSocket exists, and lets the socket go once
 * the answer is written: an HTTP server's sockets are half-open, so \`end()\` alone would keep it
 * for as long as the peer does not close its side (before: forever).
 */
function refuseUpgrade(socket: Duplex, status: string): void {
  socket.on('error', () => {});
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
}

/**
 * The TCP connections of aiolo's own HTTP server that are not (yet) WebSockets: a pending upgrade
 * request, or a plain HTTP request. The pool counts only upgraded connections, so without this a
 * peer could hold any number of sockets by never finishing its request (slowloris). At most
 * \`max\` are kept (the server's maxConnections: every one is meant to become a connection, and a
 * burst of clients reconnecting at once is no larger than what the server serves): a newcomer
 * past it closes the one waiting the longest, since a real client finishes within a round trip
 * and so is never the oldest. Each is closed after \`timeout\` ms whatever it has sent.
 */
class Handshakes {
  readonly #waiting = new Map<Socket, NodeJS.Timeout>();
  readonly #max: number;
  readonly #timeout: number;
  /** Sockets closed for taking too long or to make room (for the debug log). */
  dropped = 0;

  constructor(max: number, timeout: number) {
    this.#max = max;
    this.#timeout = timeout;
  }

  readonly connection = (socket: Socket): void => {
    if (this.#waiting.size >= this.#max) {
      const [oldest] = this.#waiting.keys();
      if (oldest !== undefined) this.#drop(oldest, `${this.#max} sockets were already waiting to upgrade`);
    }
    const timer = setTimeout(() => this.#drop(socket, `no upgrade within ${this.#timeout} ms`), this.#timeout);
    timer.unref();
    this.#waiting.set(socket, timer);
    socket.once('close', () => this.upgraded(socket));
  };

  /** The socket is a WebSocket now (or gone): no longer waited on. */
  upgraded(socket: Socket): void {
    clearTimeout(this.#waiting.get(socket));
    this.#waiting.delete(socket);
  }

  #drop(socket: Socket, why: string): void {
    this.upgraded(socket);
    this.dropped++;
    debug('ws: closing %s:%d before its upgrade: %s', socket.remoteAddress, socket.remotePort, why);
    socket.destroy();
  }

  closeAll(): void {
    for (const socket of [...this.#waiting.keys()]) this.#drop(socket, 'the server stops');
  }
}

/**
 * Listens for WebSocket connections at `path`, on an HTTP server of its own or the user's, and
 * hands each to `connections.adopt`, at most `maxConnections` at once (see {@link LinkPool}).
 * Rejects with a StartError.
 */
export async function listenWs(options: WsListenOptions, connections: ConnectionHost): Promise<WsListener> {
  const shared = options.httpServer;
  if (shared !== undefined && shared.address() === null) {
    throw new StartError(
      'ERR_OSC_START_FAILED',
      `the httpServer shared for ${options.path} is not listening; call its listen() before start()`,
    );
  }
  const l = options.limits;
  const pool = new LinkPool(l);
  const limits: StreamLimits = {
    maxWriteBuffer: l.maxWriteBuffer,
    writeTimeout: l.writeTimeout,
    idleTimeout: l.idleTimeout,
  };
  // ws reads at most maxPayload bytes of a message before closing the connection (1009)
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrame,
    perMessageDeflate: false, // OSC is small and binary: compression costs CPU and an unbounded inflate
    clientTracking: false,
    maxBufferedChunks: maxPieces(options.maxFrame),
    maxFragments: maxPieces(options.maxFrame),
  });
  const handshakes =
    shared === undefined
      ? new Handshakes(
          l.maxConnections,
          l.idleTimeout > 0 ? Math.min(l.idleTimeout, HANDSHAKE_TIMEOUT_MS) : HANDSHAKE_TIMEOUT_MS,
        )
      : undefined;
  const http =
    shared ??
    createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close', Upgrade: 'websocket' });
      res.end('aiolo: OSC over WebSocket; connect with a WebSocket client\n');
    });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== options.path) {
      // on a shared server another listener may take it; on ours, nobody will
      if (shared === undefined || shared.listenerCount('upgrade') === 1) refuseUpgrade(socket, '404 Not Found');
      return;
    }
    const remote = { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 };
    if (!pool.admit()) {
      refuseUpgrade(socket, '503 Service Unavailable');
      connections.refused(remote);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      handshakes?.upgraded(req.socket);
      const link = connections.adopt(
        (handlers, maxFrame) =>
          new WsLink(ws, {
            url: `osc.ws://${bracketHost(remote.address)}:${remote.port}/`,
            remoteAddress: remote.address,
            remotePort: remote.port,
            maxFrame,
            handlers,
            limits,
          }),
        pool.release,
      );
      if (link.closed) return;
      pool.add(link);
      connections.accepted(link);
    });
  };
  http.on('upgrade', onUpgrade);
  if (handshakes !== undefined) http.on('connection', handshakes.connection);
  if (shared === undefined) {
    const host = options.host ?? '0.0.0.0';
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen({ port: options.port, host }, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      http.close();
      throw startError(err, `ws ${host}:${options.port}`);
    }
    http.on('error', (err) => debug('ws server error: %s', err.message));
  }
  const addr = http.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : options.port,
    close: async () => {
      http.off('upgrade', onUpgrade);
      if (shared !== undefined || handshakes === undefined) return;
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        handshakes.closeAll(); // requests not upgraded (yet); upgraded sockets are the owner's
      });
    },
  };
}

/** `osc.ws://host:port/path` as the `ws://` URL a WebSocket client opens. */
export function webSocketUrl(host: string, port: number, path: string): string {
  return `ws://${bracketHost(host)}:${port}${path}`;
}

/**
 * Opens a WebSocket to `url` and makes its link with `make`; rejects with a SendError
 * (`ERR_OSC_SEND_FAILED`) when the connection cannot be made. An `unref`'d connection does not
 * hold the process open while idle (a send in flight still does), as for an Address's TCP.
 */
export async function connectWs(
  url: string,
  options: { readonly maxFrame: number; readonly unref: boolean; readonly noDelay: boolean },
): Promise<WebSocket> {
  const { maxFrame, unref, noDelay } = options;
  let socket: Socket | undefined;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    maxPayload: maxFrame,
    maxBufferedChunks: maxPieces(maxFrame),
    maxFragments: maxPieces(maxFrame),
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS, // a server that accepts and never answers: the send rejects
    createConnection: (opts: object) => {
      socket = netConnect(opts as NetConnectOpts);
      socket.setNoDelay(noDelay); // OSC messages are small and timing matters, as for TCP
      return socket;
    },
  });
  ws.on('error', () => {}); // the link reports errors once it exists; before, the promise does
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }).catch((err: Error) => {
    ws.terminate();
    throw new SendError('ERR_OSC_SEND_FAILED', `cannot connect to ${url}: ${err.message}`, { cause: err });
  });
  // only once open: a connection still being made keeps the process alive, or a script's first
  // send would let it exit before the handshake
  if (unref) socket?.unref();
  return ws;
}

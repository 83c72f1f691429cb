// OSC over WebSocket (the `ws` package): one OSC packet per binary message, the convention of
// osc.js, osc-js and OSCQuery. A connection is a WsLink (ws-link.ts); a server listens with
// listenWs, on its own HTTP server or on a path of the user's; an Address connects with connectWs.
import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { type NetConnectOpts, connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { debuglog } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';
import { SendError, StartError } from './errors.js';
import type { ConnectionHost } from './link.js';
import { LinkPool, type PoolLimits } from './pool.js';
import { startError } from './start-error.js';
import type { StreamLimits } from './stream.js';
import { bracketHost } from './url.js';
import { maxPieces, WsLink } from './ws-link.js';

const debug = debuglog('aiolo');

/**
 * How long a TCP connection to a WebSocket server of aiolo's own may take to finish its upgrade
 * request. A WebSocket client (a browser, `ws`) writes the whole request at once as soon as it
 * has connected, so a healthy one needs a round trip; 10 s is a hundred round trips of a poor
 * mobile link. Node's own limit (`headersTimeout`, 60 s, checked every 30 s) would let a peer
 * that sends half a request hold its socket for up to 90 s. `idleTimeout`, when shorter, applies.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

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
 * the answer is written: an HTTP server's sockets are half-open, so `end()` alone would keep it
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
 * `max` are kept (the server's maxConnections: every one is meant to become a connection, and a
 * burst of clients reconnecting at once is no larger than what the server serves): a newcomer
 * past it closes the one waiting the longest, since a real client finishes within a round trip
 * and so is never the oldest. Each is closed after `timeout` ms whatever it has sent.
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
 * A `ws` server for upgrades handed to it (`handleUpgrade`), bounded as aiolo's WebSocket
 * connections are: a message over `maxFrame` closes its connection, and so does one arriving in
 * more than `maxPieces(maxFrame)` reads or fragments. OSCQuery's WebSocket uses it too.
 */
export function webSocketServer(maxFrame: number): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    maxPayload: maxFrame,
    perMessageDeflate: false, // OSC is small and binary: compression costs CPU and an unbounded inflate
    clientTracking: false,
    maxBufferedChunks: maxPieces(maxFrame),
    maxFragments: maxPieces(maxFrame),
  });
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
  const wss = webSocketServer(options.maxFrame);
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

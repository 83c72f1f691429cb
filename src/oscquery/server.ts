// OSCQuery for a Server (the Vidvox proposal): its routes as a JSON namespace over HTTP, and on the
// same port a WebSocket where a peer LISTENs to paths (their values then flow to it as binary OSC),
// hears of routes coming and going (PATH_ADDED, PATH_REMOVED), and may send OSC to the server.
import { createServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { debuglog } from 'node:util';
import type { WebSocketServer } from 'ws';
import { DEFAULT_MAX_PACKET_SIZE } from '../codec/decode.js';
import { encode } from '../codec/encode.js';
import { Message } from '../codec/message.js';
import type { OscArg } from '../codec/values.js';
import type { HandlerDisposer, Route } from '../server/route.js';
import type { Server } from '../server/server.js';
import { OscConfigError } from '../transport/errors.js';
import { SERVER_LINK } from '../transport/link.js';
import { checkOptionNames } from '../transport/options.js';
import { inOrder } from '../transport/serial-queue.js';
import { startError } from '../transport/start-error.js';
import { bracketHost } from '../transport/url.js';
import { webSocketServer } from '../transport/ws.js';
import { WsLink } from '../transport/ws-link.js';
import { type Advertisement, type AdvertiseOptions, advertise } from './advertise.js';
import { ATTRIBUTES, type NodeJson, namespaceNode } from './namespace.js';

const debug = debuglog('aiolo');

/**
 * Text commands a peer may send on the WebSocket at once, past which it is closed: LISTEN and
 * IGNORE are a few dozen bytes each, and a namespace has at most a few thousand paths.
 */
const MAX_LISTENS = 4096;
/**
 * Peers on the WebSocket at once, past which an upgrade is answered 503: each may hold a partial
 * message of up to the server's maxPacketSize (1 MiB by default), so 64 of them hold what a
 * WebSocket Server's 64 connections may. A namespace has a handful of browsers and controllers.
 */
const MAX_PEERS = 64;
/**
 * HTTP requests in progress at once, beside the peers: a namespace is read by a few tools at a
 * time; past this the kernel's backlog waits (Node refuses sockets over `maxConnections`).
 */
const MAX_HTTP = 64;
/**
 * How long a request (headers included) may take: a tool reading the namespace asks in one round
 * trip; Node's own defaults (60 s, 300 s) would let a slow peer hold a socket for minutes.
 */
const REQUEST_TIMEOUT_MS = 10_000;

/** Options of `new OscQueryServer(server, options)`. */
export interface OscQueryOptions {
  /** The name peers show (`HOST_INFO.NAME`, the root's description). Default `aiolo`. */
  readonly name?: string | undefined;
  /** The HTTP (and WebSocket) port. Default 0: any free port. */
  readonly port?: number | undefined;
  /** Address to listen on. Default `127.0.0.1`: the namespace is for this host unless you say otherwise. */
  readonly host?: string | undefined;
  /**
   * Publish it over mDNS once started (`_oscjson._tcp` for this HTTP port and `_osc._udp` or
   * `_osc._tcp` for the server's port, as VRChat looks for them), and withdraw it on stop: `true`,
   * or `advertise()`'s options (`interface`, `ttl`, `txt`...). The OSC server must be running.
   */
  readonly advertise?: boolean | Omit<AdvertiseOptions, 'name' | 'oscPort' | 'oscTransport' | 'httpPort'> | undefined;
}

const OPTIONS = ['name', 'port', 'host', 'advertise'] as const satisfies readonly (keyof OscQueryOptions)[];

/** A peer on the WebSocket: its connection, and the paths it listens to. */
interface Peer {
  readonly link: WsLink;
  readonly listening: Set<string>;
}

/**
 * Publishes a Server's routes over OSCQuery: `await new OscQueryServer(server).start()`, then
 * `GET /` (the tree), `GET /synth/freq?VALUE`, `GET /?HOST_INFO`, and a WebSocket on the same port.
 * Each route's node has `TYPE` from its typespec, `ACCESS`, `VALUE` (the last value it received, or
 * one set with `set()`), and what `route.info` says (`RANGE`, `DESCRIPTION`, `UNIT`...).
 * `start()` and `stop()` are awaitable and idempotent; stopping leaves the OSC server running.
 */
export class OscQueryServer implements AsyncDisposable {
  readonly server: Server;
  readonly name: string;
  readonly #host: string;
  readonly #port: number;
  readonly #advertise: OscQueryOptions['advertise'];
  #advertisement: Advertisement | undefined;
  #http: HttpServer | undefined;
  #wss: WebSocketServer | undefined;
  #url: string | undefined;
  readonly #values = new Map<Route, readonly OscArg[]>();
  /** The typetags of each route's last value (an ANY_ARGS route's vary). */
  readonly #typetags = new Map<Route, string>();
  readonly #handlers = new Map<Route, HandlerDisposer>();
  readonly #peers = new Set<Peer>();
  readonly #lifecycle = inOrder();
  readonly #onRoute = (route: Route): void => {
    this.#watch(route);
    this.#broadcast('PATH_ADDED', route.path);
  };
  readonly #onUnroute = (route: Route): void => {
    this.#handlers.get(route)?.();
    this.#handlers.delete(route);
    this.#values.delete(route);
    this.#typetags.delete(route);
    this.#broadcast('PATH_REMOVED', route.path);
  };

  constructor(server: Server, options: OscQueryOptions = {}) {
    checkOptionNames('OscQueryServer', options, OPTIONS);
    if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `port is an integer from 0 to 65535, got ${options.port}`);
    }
    this.server = server;
    this.name = options.name ?? 'aiolo';
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    this.#advertise = options.advertise;
  }

  /** The mDNS advertisement, while started with `advertise`: its name (after a conflict, `name (2)`...). */
  get advertisement(): Advertisement | undefined {
    return this.#advertisement;
  }

  /** `http://host:port/`, once started. */
  get url(): string | undefined {
    return this.#url;
  }

  /** The HTTP (and WebSocket) port, once started. */
  get port(): number | undefined {
    const addr = this.#http?.address();
    return typeof addr === 'object' && addr !== null ? addr.port : undefined;
  }

  /**
   * Sets a route's value (what `VALUE` shows until the route receives another), and sends it to
   * the peers listening to its path.
   */
  set(route: Route, ...args: readonly OscArg[]): void {
    if (route.typetags === null) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        `${route} takes any arguments: its value has no type to send`,
      );
    }
    const message = Message.typed({ path: route.path as string, typespec: route.typetags }, ...(args as never[]));
    this.#values.set(route, message.args);
    this.#typetags.set(route, message.typetags);
    this.#stream(route.path as string, message);
  }

  /** Starts serving; rejects with `StartError`. */
  start(): Promise<this> {
    return this.#lifecycle(() => (this.#http === undefined ? this.#start() : undefined)).then(() => this);
  }

  async #start(): Promise<void> {
    const http = createServer({ headersTimeout: REQUEST_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) =>
      this.#request(req, res),
    );
    // every socket counts, upgraded ones too: peers, requests and handshakes together
    http.maxConnections = MAX_PEERS + MAX_HTTP;
    // (a LISTEN is a few dozen bytes; OSC from a peer is bounded again by the server's own limit)
    const wss = webSocketServer(DEFAULT_MAX_PACKET_SIZE);
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      if (this.#peers.size >= MAX_PEERS) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        socket.once('finish', () => socket.destroy());
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.#connect(ws, req));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen({ port: this.#port, host: this.#host }, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      http.close();
      throw startError(err, `oscquery http ${this.#host}:${this.#port}`);
    }
    http.on('error', (err) => debug('oscquery http error: %s', err.message));
    this.#http = http;
    this.#wss = wss;
    const port = (http.address() as AddressInfo).port;
    this.#url = `http://${bracketHost(this.#host === '0.0.0.0' || this.#host === '::' ? 'localhost' : this.#host)}:${port}/`;
    for (const route of this.server.routes) this.#watch(route);
    this.server.on('route', this.#onRoute);
    this.server.on('unroute', this.#onUnroute);
    if (this.#advertise !== undefined && this.#advertise !== false) {
      const proto = this.server.proto;
      if (!this.server.running || (proto !== 'udp' && proto !== 'tcp')) {
        await this.#stop();
        throw new OscConfigError(
          'ERR_OSC_INVALID_OPTIONS',
          'advertise publishes the OSC port of a running UDP or TCP server: start it first',
        );
      }
      try {
        this.#advertisement = await advertise({
          ...(this.#advertise === true ? {} : this.#advertise),
          name: this.name,
          oscPort: this.server.port as number,
          oscTransport: proto,
          httpPort: port,
        });
      } catch (err) {
        await this.#stop();
        throw err;
      }
    }
  }

  /** Stops serving (HTTP, WebSocket peers, value tracking); the OSC server goes on. */
  stop(): Promise<void> {
    return this.#lifecycle(() => (this.#http === undefined ? undefined : this.#stop()));
  }

  async #stop(): Promise<void> {
    const http = this.#http as HttpServer;
    const advertisement = this.#advertisement;
    this.#http = undefined;
    this.#url = undefined;
    this.#advertisement = undefined;
    try {
      await advertisement?.stop(); // goodbye packets first, while the namespace still answers
      this.server.off('route', this.#onRoute);
      this.server.off('unroute', this.#onUnroute);
      for (const dispose of this.#handlers.values()) dispose();
      await Promise.all([...this.#peers].map((p) => p.link.close()));
    } finally {
      this.#handlers.clear();
      this.#peers.clear();
      this.#wss?.close();
      this.#wss = undefined;
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    }
  }

  /** Stops it at the end of an `await using` scope, as `stop()` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  // ---- values

  /** Keeps a literal route's last value, and streams each to the peers listening to its path. */
  #watch(route: Route): void {
    if (typeof route.path !== 'string' || route.pattern !== undefined || this.#handlers.has(route)) return;
    const path = route.path;
    const dispose = route.on(
      (args, m) => {
        this.#values.set(route, args);
        this.#typetags.set(route, m.typetags);
        if (this.#peers.size > 0)
          this.#stream(path, Message.typed({ path, typespec: m.typetags }, ...(args as never[])));
      },
      // the latest value is what matters: a backlog is dropped oldest first
      { highWaterMark: 64, onError: (err) => debug('oscquery value of %s: %s', path, String(err)) },
    );
    this.#handlers.set(route, dispose);
  }

  #stream(path: string, message: Message): void {
    let bytes: Uint8Array | undefined;
    for (const peer of this.#peers) {
      if (!peer.listening.has(path)) continue;
      bytes ??= encode(message);
      peer.link.write(bytes).catch((err: unknown) => debug('oscquery stream to %s: %s', peer.link.url, String(err)));
    }
  }

  // ---- HTTP

  #request(req: IncomingMessage, res: ServerResponse): void {
    // a browser page may read the namespace too
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    let path: string;
    try {
      path = decodeURIComponent(q < 0 ? raw : raw.slice(0, q));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const query =
      q < 0
        ? ''
        : (raw
            .slice(q + 1)
            .split('&')[0]
            ?.split('=')[0] ?? '');
    if (query === 'HOST_INFO') {
      this.#json(res, this.#hostInfo(req));
      return;
    }
    if (query !== '' && !ATTRIBUTES.has(query)) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end(`unknown attribute ${query}\n`);
      return;
    }
    const node = namespaceNode(this.server.routes, path, (route) => this.#values.get(route), this.name);
    if (node === undefined) {
      res.writeHead(404).end();
      return;
    }
    if (query === '') {
      this.#json(res, node);
      return;
    }
    const value = node[query as keyof NodeJson];
    if (value === undefined) {
      res.writeHead(204).end(); // the attribute exists, this node has no value for it
      return;
    }
    this.#json(res, { [query]: value });
  }

  #json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  }

  #hostInfo(req: IncomingMessage): Record<string, unknown> {
    // the address the peer reached us at: right whatever interface it came in on
    const local = req.socket.localAddress ?? this.#host;
    const ip = local.startsWith('::ffff:') ? local.slice(7) : local;
    const proto = this.server.proto;
    const info: Record<string, unknown> = {
      NAME: this.name,
      EXTENSIONS: {
        ACCESS: true,
        VALUE: true,
        RANGE: true,
        DESCRIPTION: true,
        TAGS: true,
        EXTENDED_TYPE: true,
        UNIT: true,
        CRITICAL: true,
        CLIPMODE: true,
        LISTEN: true,
        PATH_CHANGED: false,
        PATH_RENAMED: false,
        PATH_ADDED: true,
        PATH_REMOVED: true,
      },
      WS_IP: ip,
      WS_PORT: this.port,
    };
    if (this.server.running && (proto === 'udp' || proto === 'tcp')) {
      info.OSC_IP = ip;
      info.OSC_PORT = this.server.port;
      info.OSC_TRANSPORT = proto.toUpperCase();
    }
    return info;
  }

  // ---- WebSocket

  /** A peer connected: its binary messages are OSC for the server, its text messages commands. */
  #connect(ws: import('ws').WebSocket, req: IncomingMessage): void {
    const address = req.socket.remoteAddress ?? '';
    const port = req.socket.remotePort ?? 0;
    if (!this.server.running || this.#http === undefined) {
      ws.terminate();
      return;
    }
    const listening = new Set<string>();
    const link = this.server[SERVER_LINK].adopt(
      (handlers, maxFrame) =>
        new WsLink(ws, {
          url: `osc.ws://${bracketHost(address)}:${port}/`,
          remoteAddress: address,
          remotePort: port,
          maxFrame,
          handlers,
          text: (text, l) => this.#command(text, l, listening),
        }),
    );
    const peer: Peer = { link, listening };
    this.#peers.add(peer);
    ws.once('close', () => this.#peers.delete(peer));
  }

  /** `{"COMMAND": "LISTEN", "DATA": "/path"}` and IGNORE; anything else is logged and ignored. */
  #command(text: string, link: WsLink, listening: Set<string>): void {
    let command: unknown;
    try {
      command = JSON.parse(text);
    } catch {
      debug('oscquery: a text message from %s is not JSON', link.url);
      return;
    }
    const { COMMAND, DATA } = (command ?? {}) as { COMMAND?: unknown; DATA?: unknown };
    if (typeof DATA !== 'string') return;
    if (COMMAND === 'LISTEN') {
      if (listening.size >= MAX_LISTENS && !listening.has(DATA)) {
        link.hangup('ERR_OSC_READ_BUFFER_FULL', `more than ${MAX_LISTENS} paths listened to at once`);
        return;
      }
      listening.add(DATA);
    } else if (COMMAND === 'IGNORE') {
      listening.delete(DATA);
    }
  }

  #broadcast(command: string, path: string | symbol): void {
    if (typeof path !== 'string') return;
    const text = JSON.stringify({ COMMAND: command, DATA: path });
    for (const peer of this.#peers) {
      peer.link
        .writeText(text)
        .catch((err: unknown) => debug('oscquery %s to %s: %s', command, peer.link.url, String(err)));
    }
  }
}

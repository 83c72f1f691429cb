import type { Socket as DatagramSocket, RemoteInfo } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { debuglog } from 'node:util';
import { Address, type AddressOptions, type AddressTarget, REPLY_SINK } from '../address/address.js';
import { MultiCast } from '../address/multicast.js';
import { Bundle } from '../codec/bundle.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PACKET_SIZE, type DecodeOptions, decode } from '../codec/decode.js';
import { OscDecodeError } from '../codec/errors.js';
import type { Message } from '../codec/message.js';
import { compilePattern, isPattern, MAX_PATTERN_LENGTH, type Pattern, pathSegments } from '../codec/pattern.js';
import { TimeTag } from '../codec/timetag.js';
import { type AnyArgs, type ArgsOf, type Typespec, typespecString } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';
import { KernelDrops } from '../transport/drops.js';
import { type ConnectionError, OscConfigError, SendError, StartError } from '../transport/errors.js';
import type { Framing } from '../transport/framing.js';
import { type Dispatched, SERVER_LINK, type ServerLink, type Sink } from '../transport/link.js';
import { checkOptionNames } from '../transport/options.js';
import type { Sender } from '../transport/sender.js';
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_WRITE_BUFFER,
  DEFAULT_WRITE_TIMEOUT,
  ReadBudget,
  type StreamLimits,
  StreamLink,
} from '../transport/stream.js';
import { bindUdp, closeUdp, sendUdp } from '../transport/udp.js';
import { bindUnix, type UnixServer } from '../transport/unix.js';
import { formatUrl, isMulticastAddress, isProto, type Proto, parsePort, parseUrl } from '../transport/url.js';
import { messageBytes } from './bytes.js';
import { canCoerce, coerceArgs } from './coerce.js';
import type { Delivery, Holdable } from './delivery.js';
import { RouteError } from './errors.js';
import { type ForwardDisposer, Forwarding, PacketRecord, type PacketsOptions, type ReceivedPacket } from './packets.js';
import { ANY_PATH, type AnyPath, type Incoming, type Received, Route } from './route.js';
import { patternRoute, RouteImpl } from './route-impl.js';
import { Scheduler } from './scheduler.js';
import type { Subscription } from './subscription.js';
import { SubscriptionImpl } from './subscription-impl.js';

const debug = debuglog('aiolo');

/**
 * Steps of pattern matching one message may take against all the routes (see MatchBudget): about
 * half a millisecond once V8 has compiled the matcher, ~10 ms the first time. A typical pattern
 * costs ~130 steps a route, so this serves patterns against ~4,000 routes.
 */
const DEFAULT_PATTERN_STEPS = 1 << 19;

// Arrival order across every server in the process, so that merge() can interleave routes of
// different servers as their messages came.
let seq = 0;
function nextSeq(): number {
  return seq++;
}

/** Options of `new Server()`: where to listen (`url`, or `port` and `proto`, or `multicast`) and its limits. */
export interface ServerOptions {
  /** A liblo URL: `osc.udp://:9000`, `osc.tcp://127.0.0.1:0`, `osc.unix:///tmp/x.sock`, `osc.udp://224.0.1.9:9000` (a group). */
  readonly url?: string | undefined;
  /** Port to listen on (0: any free port), or a socket path (`/tmp/x.sock`) for a Unix server. */
  readonly port?: number | string | undefined;
  /** `'udp'` (default), `'tcp'` or `'unix'`. */
  readonly proto?: Proto | undefined;
  /** Address to listen on. Default all IPv4 addresses (as liblo); `'127.0.0.1'` or `'::1'` for this host only. */
  readonly host?: string | undefined;
  /** Join a multicast group. */
  readonly multicast?: MultiCast | undefined;
  /** Dispatch bundled messages at their timetag (default true); false dispatches at once, timetag attached. */
  readonly queue?: boolean | undefined;
  /** liblo's coercion between i h f d, and between s S, to reach a route's typespec. Default true. */
  readonly coerce?: boolean | undefined;
  /** Largest packet (UDP datagram, TCP frame) accepted. Default 1 MiB (UDP cannot exceed 65507). */
  readonly maxPacketSize?: number | undefined;
  /** Deepest bundle nesting accepted. Default 32. */
  readonly maxDepth?: number | undefined;
  /** Accept `r` and arrays, which liblo rejects. Default true. */
  readonly extendedTypes?: boolean | undefined;
  /** SO_RCVBUF for UDP. */
  readonly recvBufferSize?: number | undefined;
  /** TCP connections served at once; more are refused. Default 1024. */
  readonly maxConnections?: number | undefined;
  /**
   * TCP, when `maxConnections` are open: `'evict'` (default) closes the connection that has been
   * silent the longest (no byte read, no write completed) to make room, so silent connections
   * cannot lock newcomers out; `'refuse'` closes the newcomer. A connection whose reading a
   * consumer holds (`overflow: 'pause'`) is never evicted.
   */
  readonly whenFull?: 'evict' | 'refuse' | undefined;
  /**
   * TCP: milliseconds a connection may be silent (nothing read, no write completed) before the
   * server closes it (`'hangup'`, `ERR_OSC_IDLE_TIMEOUT`); it closes between one and two of these
   * after the last byte. Default 0: never, as a quiet listener is a normal OSC client and
   * `whenFull: 'evict'` already keeps silent connections from filling the server.
   */
  readonly idleTimeout?: number | undefined;
  /**
   * TCP: bytes of replies a connection may have waiting for its peer to read them (beyond what the
   * kernel buffers); a send past it closes the connection (`ERR_OSC_WRITE_BUFFER_FULL`). One
   * packet is always accepted into an empty buffer. Default 4 MiB.
   */
  readonly maxWriteBuffer?: number | undefined;
  /**
   * TCP: milliseconds buffered replies may wait with none of them completing before the
   * connection is closed (`ERR_OSC_WRITE_TIMEOUT`): a peer that does not read. 0: never. Default 10 s.
   */
  readonly writeTimeout?: number | undefined;
  /**
   * TCP: bytes of partial frames all connections may hold together; past it, the connection
   * holding the most is closed (`ERR_OSC_READ_BUFFER_FULL`). Default 64 MiB.
   */
  readonly maxBufferedBytes?: number | undefined;
  /** Bundled messages waiting for their time; more are dropped and reported. Default 65536. */
  readonly maxQueued?: number | undefined;
  /**
   * Work that matching one incoming address pattern against the routes may take, in steps (a
   * character compared; see the README). A costlier pattern is rejected and reported as malformed
   * (`ERR_OSC_PATTERN_TOO_COSTLY`). Default 524,288: about half a millisecond, enough for a typical
   * pattern against ~4,000 routes.
   */
  readonly maxPatternSteps?: number | undefined;
  /** Messages timed further ahead than this (seconds) are dropped and reported. Default 86400. */
  readonly maxScheduleAhead?: number | undefined;
  /**
   * Bytes of bundled messages waiting for their time (an estimate of the memory they keep alive,
   * see the README); more are dropped and reported like `maxQueued`. Default 32 MiB.
   */
  readonly maxQueuedBytes?: number | undefined;
  /** File mode of a Unix server's socket. Default 0o600 (the owner only). */
  readonly socketMode?: number | undefined;
}

/** The counters of `server.stats`: packets and messages received, dispatched, malformed, unmatched, dropped. */
export interface ServerStats {
  /** Packets received (datagrams, TCP frames). */
  packets: number;
  /** Messages decoded from them (each message of a bundle counts). */
  messages: number;
  /** Messages handed to at least one consumer: a subscription, a handler, a `next()` or a request. */
  dispatched: number;
  malformed: number;
  /** Messages no route took. */
  unmatched: number;
  /**
   * Messages that reached routes none of which had a subscription, handler, `next()` or request
   * waiting: taken by the routing and consumed by nobody (not counted in `dispatched`).
   */
  unconsumed: number;
  /** Errors thrown or rejected by `route.on()` handlers. */
  handlerErrors: number;
  /** Messages held for their timetag right now. */
  queued: number;
  /** What they keep alive, in bytes (the estimate `maxQueuedBytes` limits). */
  queuedBytes: number;
  /** Bundled messages dropped because the queue was full or they were timed too far ahead. */
  queueDropped: number;
  /**
   * UDP datagrams the kernel dropped before the server could read them (its receive buffer was
   * full: raise `recvBufferSize`, or let the event loop breathe). Read from the kernel on Linux
   * each time `stats` is read; undefined where the system does not say, and for TCP and Unix.
   */
  kernelDropped: number | undefined;
  /** Messages subscriptions discarded because their consumers fell behind. */
  overflowed: number;
  /** Open TCP connections. */
  connections: number;
  /** TCP connections closed at once because `maxConnections` were open. */
  refused: number;
  /** TCP connections the server closed because the peer broke a limit (see `'hangup'`). */
  hangups: number;
  /** Bytes of partial TCP frames held right now, across connections (bounded by `maxBufferedBytes`). */
  buffered: number;
}

/** The events a Server emits, with their arguments (it never emits `'error'` for network input). */
export interface ServerEvents {
  /** A packet that is not valid OSC (or a TCP frame over the limit, `packet` then empty); the server goes on. */
  malformed: [error: OscDecodeError, source: Address, packet: Uint8Array];
  /** A message no route took. */
  unmatched: [message: Received];
  /** A `route.on()` handler without `onError` threw or rejected; the handler goes on receiving. */
  handlerError: [error: unknown, message: Incoming];
  /** `server.forward()` could not send a packet on. */
  forwardError: [error: unknown, packet: ReceivedPacket];
  /** A subscription discarded a message (its consumer fell `highWaterMark` behind). */
  overflow: [subscription: Subscription<unknown>, dropped: number];
  /** A bundled message was dropped: the schedule was full, or it was timed too far ahead. */
  scheduleOverflow: [message: Received, reason: 'full' | 'horizon'];
  /** A TCP connection was accepted. */
  connection: [source: Address];
  /** A TCP connection was closed at once: `maxConnections` were already open. */
  refused: [remote: { address: string; port: number }];
  /**
   * The server closed a TCP connection because its peer broke a limit; `error.code` says which:
   * `ERR_OSC_WRITE_BUFFER_FULL`, `ERR_OSC_WRITE_TIMEOUT` (it does not read), `ERR_OSC_IDLE_TIMEOUT`,
   * `ERR_OSC_EVICTED` (silent the longest when a newcomer needed room), `ERR_OSC_READ_BUFFER_FULL`.
   */
  hangup: [error: ConnectionError, source: Address];
}

type Origin =
  | { readonly kind: 'udp'; readonly from: RemoteInfo }
  | { readonly kind: 'tcp'; readonly link: StreamLink }
  | { readonly kind: 'unix'; readonly from: string | null };

interface Scheduled {
  readonly message: Message;
  readonly origin: Origin;
  readonly source: Address | undefined;
  readonly bytes: number;
}

interface Config {
  readonly proto: string;
  readonly host: string | undefined;
  readonly port: number;
  readonly path: string | undefined;
  readonly multicast: MultiCast | undefined;
}

/** Every option a Server takes, checked at construction (plain JavaScript gets no other check). */
const SERVER_OPTIONS = [
  'url',
  'port',
  'proto',
  'host',
  'multicast',
  'queue',
  'coerce',
  'maxPacketSize',
  'maxDepth',
  'extendedTypes',
  'recvBufferSize',
  'maxConnections',
  'whenFull',
  'idleTimeout',
  'maxWriteBuffer',
  'writeTimeout',
  'maxBufferedBytes',
  'maxQueued',
  'maxQueuedBytes',
  'maxScheduleAhead',
  'maxPatternSteps',
  'socketMode',
] as const satisfies readonly (keyof ServerOptions)[];
// (a compile error here names an option missing from the list above)
const _everyOption: readonly (typeof SERVER_OPTIONS)[number][] = [] as (keyof ServerOptions)[];

const CONFLICTS: [string, string][] = [
  ['url', 'port'],
  ['url', 'proto'],
  ['url', 'multicast'],
  ['url', 'host'],
  ['multicast', 'port'],
  ['multicast', 'proto'],
  ['multicast', 'host'],
];

function configure(options: ServerOptions): Config {
  for (const [a, b] of CONFLICTS) {
    if (
      (options as Record<string, unknown>)[a] !== undefined &&
      (options as Record<string, unknown>)[b] !== undefined
    ) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `Server options ${a} and ${b} conflict: give one of them`);
    }
  }
  if (options.multicast !== undefined) {
    if (!(options.multicast instanceof MultiCast)) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'multicast takes a MultiCast(group, { port })');
    }
    return {
      proto: 'udp',
      host: undefined,
      port: options.multicast.port,
      path: undefined,
      multicast: options.multicast,
    };
  }
  if (options.url !== undefined) {
    const u = parseUrl(options.url);
    if (u.proto === 'unix') return { proto: 'unix', host: undefined, port: 0, path: u.path, multicast: undefined };
    // as in liblo, a server URL's host that is a multicast group means "join it"
    if (u.host !== undefined && isMulticastAddress(u.host)) {
      return {
        proto: u.proto,
        host: undefined,
        port: u.port ?? 0,
        path: undefined,
        multicast: new MultiCast(u.host, { port: u.port ?? 0 }),
      };
    }
    return { proto: u.proto, host: u.host, port: u.port ?? 0, path: undefined, multicast: undefined };
  }
  const proto = options.proto;
  if (proto !== undefined && !isProto(proto)) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `proto is 'udp', 'tcp' or 'unix', got ${String(proto)}`);
  }
  const port = options.port;
  if (typeof port === 'string' && port.startsWith('/')) {
    if (proto !== undefined && proto !== 'unix') {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `a socket path is for proto 'unix', not '${proto}'`);
    }
    return { proto: 'unix', host: undefined, port: 0, path: port, multicast: undefined };
  }
  if (proto === 'unix') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      "a unix server needs a socket path: { proto: 'unix', port: '/tmp/x.sock' }",
    );
  }
  return {
    proto: proto ?? 'udp',
    host: options.host,
    port: port === undefined ? 0 : parsePort(port, 'Server'),
    path: undefined,
    multicast: undefined,
  };
}

/**
 * A server as `start()` resolves it: where it listens is known, so `url` and `port` are plain
 * values — `const server = await new Server({ proto: 'tcp' }).start(); server.port` is a number.
 * (The type describes the server until `stop()`, after which they are undefined again.)
 */
export type Started<S extends Server = Server> = S & {
  readonly running: true;
  readonly url: string;
  readonly port: number;
};

/**
 * An OSC server: listens on UDP (IPv4 or IPv6), TCP (length-prefixed or SLIP framing, detected per
 * connection), a Unix datagram socket, or a multicast group, and dispatches what arrives to its
 * routes' subscriptions — bundled messages at their timetag. Network input never throws: malformed
 * packets are counted and reported with `'malformed'`, and the server goes on.
 */
export class Server extends EventEmitter<ServerEvents> implements AsyncDisposable {
  readonly queue: boolean;
  readonly coerce: boolean;
  /** The multicast group this server is a member of. */
  readonly multicast: MultiCast | undefined;
  readonly #options: ServerOptions;
  readonly #config: Config;
  readonly #maxPacketSize: number;
  readonly #maxQueued: number;
  readonly #maxQueuedBytes: number;
  readonly #maxPatternSteps: number;
  readonly #maxScheduleAhead: number;
  readonly #decodeOptions: DecodeOptions;
  readonly #literal = new Map<string, RouteImpl[]>();
  readonly #anyPath: RouteImpl[] = [];
  readonly #all = new Set<RouteImpl>();
  readonly #scheduler: Scheduler<Scheduled>;
  readonly #stats: ServerStats = {
    packets: 0,
    messages: 0,
    dispatched: 0,
    malformed: 0,
    unmatched: 0,
    unconsumed: 0,
    handlerErrors: 0,
    queued: 0,
    queuedBytes: 0,
    queueDropped: 0,
    kernelDropped: undefined,
    overflowed: 0,
    connections: 0,
    refused: 0,
    hangups: 0,
    buffered: 0,
  };
  readonly #links = new Set<StreamLink>();
  readonly #onDrop = (sub: Subscription<unknown>, dropped: number): void => {
    this.#stats.overflowed++;
    this.emit('overflow', sub, dropped);
  };
  readonly #onHandlerError = (error: unknown, message: Incoming): boolean => {
    this.#stats.handlerErrors++;
    if (this.listenerCount('handlerError') === 0) return false;
    try {
      this.emit('handlerError', error, message);
    } catch (err) {
      rethrowLater(err); // the user's listener threw, as for any event
    }
    return true;
  };
  /** Routes made by `match()`: patterns matched against the literal paths that arrive. */
  readonly #patterns: RouteImpl[] = [];
  /** What waits for a reply at a path (`address.request` from an address sending from this server). */
  readonly #watchers = new Map<string, Set<(message: Dispatched) => boolean>>();
  /** Subscriptions of `packets()`. */
  readonly #packetSubs = new Set<SubscriptionImpl<ReceivedPacket, null>>();
  /** Whether the message being dispatched reached a consumer. */
  #consumed = false;
  #udp: DatagramSocket | undefined;
  #kernelDrops: KernelDrops | undefined;
  /** What earlier sockets of this server dropped (the kernel counts per socket). */
  #dropsBefore = 0;
  #tcp: NetServer | undefined;
  #unix: UnixServer | undefined;
  #port: number | undefined;
  #url: string | undefined;
  #lifecycle: Promise<void> = Promise.resolve();
  #running = false;
  // From the moment a socket is bound (before start() resolves: a Unix server still sets its
  // file's mode) until stop(): what arrives then is served, not dropped.
  #accepting = false;
  readonly #replies: ReplyContext = { udp: () => this.#udp, unix: () => this.#unix };

  /** `new Server('osc.tcp://:9000')` is `new Server({ url: 'osc.tcp://:9000' })`. */
  constructor(options: ServerOptions | string = {}) {
    super();
    if (typeof options === 'string') options = { url: options };
    if (typeof options !== 'object' || options === null) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        'new Server(url) or new Server({ url }, { port, proto }, ...)',
      );
    }
    checkOptionNames('Server', options, SERVER_OPTIONS);
    this.#options = options;
    this.#config = configure(options);
    this.multicast = this.#config.multicast;
    this.queue = options.queue ?? true;
    this.coerce = options.coerce ?? true;
    this.#maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    this.#maxQueued = options.maxQueued ?? 65536;
    // 65536 messages of 512 bytes: the count governs small messages, this the big ones
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 32 * 1024 * 1024;
    this.#maxPatternSteps = options.maxPatternSteps ?? DEFAULT_PATTERN_STEPS;
    this.#maxScheduleAhead = options.maxScheduleAhead ?? 86400;
    this.#decodeOptions = {
      maxPacketSize: this.#maxPacketSize,
      maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
      extendedTypes: options.extendedTypes ?? true,
    };
    this.#scheduler = new Scheduler((item, timetag) => {
      this.#stats.queued = this.#scheduler.pending;
      this.#stats.queuedBytes -= item.bytes;
      this.#dispatch(item.message, timetag, item.origin, item.source);
    }, rethrowLater);
  }

  get running(): boolean {
    return this.#running;
  }

  /** `'udp'`, `'tcp'` or `'unix'` (or the unknown scheme a URL named). */
  get proto(): string {
    return this.#config.proto;
  }

  /** The port listened on, once started (the real one when 0 was asked for; 0 for a Unix server, as in liblo). */
  get port(): number | undefined {
    return this.#port;
  }

  /** The socket path of a Unix server. */
  get path(): string | undefined {
    return this.#config.path;
  }

  /**
   * Where to reach this server, once started: `osc.udp://localhost:PORT/` (the host it listens on,
   * or localhost when it listens on every address), `osc.unix:///path`.
   */
  get url(): string | undefined {
    return this.#url;
  }

  /** Counters, updated as the server runs. */
  get stats(): Readonly<ServerStats> {
    const now = this.#kernelDrops?.read();
    if (now !== undefined) this.#stats.kernelDropped = this.#dropsBefore + now;
    return this.#stats;
  }

  /** Whether bundled messages wait for their time. */
  get eventsPending(): boolean {
    return this.#scheduler.pending > 0;
  }

  /** Seconds until the next bundled message is due (0 if overdue; 100 at most, and when none is). */
  get nextEventDelay(): number {
    return this.#scheduler.nextDelay();
  }

  // ---- routes

  /**
   * Registers a route: `server.route('/foo', 'hdm')` is a `Route<[bigint, number, Midi]>`;
   * without a typespec it takes any arguments. A route already registered with the same path and
   * typespec is returned again. `server.route(route)` registers a Route made elsewhere.
   */
  route<T extends Typespec = AnyArgs>(path: string | AnyPath, typespec?: T): Route<ArgsOf<T>>;
  route<R extends Route<readonly OscArg[]>>(route: R): R;
  route(target: string | AnyPath | Route<readonly OscArg[]>, typespec?: Typespec): Route<readonly OscArg[]> {
    let route: RouteImpl;
    if (target instanceof Route) {
      if (typespec !== undefined) throw new RouteError('ERR_OSC_INVALID_ROUTE', 'a Route has its own typespec');
      route = target as RouteImpl; // Route is RouteImpl's public face: every Route is a RouteImpl
    } else {
      const candidate = new RouteImpl(target, typespec);
      const existing = this.#find(candidate.path, candidate.typetags);
      if (existing !== undefined) return existing;
      route = candidate;
    }
    if (this.#all.has(route)) return route;
    this.#all.add(route);
    if (route.path === ANY_PATH) {
      this.#anyPath.push(route);
    } else if (route.pattern !== undefined) {
      this.#patterns.push(route);
    } else {
      const list = this.#literal.get(route.path);
      if (list === undefined) this.#literal.set(route.path, [route]);
      else list.push(route);
    }
    route.dropListeners.add(this.#onDrop);
    route.errorListeners.add(this.#onHandlerError);
    if (this.#running) route.serving(this, true);
    return route;
  }

  /** Removes a route (or the route with this path and typespec); its subscriptions end. */
  unroute(target: Route<readonly OscArg[]> | string | AnyPath, typespec?: Typespec): Route<readonly OscArg[]> {
    const route =
      target instanceof Route
        ? this.#all.has(target as RouteImpl)
          ? (target as RouteImpl)
          : undefined
        : this.#find(target, typespec === undefined ? null : typespecString(typespec));
    if (route === undefined)
      throw new RouteError('ERR_OSC_NOT_ROUTED', `${String(target)} is not routed on this server`);
    this.#all.delete(route);
    const list =
      route.path === ANY_PATH
        ? this.#anyPath
        : route.pattern !== undefined
          ? this.#patterns
          : this.#literal.get(route.path);
    if (list !== undefined) list.splice(list.indexOf(route), 1);
    if (route.path !== ANY_PATH && route.pattern === undefined && list?.length === 0) this.#literal.delete(route.path);
    route.dropListeners.delete(this.#onDrop);
    route.errorListeners.delete(this.#onHandlerError);
    route.serving(this, false);
    return route;
  }

  /** The routes registered, in registration order. */
  get routes(): readonly Route<readonly OscArg[]>[] {
    return [...this.#all];
  }

  #find(path: string | AnyPath, typetags: string | null, pattern = false): RouteImpl | undefined {
    const list = path === ANY_PATH ? this.#anyPath : pattern ? this.#patterns : this.#literal.get(path);
    return list?.find((r) => r.typetags === typetags && r.path === path);
  }

  /**
   * An address that sends from this server's socket (liblo's `lo_send_from`), so that replies come
   * back to this server's routes: `server.address('osc.udp://localhost:57110/')`.
   */
  address(target: string | AddressTarget, options: Omit<AddressOptions, 'server'> = {}): Address {
    return new Address(typeof target === 'string' ? { url: target } : target, { ...options, server: this });
  }

  // ---- lifecycle

  /**
   * Starts listening. Resolves once bound; rejects with {@link StartError}. Calling it while running
   * does nothing. Calls to `start()` and `stop()` take effect in order: the last one wins.
   */
  start(): Promise<Started<this>> {
    return this.#enqueue(() => (this.#running ? undefined : this.#start())).then(() => this as Started<this>);
  }

  /** Runs lifecycle operations one after another, whatever became of the one before. */
  #enqueue(operation: () => Promise<void> | undefined): Promise<void> {
    const next = this.#lifecycle.then(operation, operation);
    this.#lifecycle = next.catch(() => undefined);
    return next;
  }

  async #start(): Promise<void> {
    const c = this.#config;
    this.#accepting = true;
    try {
      await this.#bind(c);
    } catch (err) {
      this.#accepting = false;
      throw err;
    }
    this.#running = true;
    for (const route of this.#all) route.serving(this, true);
    debug('server started at %s', this.#url);
  }

  async #bind(c: Config): Promise<void> {
    switch (c.proto) {
      case 'udp': {
        const socket = await bindUdp(
          { host: c.host, port: c.port, recvBufferSize: this.#options.recvBufferSize, multicast: c.multicast },
          (packet, from) => this.#packet(packet, { kind: 'udp', from }),
        );
        this.#udp = socket;
        const addr = socket.address();
        this.#port = addr.port;
        this.#kernelDrops = new KernelDrops(addr.port, addr.family === 'IPv6');
        this.#url = formatUrl('udp', c.multicast?.group ?? displayHost(c.host), addr.port);
        break;
      }
      case 'tcp': {
        const o = this.#options;
        // the connections this listener accepted, and the limits they share (aiolo counts and
        // evicts them itself: net.Server's maxConnections can only refuse)
        const pool: AcceptPool = {
          accepted: new Set(),
          maxConnections: o.maxConnections ?? 1024,
          evict: (o.whenFull ?? 'evict') === 'evict',
          limits: {
            maxWriteBuffer: o.maxWriteBuffer ?? DEFAULT_MAX_WRITE_BUFFER,
            writeTimeout: o.writeTimeout ?? DEFAULT_WRITE_TIMEOUT,
            idleTimeout: o.idleTimeout ?? 0,
            budget: new ReadBudget(o.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES, (used) => {
              this.#stats.buffered = used;
            }),
          },
        };
        const server = createServer({ noDelay: true }, (socket) => this.#accept(socket, pool));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: c.port, host: c.host ?? '0.0.0.0' }, () => {
            server.off('error', reject);
            resolve();
          });
        }).catch((err: NodeJS.ErrnoException) => {
          server.close();
          throw err.code === 'EADDRINUSE'
            ? new StartError(
                'ERR_OSC_ADDRESS_IN_USE',
                `tcp port ${c.port} is already in use; choose another, or 0 for any free one`,
                { cause: err },
              )
            : new StartError(
                'ERR_OSC_START_FAILED',
                `cannot listen on tcp ${c.host ?? '0.0.0.0'}:${c.port}: ${err.message}`,
                { cause: err },
              );
        });
        server.on('error', (err) => debug('tcp server error: %s', err.message));
        this.#tcp = server;
        const addr = server.address();
        this.#port = typeof addr === 'object' && addr !== null ? addr.port : c.port;
        this.#url = formatUrl('tcp', displayHost(c.host), this.#port);
        break;
      }
      case 'unix': {
        this.#unix = await bindUnix(c.path as string, this.#options.socketMode ?? 0o600, (packet, from) =>
          this.#packet(packet, { kind: 'unix', from }),
        );
        this.#port = 0; // as liblo's lo_server_get_port for a Unix server
        this.#url = formatUrl('unix', undefined, undefined, c.path);
        break;
      }
      default:
        throw new StartError(
          'ERR_OSC_UNKNOWN_PROTOCOL',
          `protocol '${c.proto}' is not supported; use osc.udp, osc.tcp or osc.unix`,
        );
    }
  }

  /**
   * Stops: closes every socket and connection, removes the Unix socket file, drops bundled
   * messages still waiting, and ends every subscription (after what it has buffered). Idempotent.
   */
  stop(): Promise<void> {
    return this.#enqueue(() => (this.#running ? this.#stop() : undefined));
  }

  async #stop(): Promise<void> {
    this.#running = false;
    this.#accepting = false;
    const udp = this.#udp;
    const tcp = this.#tcp;
    const unix = this.#unix;
    this.#udp = undefined;
    this.#tcp = undefined;
    this.#unix = undefined;
    const drops = this.#kernelDrops?.read();
    if (drops !== undefined) this.#stats.kernelDropped = this.#dropsBefore += drops;
    this.#kernelDrops = undefined;
    try {
      this.#scheduler.clear();
      this.#stats.queued = 0;
      this.#stats.queuedBytes = 0;
      // net.Server.close() waits for its connections, so they are closed while it waits
      const closing = Promise.all([
        udp ? closeUdp(udp) : undefined,
        tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined,
        unix?.close(),
      ]);
      // (an address sending from this server may attach a connection while we close)
      while (this.#links.size > 0) await Promise.all([...this.#links].map((l) => l.close()));
      await closing;
    } finally {
      this.#links.clear();
      this.#stats.connections = 0;
      this.#port = undefined;
      this.#url = undefined;
      for (const route of this.#all) route.serving(this, false);
      for (const sub of [...this.#packetSubs]) sub.end();
      debug('server stopped');
    }
  }

  /** Stops the server at the end of an `await using` scope, as `stop()` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  // ---- what addresses sending from this server use

  get [SERVER_LINK](): ServerLink {
    return {
      datagramSocket: this.#udp,
      attachStream: (socket: Socket, writeFraming: Framing, limits?: StreamLimits) =>
        this.#attach(socket, writeFraming, undefined, limits),
      watch: (path, watcher) => this.#watch(path, watcher),
    };
  }

  // ---- receiving

  #accept(socket: Socket, pool: AcceptPool): void {
    if (pool.accepted.size >= pool.maxConnections) {
      // the connection silent the longest makes room, unless a consumer holds it (its silence is ours)
      let idlest: StreamLink | undefined;
      if (pool.evict) {
        for (const l of pool.accepted) {
          if (!l.held && !l.closed && (idlest === undefined || l.lastActive < idlest.lastActive)) idlest = l;
        }
      }
      if (idlest === undefined) {
        const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
        socket.on('error', () => {});
        socket.destroy();
        this.#stats.refused++;
        if (this.listenerCount('refused') > 0) this.emit('refused', remote);
        return;
      }
      pool.accepted.delete(idlest);
      idlest.hangup(
        'ERR_OSC_EVICTED',
        `maxConnections (${pool.maxConnections}) were open and a new one arrived; this one had been silent the longest`,
      );
    }
    const link = this.#attach(socket, undefined, pool);
    if (link.closed) return;
    pool.accepted.add(link);
    if (this.listenerCount('connection') > 0) this.emit('connection', sourceFor(this.#replies, { kind: 'tcp', link }));
  }

  #attach(socket: Socket, writeFraming: Framing | undefined, pool?: AcceptPool, limits?: StreamLimits): StreamLink {
    const link = new StreamLink(socket, {
      maxFrame: this.#maxPacketSize,
      ...(writeFraming === undefined ? {} : { writeFraming }),
      // connections accepted get the server's limits; an address's, its own
      limits: pool?.limits ?? limits,
      client: pool === undefined,
      handlers: {
        frame: (packet, l) => this.#packet(packet, { kind: 'tcp', link: l }),
        framingError: (err, l) => {
          this.#malformed(
            err.code === 'ERR_OSC_TRUNCATED'
              ? new OscDecodeError(
                  'ERR_OSC_TRUNCATED',
                  err.size,
                  `the connection ended in the middle of a TCP frame, ${err.size} bytes into it; those bytes are dropped`,
                )
              : new OscDecodeError(
                  'ERR_OSC_TOO_LARGE',
                  0,
                  `TCP frame of ${err.size} bytes exceeds maxPacketSize ${this.#maxPacketSize}; closing the connection`,
                ),
            { kind: 'tcp', link: l },
            new Uint8Array(0),
          );
        },
        hangup: (err, l) => {
          this.#stats.hangups++;
          debug('hangup: %s', err.message);
          if (this.listenerCount('hangup') === 0) return;
          try {
            this.emit('hangup', err, sourceFor(this.#replies, { kind: 'tcp', link: l }));
          } catch (e) {
            rethrowLater(e);
          }
        },
        closed: (l) => {
          pool?.accepted.delete(l);
          if (this.#links.delete(l)) this.#stats.connections--;
        },
      },
    });
    if (!link.closed) {
      this.#links.add(link);
      this.#stats.connections++;
    }
    return link;
  }

  #packet(packet: Uint8Array, origin: Origin): void {
    if (!this.#accepting) return;
    this.#stats.packets++;
    if (packet.length === 0) return; // liblo ignores empty datagrams too
    let decoded: Message | Bundle;
    try {
      decoded = decode(packet, this.#decodeOptions);
    } catch (err) {
      if (err instanceof OscDecodeError) this.#malformed(err, origin, packet);
      else debug('unexpected decode failure: %s', String(err)); // never thrown, by the decoder's contract
      return;
    }
    if (this.#packetSubs.size > 0) this.#rawPacket(packet, decoded, origin);
    try {
      // the clock is read only when a bundle or a waiting schedule needs it
      const now = decoded instanceof Bundle || this.#scheduler.pending > 0 ? TimeTag.now() : undefined;
      // what became due before this packet arrived goes first, even if the timer has not fired yet
      if (now !== undefined && this.#scheduler.pending > 0) this.#scheduler.runDue(now);
      if (decoded instanceof Bundle) this.#bundle(decoded, origin, now as TimeTag);
      else this.#dispatch(decoded, TimeTag.IMMEDIATE, origin, undefined);
    } catch (err) {
      // a user's 'unmatched' or 'overflow' listener threw: keep serving
      rethrowLater(err);
    }
  }

  #malformed(error: OscDecodeError, origin: Origin, packet: Uint8Array): void {
    this.#stats.malformed++;
    debug('malformed packet: %s', error.message);
    if (this.listenerCount('malformed') === 0) return;
    try {
      this.emit('malformed', error, sourceFor(this.#replies, origin), packet);
    } catch (err) {
      rethrowLater(err);
    }
  }

  #bundle(bundle: Bundle, origin: Origin, now: TimeTag): void {
    const tt = bundle.timetag;
    const immediate = tt.isImmediate || tt.compare(now) <= 0 || !this.queue;
    for (const element of bundle.elements) {
      if (element instanceof Bundle) {
        this.#bundle(element, origin, now); // a nested bundle keeps its own timetag
      } else if (immediate) {
        this.#dispatch(element, tt, origin, undefined);
      } else {
        this.#schedule(element, tt, origin, now);
      }
    }
  }

  #schedule(message: Message, timetag: TimeTag, origin: Origin, now: TimeTag): void {
    const bytes = messageBytes(message.path, message.typetags, message.args);
    const reason =
      this.#scheduler.pending >= this.#maxQueued || this.#stats.queuedBytes + bytes > this.#maxQueuedBytes
        ? 'full'
        : timetag.diff(now) > this.#maxScheduleAhead
          ? 'horizon'
          : undefined;
    if (reason !== undefined) {
      this.#stats.messages++;
      this.#stats.queueDropped++;
      if (this.listenerCount('scheduleOverflow') > 0) {
        const source = sourceFor(this.#replies, origin);
        this.emit(
          'scheduleOverflow',
          { path: message.path, typetags: message.typetags, args: message.args, timetag, source },
          reason,
        );
      }
      return;
    }
    // the reply path is fixed now: liblo 0.31 resolves it at dispatch, from whoever sent last
    this.#scheduler.add(timetag, { message, origin, source: undefined, bytes });
    this.#stats.queued = this.#scheduler.pending;
    this.#stats.queuedBytes += bytes;
  }

  #dispatch(message: Message, timetag: TimeTag, origin: Origin, source: Address | undefined): void {
    if (!this.#accepting) return;
    this.#stats.messages++;
    this.#consumed = false;
    const path = message.path;
    let delivery: ServerDelivery | undefined;
    // routes made by match() whose pattern matches this (literal) path; found before any delivery,
    // so that a path too costly to match reaches no route at all
    const byPattern = this.#patterns.length > 0 ? this.#matchPatterns(path, origin) : undefined;
    if (byPattern === null) return;
    const direct = this.#literal.get(path);
    if (direct !== undefined) {
      for (const route of direct) delivery = this.#offer(route, message, timetag, origin, source, delivery);
    } else if (this.#literal.size > 0 && isPattern(path)) {
      // (a pattern can only match literal routes: a server with none skips the scan)
      const matched = this.#patternRoutes(path, origin);
      if (matched === null) return; // too costly: rejected and reported, delivered nowhere
      for (const routes of matched) {
        for (const route of routes) delivery = this.#offer(route, message, timetag, origin, source, delivery);
      }
    }
    if (byPattern !== undefined) {
      for (const route of byPattern) delivery = this.#offer(route, message, timetag, origin, source, delivery);
    }
    for (const route of this.#anyPath) delivery = this.#offer(route, message, timetag, origin, source, delivery);
    if (this.#watchers.size > 0) {
      const watchers = this.#watchers.get(path);
      if (watchers !== undefined) {
        const d = delivery ?? new ServerDelivery(this.#replies, message, timetag, origin, source, nextSeq());
        for (const watcher of watchers) {
          if (watcher(d)) {
            delivery = d;
            this.#consumed = true;
            break;
          }
        }
      }
    }
    if (delivery !== undefined) {
      if (this.#consumed) this.#stats.dispatched++;
      else {
        this.#stats.unconsumed++;
        debug('a message to %s reached routes without subscribers', path);
      }
    } else {
      this.#stats.unmatched++;
      if (this.listenerCount('unmatched') > 0) {
        this.emit('unmatched', new ServerDelivery(this.#replies, message, timetag, origin, source, nextSeq()));
      }
    }
  }

  /**
   * The routes a pattern matches, or null when matching would cost more than one message may
   * (then reported as malformed). All are found before any is delivered to, so a rejected message
   * reaches no route at all.
   */
  #patternRoutes(path: string, origin: Origin): RouteImpl[][] | null {
    let pattern: Pattern;
    try {
      if (path.length > MAX_PATTERN_LENGTH) {
        this.#tooCostly(`an address pattern of ${path.length} characters (at most ${MAX_PATTERN_LENGTH})`, origin);
        return null;
      }
      pattern = compilePattern(path);
    } catch {
      return []; // an invalid pattern matches nothing
    }
    const budget = { left: this.#maxPatternSteps };
    const matched: RouteImpl[][] = [];
    for (const routes of this.#literal.values()) {
      if (pattern.matchesSegments((routes[0] as RouteImpl).segments, budget)) matched.push(routes);
      else if (budget.left < 0) {
        this.#tooCostly(`an address pattern that takes more than ${this.#maxPatternSteps} steps to match`, origin);
        return null;
      }
    }
    return matched;
  }

  /**
   * The routes made by `match()` whose pattern matches the literal `path`, or null when matching
   * would cost more than one message may (then reported as malformed). A path that is itself a
   * pattern matches none of them.
   */
  #matchPatterns(path: string, origin: Origin): RouteImpl[] | null {
    if (path.charCodeAt(0) !== 0x2f || isPattern(path)) return [];
    const segments = pathSegments(path);
    const budget = { left: this.#maxPatternSteps };
    const matched: RouteImpl[] = [];
    for (const route of this.#patterns) {
      if ((route.pattern as Pattern).matchesSegments(segments, budget)) matched.push(route);
      else if (budget.left < 0) {
        this.#tooCostly(
          `a path that takes more than ${this.#maxPatternSteps} steps to match the pattern routes`,
          origin,
        );
        return null;
      }
    }
    return matched;
  }

  #tooCostly(what: string, origin: Origin): void {
    this.#malformed(
      new OscDecodeError('ERR_OSC_PATTERN_TOO_COSTLY', 0, `${what}: rejected`),
      origin,
      new Uint8Array(0),
    );
  }

  /** Delivers to `route` if the typetags fit (or coerce); returns the delivery record, made on first use. */
  #offer(
    route: RouteImpl,
    message: Message,
    timetag: TimeTag,
    origin: Origin,
    source: Address | undefined,
    delivery: ServerDelivery | undefined,
  ): ServerDelivery | undefined {
    const want = route.typetags;
    const have = message.typetags;
    let args: readonly OscArg[] = message.args;
    if (want !== null && want !== have) {
      if (!this.coerce || !canCoerce(have, want)) return delivery;
      args = coerceArgs(message.args, have, want);
    }
    const d = delivery ?? new ServerDelivery(this.#replies, message, timetag, origin, source, nextSeq());
    if (route.deliver(d, args, want ?? have)) this.#consumed = true;
    return d;
  }

  // ---- pattern routes, raw packets, forwarding, watchers (request/reply)

  /**
   * A route receiving every message whose (literal) path matches `pattern`:
   * `server.match('/avatar/parameters/*', 'f')`. The reverse of OSC's dispatch, where the
   * incoming path is the pattern: here the route's path is. Messages whose path is itself a
   * pattern do not reach pattern routes. The same pattern and typespec again returns the same route.
   */
  match<T extends Typespec = AnyArgs>(pattern: string, typespec?: T): Route<ArgsOf<T>>;
  match(pattern: string, typespec?: Typespec): Route {
    const candidate = patternRoute(pattern, typespec);
    const existing = this.#find(pattern, candidate.typetags, true);
    return existing ?? this.route(candidate);
  }

  /**
   * Every valid packet this server receives, as it arrives (before a bundle waits for its time):
   * its bytes, the decoded packet, its source and its arrival time. Bounded like a subscription
   * (`highWaterMark`, `highWaterBytes`, `overflow`, `signal`); ends when the server stops.
   */
  packets(options: PacketsOptions = {}): Subscription<ReceivedPacket, null> {
    const sub = new SubscriptionImpl<ReceivedPacket, null>(
      null,
      options,
      (s) => this.#packetSubs.delete(s),
      this.#onDrop,
    );
    if (!sub.done) this.#packetSubs.add(sub);
    return sub;
  }

  /**
   * Sends every valid packet this server receives on to `target`, unchanged (bundles, timetags and
   * bytes as they came), as it arrives. A packet that cannot be sent is reported with
   * `'forwardError'`. Returns a disposer that stops forwarding.
   */
  forward(target: Sender, options: PacketsOptions = {}): ForwardDisposer {
    return new Forwarding(this.packets(options), target, (error, packet) => {
      debug('forwarding to %s failed: %s', target.url, String(error));
      if (this.listenerCount('forwardError') > 0) this.emit('forwardError', error, packet);
    }).disposer;
  }

  #rawPacket(data: Uint8Array, decoded: Message | Bundle, origin: Origin): void {
    const record = new PacketRecord(
      new Uint8Array(data), // a copy: a TCP frame is a view into a read that may be reused (Buffer.slice would not copy)
      decoded,
      TimeTag.now(),
      () => sourceFor(this.#replies, origin),
      origin.kind === 'tcp' ? origin.link : undefined,
      nextSeq(),
    );
    for (const sub of this.#packetSubs) sub.push(record, record);
  }

  #watch(path: string, watcher: (message: Dispatched) => boolean): () => void {
    let set = this.#watchers.get(path);
    if (set === undefined) {
      set = new Set();
      this.#watchers.set(path, set);
    }
    set.add(watcher);
    return () => {
      const current = this.#watchers.get(path);
      if (current?.delete(watcher) && current.size === 0) this.#watchers.delete(path);
    };
  }
}

/** The connections a TCP listener accepted, and the limits they share. */
interface AcceptPool {
  readonly accepted: Set<StreamLink>;
  readonly maxConnections: number;
  readonly evict: boolean;
  readonly limits: StreamLimits & { readonly budget: ReadBudget };
}

/** What reply addresses need of their server: its UDP or Unix socket, while it runs. */
interface ReplyContext {
  readonly udp: () => DatagramSocket | undefined;
  readonly unix: () => UnixServer | undefined;
}

function sourceFor(context: ReplyContext, origin: Origin): Address {
  return new Address({ [REPLY_SINK]: sinkFor(context, origin) });
}

function sinkFor(context: ReplyContext, origin: Origin): Sink {
  switch (origin.kind) {
    case 'udp': {
      const { address, port, family } = origin.from;
      const host = family === 'IPv6' ? `[${address}]` : address;
      return {
        url: `osc.udp://${host}:${port}/`,
        proto: 'udp',
        send: (packet) => {
          const socket = context.udp();
          if (socket === undefined) {
            return Promise.reject(new SendError('ERR_OSC_CLOSED', 'the server this reply goes from has stopped'));
          }
          return sendUdp(socket, packet, port, address);
        },
      };
    }
    case 'tcp': {
      const link = origin.link;
      const host = link.remoteAddress.includes(':') ? `[${link.remoteAddress}]` : link.remoteAddress;
      return { url: `osc.tcp://${host}:${link.remotePort}/`, proto: 'tcp', send: (packet) => link.write(packet) };
    }
    default: {
      const to = origin.from;
      if (to === null) {
        return {
          url: 'osc.unix://',
          proto: 'unix',
          send: () =>
            Promise.reject(
              new SendError(
                'ERR_OSC_NO_REPLY_PATH',
                'a message from an unbound Unix socket has no reply path (as in liblo)',
              ),
            ),
        };
      }
      return {
        url: `osc.unix://${to}`,
        proto: 'unix',
        send: (packet) => {
          const server = context.unix();
          if (server === undefined) {
            return Promise.reject(new SendError('ERR_OSC_CLOSED', 'the server this reply goes from has stopped'));
          }
          return server.sendTo(packet, to);
        },
      };
    }
  }
}

/** A message on its way to routes; its reply address is made only if someone asks for it. */
class ServerDelivery implements Delivery, Received, Dispatched {
  readonly path: string;
  readonly typetags: string;
  readonly args: readonly OscArg[];
  readonly timetag: TimeTag;
  readonly seq: number;
  readonly holdable: Holdable | undefined;
  readonly connection: StreamLink | undefined;
  readonly #context: ReplyContext;
  readonly #origin: Origin;
  #source: Address | undefined;
  #bytes = -1;

  constructor(
    context: ReplyContext,
    message: Message,
    timetag: TimeTag,
    origin: Origin,
    source: Address | undefined,
    seq: number,
  ) {
    this.path = message.path;
    this.typetags = message.typetags;
    this.args = message.args;
    this.timetag = timetag;
    this.seq = seq;
    this.holdable = origin.kind === 'tcp' ? origin.link : undefined;
    this.connection = origin.kind === 'tcp' ? origin.link : undefined;
    this.#context = context;
    this.#origin = origin;
    this.#source = source;
  }

  get source(): Address {
    this.#source ??= sourceFor(this.#context, this.#origin);
    return this.#source;
  }

  /** Worked out once, on the first subscription that buffers it. */
  get bytes(): number {
    if (this.#bytes < 0) this.#bytes = messageBytes(this.path, this.typetags, this.args);
    return this.#bytes;
  }
}

/**
 * An error from a user's event listener surfaces as an uncaught exception, as it would from any
 * EventEmitter, but only after the server has finished with the packet: its state stays whole.
 */
function rethrowLater(err: unknown): void {
  debug('a listener threw: %s', String(err));
  queueMicrotask(() => {
    throw err;
  });
}

function displayHost(host: string | undefined): string {
  return host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

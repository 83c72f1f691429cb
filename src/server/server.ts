import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { debuglog } from 'node:util';
import { Address, type AddressOptions, type AddressTarget } from '../address/address.js';
import type { MultiCast } from '../address/multicast.js';
import { Bundle } from '../codec/bundle.js';
import { type DecodeOptions, decode } from '../codec/decode.js';
import { OscDecodeError } from '../codec/errors.js';
import type { Message } from '../codec/message.js';
import { isPattern } from '../codec/pattern.js';
import { TimeTag } from '../codec/timetag.js';
import { type AnyArgs, type ArgsOf, type Typespec, typespecString } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';
import type { Framing } from '../transport/framing.js';
import { SERVER_LINK, type ServerLink } from '../transport/link.js';
import type { Sender } from '../transport/sender.js';
import { inOrder } from '../transport/serial-queue.js';
import type { StreamLimits } from '../transport/stream.js';
import { messageBytes } from './bytes.js';
import { canCoerce, coerceArgs } from './coerce.js';
import { Connections } from './connections.js';
import { RouteError } from './errors.js';
import { emptyStats, type ServerEvents, type ServerStats } from './events.js';
import { type ListenerHost, type Listening, listen } from './listen.js';
import { configure, type ServerConfig, type ServerOptions } from './options.js';
import { type ForwardDisposer, Forwarding, type PacketsOptions, type ReceivedPacket } from './packets.js';
import { type Origin, type ReplyContext, ServerDelivery, sourceFor } from './reply.js';
import { type AnyPath, type Incoming, Route } from './route.js';
import { patternRoute, RouteImpl } from './route-impl.js';
import { RouteTable } from './routing.js';
import { Scheduler } from './scheduler.js';
import type { Subscription } from './subscription.js';
import { PacketTaps, Watchers } from './taps.js';

const debug = debuglog('aiolo');

// Arrival order across every server in the process, so that merge() can interleave routes of
// different servers as their messages came.
let seq = 0;
function nextSeq(): number {
  return seq++;
}

interface Scheduled {
  readonly message: Message;
  readonly origin: Origin;
  readonly source: Address | undefined;
  readonly bytes: number;
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
 *
 * This file is the lifecycle, receiving, scheduling and dispatch; the options are `options.ts`,
 * the transports `listen.ts` (a table), the routing table `routing.ts`, reply addresses `reply.ts`.
 */
export class Server extends EventEmitter<ServerEvents> implements AsyncDisposable {
  readonly queue: boolean;
  readonly coerce: boolean;
  /** The multicast group this server is a member of. */
  readonly multicast: MultiCast | undefined;
  readonly #config: ServerConfig;
  readonly #decodeOptions: DecodeOptions;
  readonly #routes = new RouteTable();
  readonly #scheduler: Scheduler<Scheduled>;
  readonly #stats: ServerStats = emptyStats();
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
  /** What waits for a reply at a path (`address.request` from an address sending from this server). */
  readonly #watchers = new Watchers();
  readonly #taps = new PacketTaps(this.#onDrop);
  readonly #connections: Connections;
  /** Whether the message being dispatched reached a consumer. */
  #consumed = false;
  /** The transport listening, while the server runs. */
  #listening: Listening | undefined;
  #port: number | undefined;
  #url: string | undefined;
  /** What earlier sockets of this server dropped (the kernel counts per socket). */
  #dropsBefore = 0;
  /** `start()` and `stop()`, one after another in the order they were called. */
  readonly #lifecycle = inOrder();
  #running = false;
  // From the moment a socket is bound (before start() resolves: a Unix server still sets its
  // file's mode) until stop(): what arrives then is served, not dropped.
  #accepting = false;
  readonly #replies: ReplyContext = { udp: () => this.#listening?.udp, unix: () => this.#listening?.unix };

  /** `new Server('osc.tcp://:9000')` is `new Server({ url: 'osc.tcp://:9000' })`. */
  constructor(options: ServerOptions | string = {}) {
    super();
    const c = configure(options);
    this.#config = c;
    this.multicast = c.multicast;
    this.queue = c.queue;
    this.coerce = c.coerce;
    this.#connections = new Connections(
      {
        packet: (packet, origin) => this.#packet(packet, origin),
        malformed: (error, origin, packet) => this.#malformed(error, origin, packet),
        hangup: (error, link) => {
          debug('hangup: %s', error.message);
          if (this.listenerCount('hangup') === 0) return;
          try {
            this.emit('hangup', error, sourceFor(this.#replies, { kind: 'tcp', link }));
          } catch (e) {
            rethrowLater(e);
          }
        },
      },
      this.#stats,
      c.maxPacketSize,
    );
    this.#decodeOptions = { maxPacketSize: c.maxPacketSize, maxDepth: c.maxDepth, extendedTypes: c.extendedTypes };
    this.#scheduler = new Scheduler((item, timetag) => {
      this.#stats.queued = this.#scheduler.pending;
      this.#stats.queuedBytes -= item.bytes;
      this.#dispatch(item.message, timetag, item.origin, item.source);
    }, rethrowLater);
  }

  get running(): boolean {
    return this.#running;
  }

  /**
   * `'udp'`, `'tcp'` or `'unix'` — or, for a URL with a scheme aiolo does not know
   * (`osc.sctp://`), that scheme as written, which `start()` rejects. `Address.proto` says the same.
   */
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
    const now = this.#listening?.drops?.read();
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
      const existing = this.#routes.find(candidate.path, candidate.typetags);
      if (existing !== undefined) return existing;
      route = candidate;
    }
    if (!this.#routes.add(route)) return route;
    route.dropListeners.add(this.#onDrop);
    route.errorListeners.add(this.#onHandlerError);
    if (this.#running) route.serving(this, true);
    return route;
  }

  /**
   * A route receiving every message whose (literal) path matches `pattern`:
   * `server.match('/avatar/parameters/*', 'f')`. The reverse of OSC's dispatch, where the
   * incoming path is the pattern: here the route's path is. Messages whose path is itself a
   * pattern do not reach pattern routes. The same pattern and typespec again returns the same route.
   */
  match<T extends Typespec = AnyArgs>(pattern: string, typespec?: T): Route<ArgsOf<T>>;
  match(pattern: string, typespec?: Typespec): Route {
    const candidate = patternRoute(pattern, typespec);
    const existing = this.#routes.find(pattern, candidate.typetags, true);
    return existing ?? this.route(candidate);
  }

  /** Removes a route (or the route with this path and typespec); its subscriptions end. */
  unroute(target: Route<readonly OscArg[]> | string | AnyPath, typespec?: Typespec): Route<readonly OscArg[]> {
    const route =
      target instanceof Route
        ? this.#routes.all.has(target as RouteImpl)
          ? (target as RouteImpl)
          : undefined
        : this.#routes.find(target, typespec === undefined ? null : typespecString(typespec));
    if (route === undefined)
      throw new RouteError('ERR_OSC_NOT_ROUTED', `${String(target)} is not routed on this server`);
    this.#routes.remove(route);
    route.dropListeners.delete(this.#onDrop);
    route.errorListeners.delete(this.#onHandlerError);
    route.serving(this, false);
    return route;
  }

  /** The routes registered, in registration order. */
  get routes(): readonly Route<readonly OscArg[]>[] {
    return [...this.#routes.all];
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
    return this.#lifecycle(() => (this.#running ? undefined : this.#start())).then(() => this as Started<this>);
  }

  async #start(): Promise<void> {
    this.#accepting = true;
    try {
      const listening = await listen(this.#config, this.#listenerHost);
      this.#listening = listening;
      this.#port = listening.port;
      this.#url = listening.url;
    } catch (err) {
      this.#accepting = false;
      throw err;
    }
    this.#running = true;
    for (const route of this.#routes.all) route.serving(this, true);
    debug('server started at %s', this.#url);
  }

  /** What the transports call back: packets, and for TCP its connections. */
  readonly #listenerHost: ListenerHost = {
    packet: (packet, origin) => this.#packet(packet, origin),
    attach: (socket, limits, release) => this.#connections.attach(socket, undefined, limits, release),
    accepted: (link) => {
      if (this.listenerCount('connection') > 0)
        this.emit('connection', sourceFor(this.#replies, { kind: 'tcp', link }));
    },
    refused: (remote) => {
      this.#stats.refused++;
      if (this.listenerCount('refused') > 0) this.emit('refused', remote);
    },
    buffered: (bytes) => {
      this.#stats.buffered = bytes;
    },
  };

  /**
   * Stops: closes every socket and connection, removes the Unix socket file, drops bundled
   * messages still waiting, and ends every subscription (after what it has buffered). Idempotent.
   */
  stop(): Promise<void> {
    return this.#lifecycle(() => (this.#running ? this.#stop() : undefined));
  }

  async #stop(): Promise<void> {
    this.#running = false;
    this.#accepting = false;
    const listening = this.#listening;
    this.#listening = undefined; // replies from now on reject: the server has stopped
    const drops = listening?.drops?.read();
    if (drops !== undefined) this.#stats.kernelDropped = this.#dropsBefore += drops;
    try {
      this.#scheduler.clear();
      this.#stats.queued = 0;
      this.#stats.queuedBytes = 0;
      // a TCP listener's close() waits for its connections, so they are closed while it waits
      const closing = listening?.close();
      // (an address sending from this server may attach a connection while we close)
      await this.#connections.closeAll();
      await closing;
    } finally {
      this.#connections.forget();
      this.#port = undefined;
      this.#url = undefined;
      for (const route of this.#routes.all) route.serving(this, false);
      this.#taps.end();
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
      datagramSocket: this.#listening?.udp,
      attachStream: (socket: Socket, writeFraming: Framing, limits?: StreamLimits) =>
        this.#connections.attach(socket, writeFraming, limits, undefined),
      watch: (path, watcher) => this.#watchers.watch(path, watcher),
    };
  }

  // ---- receiving

  /** Every packet of every transport comes in here: decoded, then dispatched or scheduled. */
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
    if (this.#taps.size > 0) {
      const holdable = origin.kind === 'tcp' ? origin.link : undefined;
      this.#taps.push(packet, decoded, () => sourceFor(this.#replies, origin), holdable, nextSeq());
    }
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

  // ---- scheduling

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
    const c = this.#config;
    const bytes = messageBytes(message.path, message.typetags, message.args);
    const reason =
      this.#scheduler.pending >= c.maxQueued || this.#stats.queuedBytes + bytes > c.maxQueuedBytes
        ? 'full'
        : timetag.diff(now) > c.maxScheduleAhead
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

  // ---- dispatch

  #dispatch(message: Message, timetag: TimeTag, origin: Origin, source: Address | undefined): void {
    if (!this.#accepting) return;
    this.#stats.messages++;
    this.#consumed = false;
    const path = message.path;
    const routes = this.#routes;
    let delivery: ServerDelivery | undefined;
    // routes made by match() whose pattern matches this (literal) path; found before any delivery,
    // so that a path too costly to match reaches no route at all
    let byPattern: RouteImpl[] | undefined;
    if (routes.patterns.length > 0) {
      const found = routes.byRoutePattern(path, this.#config.maxPatternSteps);
      if (typeof found === 'string') {
        this.#tooCostly(found, origin);
        return;
      }
      byPattern = found;
    }
    const direct = routes.literal.get(path);
    if (direct !== undefined) {
      for (const route of direct) delivery = this.#offer(route, message, timetag, origin, source, delivery);
    } else if (routes.literal.size > 0 && isPattern(path)) {
      // (a pattern can only match literal routes: a server with none skips the scan)
      const matched = routes.byIncomingPattern(path, this.#config.maxPatternSteps);
      if (typeof matched === 'string') {
        this.#tooCostly(matched, origin); // delivered nowhere
        return;
      }
      for (const list of matched) {
        for (const route of list) delivery = this.#offer(route, message, timetag, origin, source, delivery);
      }
    }
    if (byPattern !== undefined) {
      for (const route of byPattern) delivery = this.#offer(route, message, timetag, origin, source, delivery);
    }
    for (const route of routes.anyPath) delivery = this.#offer(route, message, timetag, origin, source, delivery);
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

  /** A message whose path would cost more to match than one may: rejected whole, reported as malformed. */
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

  // ---- raw packets and forwarding

  /**
   * Every valid packet this server receives, as it arrives (before a bundle waits for its time):
   * its bytes, the decoded packet, its source and its arrival time. Bounded like a subscription
   * (`highWaterMark`, `highWaterBytes`, `overflow`, `signal`); ends when the server stops.
   */
  packets(options: PacketsOptions = {}): Subscription<ReceivedPacket, null> {
    return this.#taps.subscribe(options);
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

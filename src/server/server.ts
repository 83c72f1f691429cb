import { EventEmitter } from 'node:events';
import { debuglog } from 'node:util';
import { Address, type AddressOptions, type AddressTarget } from '../address/address.js';
import type { MultiCast } from '../address/multicast.js';
import type { AnyArgs, ArgsOf, Typespec } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';
import { SERVER_LINK, type ServerLink } from '../transport/link.js';
import { preciseTimers } from '../transport/native.js';
import type { Sender } from '../transport/sender.js';
import { inOrder } from '../transport/serial-queue.js';
import { Connections } from './connections.js';
import { Dispatcher } from './dispatcher.js';
import { emptyStats, type ServerEvents, type ServerStats } from './events.js';
import { type ListenerHost, type Listening, listen } from './listen.js';
import { rethrowLater, setDebugLog } from './log.js';
import { configure, type ServerConfig, type ServerOptions } from './options.js';
import { type ForwardDisposer, Forwarding, type PacketsOptions, type ReceivedPacket } from './packets.js';
import { type Origin, type ReplyContext, ServerDelivery, sourceFor } from './reply.js';
import type { AnyPath, Route } from './route.js';
import type { RouteInfo } from './route-info.js';
import type { Subscription } from './subscription.js';

const debug = debuglog('aiolo');
setDebugLog(debug);

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
  readonly #stats: ServerStats = emptyStats();
  /** Routes, the schedule, and what is done with each packet. */
  readonly #core: Dispatcher<Origin>;
  readonly #connections: Connections;
  /** The transport listening, while the server runs. */
  #listening: Listening | undefined;
  #port: number | undefined;
  #url: string | undefined;
  /** What earlier sockets of this server dropped (the kernel counts per socket). */
  #dropsBefore = 0;
  /** `start()` and `stop()`, one after another in the order they were called. */
  readonly #lifecycle = inOrder();
  #running = false;
  readonly #replies: ReplyContext = { udp: () => this.#listening?.udp, unix: () => this.#listening?.unix };

  /** `new Server('osc.tcp://:9000')` is `new Server({ url: 'osc.tcp://:9000' })`. */
  constructor(options: ServerOptions | string = {}) {
    super();
    const c = configure(options);
    this.#config = c;
    this.multicast = c.multicast;
    this.queue = c.queue;
    this.coerce = c.coerce;
    this.#core = new Dispatcher<Origin>(
      c,
      this.#stats,
      {
        delivery: (message, timetag, origin, seq) => new ServerDelivery(this.#replies, message, timetag, origin, seq),
        source: (origin) => sourceFor(this.#replies, origin),
        holdable: (origin) => (origin.kind === 'link' ? origin.link : undefined),
        enumerates: (origin) => origin.kind === 'udp',
        listens: (event) => this.listenerCount(event) > 0,
        malformed: (error, origin, packet) => {
          if (this.listenerCount('malformed') > 0)
            this.emit('malformed', error, sourceFor(this.#replies, origin), packet);
        },
        unmatched: (message) => this.emit('unmatched', message),
        scheduleOverflow: (message, reason) => this.emit('scheduleOverflow', message, reason),
        overflow: (sub, dropped) => this.emit('overflow', sub, dropped),
        handlerError: (error, message) => {
          if (this.listenerCount('handlerError') === 0) return false;
          try {
            this.emit('handlerError', error, message);
          } catch (err) {
            rethrowLater(err); // the user's listener threw, as for any event
          }
          return true;
        },
      },
      preciseTimers,
    );
    this.#connections = new Connections(
      {
        packet: (packet, origin) => this.#packet(packet, origin),
        malformed: (error, origin, packet) => this.#core.malformed(error, origin, packet),
        hangup: (error, link) => {
          debug('hangup: %s', error.message);
          if (this.listenerCount('hangup') === 0) return;
          try {
            this.emit('hangup', error, sourceFor(this.#replies, { kind: 'link', link }));
          } catch (e) {
            rethrowLater(e);
          }
        },
        disconnected: (link) => {
          if (this.listenerCount('disconnect') === 0) return;
          try {
            this.emit('disconnect', sourceFor(this.#replies, { kind: 'link', link }));
          } catch (e) {
            rethrowLater(e);
          }
        },
      },
      this.#stats,
      c.maxPacketSize,
    );
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
    return this.#core.pending > 0;
  }

  /** Seconds until the next bundled message is due (0 if overdue; 100 at most, and when none is). */
  get nextEventDelay(): number {
    return this.#core.nextEventDelay;
  }

  // ---- routes

  /**
   * Registers a route: `server.route('/foo', 'hdm')` is a `Route<[bigint, number, Midi]>`;
   * without a typespec it takes any arguments. A route already registered with the same path and
   * typespec is returned again (with `info`, if given, as its new description). `info` describes
   * it to peers that ask (OSCQuery): range, unit, description... `server.route(route)` registers
   * a Route made elsewhere.
   */
  route<T extends Typespec = AnyArgs>(path: string | AnyPath, typespec?: T, info?: RouteInfo): Route<ArgsOf<T>>;
  route<R extends Route<readonly OscArg[]>>(route: R): R;
  route(
    target: string | AnyPath | Route<readonly OscArg[]>,
    typespec?: Typespec,
    info?: RouteInfo,
  ): Route<readonly OscArg[]> {
    const before = this.#core.size;
    const route = this.#core.route(target, typespec, info);
    if (this.#core.size > before && this.listenerCount('route') > 0) this.emit('route', route);
    return route;
  }

  /**
   * A route receiving every message whose (literal) path matches `pattern`:
   * `server.match('/avatar/parameters/*', 'f')`. The reverse of OSC's dispatch, where the
   * incoming path is the pattern: here the route's path is. Messages whose path is itself a
   * pattern do not reach pattern routes. The same pattern and typespec again returns the same route.
   */
  match<T extends Typespec = AnyArgs>(pattern: string, typespec?: T, info?: RouteInfo): Route<ArgsOf<T>> {
    const before = this.#core.size;
    const route = this.#core.match(pattern, typespec, info);
    if (this.#core.size > before && this.listenerCount('route') > 0) this.emit('route', route as Route);
    return route;
  }

  /** Removes a route (or the route with this path and typespec); its subscriptions end. */
  unroute(target: Route<readonly OscArg[]> | string | AnyPath, typespec?: Typespec): Route<readonly OscArg[]> {
    const route = this.#core.unroute(target, typespec);
    if (this.listenerCount('unroute') > 0) this.emit('unroute', route);
    return route;
  }

  /** The routes registered, in registration order. */
  get routes(): readonly Route<readonly OscArg[]>[] {
    return this.#core.routes;
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
    this.#core.accepting = true;
    try {
      const listening = await listen(this.#config, this.#listenerHost);
      this.#listening = listening;
      this.#port = listening.port;
      this.#url = listening.url;
    } catch (err) {
      this.#core.accepting = false;
      throw err;
    }
    this.#running = true;
    this.#core.serving(true);
    debug('server started at %s', this.#url);
  }

  /** What the transports call back: packets, and for TCP its connections. */
  readonly #listenerHost: ListenerHost = {
    packet: (packet, origin) => this.#packet(packet, origin),
    adopt: (make, release) => this.#connections.adopt(make, release),
    accepted: (link) => {
      if (this.listenerCount('connection') > 0)
        this.emit('connection', sourceFor(this.#replies, { kind: 'link', link }));
    },
    lost: (link) => {
      if (this.listenerCount('disconnect') === 0) return;
      try {
        this.emit('disconnect', sourceFor(this.#replies, { kind: 'link', link }));
      } catch (e) {
        rethrowLater(e);
      }
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
    this.#core.accepting = false;
    const listening = this.#listening;
    this.#listening = undefined; // replies from now on reject: the server has stopped
    const drops = listening?.drops?.read();
    if (drops !== undefined) this.#stats.kernelDropped = this.#dropsBefore += drops;
    try {
      // a TCP listener's close() waits for its connections, so they are closed while it waits
      const closing = listening?.close();
      // (an address sending from this server may attach a connection while we close)
      await this.#connections.closeAll();
      await closing;
    } finally {
      this.#connections.forget();
      this.#port = undefined;
      this.#url = undefined;
      this.#core.serving(false);
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
      serialLink: this.#listening?.serial,
      adopt: (make) => this.#connections.adopt(make, undefined),
      watch: (path, watcher) => this.#core.watch(path, watcher),
    };
  }

  // ---- receiving

  /**
   * Every packet of every transport comes in here. From the moment a socket is bound (before
   * start() resolves: a Unix server still sets its file's mode) until stop(), it is served.
   */
  #packet(packet: Uint8Array, origin: Origin): void {
    this.#core.packet(packet, origin);
  }

  // ---- raw packets and forwarding

  /**
   * Every valid packet this server receives, as it arrives (before a bundle waits for its time):
   * its bytes, the decoded packet, its source and its arrival time. Bounded like a subscription
   * (`highWaterMark`, `highWaterBytes`, `overflow`, `signal`); ends when the server stops.
   */
  packets(options: PacketsOptions = {}): Subscription<ReceivedPacket, null> {
    return this.#core.packets(options);
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

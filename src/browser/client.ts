// A Client: one bidirectional OSC endpoint over a WebSocket, one packet per binary frame (the
// convention of osc.js, osc-js and OSCQuery). Routes and subscriptions as on a Server (the same
// dispatch core), sending as from an Address (it is a Sender), and the connection kept up by
// itself: reconnects with backoff, sends held while it is down. No Node imports.

import { type Received, type ReplyArgs, type ReplyAt, ReplyWaiter, type RequestOptions } from '../address/reply.js';
import { OscDecodeError } from '../codec/errors.js';
import type { ArgsTarget, MessageTarget, SendArgs, TypedPath } from '../codec/message.js';
import type { AnyArgs, ArgsOf, Typespec } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';
import { type DispatchEvents, type DispatchStats, emptyDispatchStats } from '../server/dispatch-report.js';
import { Dispatcher } from '../server/dispatcher.js';
import { debug } from '../server/log.js';
import type { PacketsOptions, ReceivedPacket } from '../server/packets.js';
import type { AnyPath, Route } from '../server/route.js';
import type { Subscription } from '../server/subscription.js';
import { checkTimeout, type WaitOptions, withDeadline } from '../transport/deadline.js';
import { OscClosedError, SendError } from '../transport/errors.js';
import { Sender } from '../transport/sender.js';
import { ClientDelivery } from './delivery.js';
import { Emitter, type ListenerDisposer } from './emitter.js';
import { type ClientConfig, type ClientOptions, configure, DEFAULT_REQUEST_TIMEOUT } from './options.js';
import { Outbox } from './outbox.js';
import { type ClientState, type CloseInfo, ReconnectingSocket } from './socket.js';
import { websocketUrl } from './url.js';

/**
 * The counters of `client.stats`: what was received and dispatched (a Server's too,
 * {@link DispatchStats}), sent, held, and reconnections.
 */
export interface ClientStats extends DispatchStats {
  /** Packets handed to the WebSocket. */
  sent: number;
  /** Their bytes. */
  sentBytes: number;
  /** Sends rejected: the send queue or the write buffer was full, the WebSocket refused, or the client closed. */
  sendRejected: number;
  /** Packets held right now until a connection opens. */
  sendQueue: number;
  /** Their bytes (bounded by `maxSendQueueBytes`). */
  sendQueueBytes: number;
  /** Bytes the WebSocket has not yet written (`bufferedAmount`; bounded by `maxWriteBuffer`). */
  buffered: number;
  /** Connections opened after the first. */
  reconnects: number;
  /** Connection attempts that failed before opening. */
  connectFailures: number;
}

/** The events of a Client (`client.on(event, listener)`), with their arguments. None is ever thrown. */
export interface ClientEvents extends DispatchEvents {
  /** A connection opened (the first, or again after a drop); held sends have just been handed to it. */
  open: [];
  /** A connection that had opened closed: a drop (the client reconnects) or `close()`. */
  close: [info: CloseInfo];
  /** The next connection attempt is in `delay` ms (the `attempt`th since the last stable connection). */
  reconnecting: [delay: number, attempt: number];
  /** A frame that is not a valid OSC packet (a text frame: `ERR_OSC_TEXT_FRAME`); the client goes on. */
  malformed: [error: OscDecodeError, packet: Uint8Array];
}

const encoder = new TextEncoder();

/**
 * An OSC endpoint over one WebSocket connection, for a browser page (or Node, with `ws`):
 * routes and subscriptions as a Server has, `send`/`bundle`/`request` as an Address has. It
 * connects at once and reconnects after a drop, forever until `close()`; see {@link ClientOptions}.
 *
 * ```ts
 * const osc = new Client('ws://localhost:8080/');
 * const fader = osc.route('/fader', 'f');
 * fader.on(([v]) => console.log(v));
 * await osc.send('/fader', 0.5);
 * ```
 */
export class Client extends Sender implements AsyncDisposable {
  /** The WebSocket URL connected to (`ws://` or `wss://`). */
  readonly url: string;
  /** `'ws'` (for `wss://` too). */
  readonly proto = 'ws';
  readonly #config: ClientConfig;
  readonly #stats: ClientStats;
  readonly #core: Dispatcher<null>;
  readonly #socket: ReconnectingSocket;
  readonly #outbox: Outbox;
  readonly #events = new Emitter<ClientEvents>();
  /** Rejects when the client closes: what requests and `open()` waiting race against. */
  readonly #whenClosed: Promise<never>;
  #rejectClosed!: (err: unknown) => void;
  #closing: Promise<void> | undefined;
  readonly #onAbort = (): void => {
    void this.close();
  };

  /**
   * `new Client('ws://host:port/path')`; also `wss://`, `osc.ws://host:port/path`, or a path
   * (`'/osc'`) resolved against the page's location (`wss:` on an `https:` page). Throws
   * `OscConfigError` for a URL or option it cannot use.
   */
  constructor(url: string, options: ClientOptions = {}) {
    super();
    const config = configure(options);
    this.url = websocketUrl(url);
    this.#config = config;
    this.#stats = {
      ...emptyDispatchStats(),
      sent: 0,
      sentBytes: 0,
      sendRejected: 0,
      sendQueue: 0,
      sendQueueBytes: 0,
      buffered: 0,
      reconnects: 0,
      connectFailures: 0,
    };
    this.#outbox = new Outbox(config.maxSendQueueBytes);
    this.#whenClosed = new Promise<never>((_, reject) => {
      this.#rejectClosed = reject;
    });
    this.#whenClosed.catch(() => {}); // (only waiters observe it)
    const events = this.#events;
    this.#core = new Dispatcher<null>(config, this.#stats, {
      delivery: (message, timetag, _origin, seq) => new ClientDelivery(message, timetag, this, seq),
      source: () => this,
      holdable: () => undefined,
      enumerates: () => false, // liblo answers namespace queries over UDP only
      listens: (event) => events.listenerCount(event) > 0,
      malformed: (error, _origin, packet) => events.emit('malformed', error, packet),
      unmatched: (message) => events.emit('unmatched', message),
      scheduleOverflow: (message, reason) => events.emit('scheduleOverflow', message, reason),
      overflow: (sub, dropped) => events.emit('overflow', sub, dropped),
      handlerError: (error, message) => {
        if (events.listenerCount('handlerError') === 0) return false;
        events.emit('handlerError', error, message);
        return true;
      },
    });
    // routes are served from now until close(), across reconnections
    this.#core.accepting = true;
    this.#core.serving(true);
    this.#socket = new ReconnectingSocket(this.url, config.WebSocket, config.protocols, config.backoff, {
      opened: () => this.#opened(),
      closed: (info, retryIn) => {
        debug('connection to %s closed (%d)', this.url, info.code);
        events.emit('close', info);
        if (retryIn !== undefined) events.emit('reconnecting', retryIn, this.#attempts());
      },
      failed: (retryIn, error) => {
        this.#stats.connectFailures++;
        debug('connecting to %s failed: %s', this.url, String(error));
        if (retryIn !== undefined) events.emit('reconnecting', retryIn, this.#attempts());
      },
      binary: (packet) => this.#core.packet(packet, null),
      text: (text) => this.#text(text),
      ended: () => {
        void this.close();
      },
    });
    const signal = config.signal;
    if (signal?.aborted) {
      void this.close();
      return;
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#socket.start();
  }

  #attempts(): number {
    return this.#stats.connectFailures + this.#stats.reconnects + (this.#socket.opens > 0 ? 1 : 0);
  }

  /** `'connecting'` (the first time), `'open'`, `'reconnecting'` (after a drop), or `'closed'` (after `close()`). */
  get state(): ClientState {
    return this.#socket.state;
  }

  /** Counters, updated as the client runs. */
  get stats(): Readonly<ClientStats> {
    this.#stats.sendQueue = this.#outbox.size;
    this.#stats.sendQueueBytes = this.#outbox.bytes;
    this.#stats.buffered = this.#socket.bufferedAmount;
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

  // ---- events

  /** Calls `listener` on each `event` until the returned disposer is called. */
  on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): ListenerDisposer {
    return this.#events.on(event, listener);
  }

  /** Calls `listener` on the next `event` only (the disposer cancels it). */
  once<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): ListenerDisposer {
    return this.#events.once(event, listener);
  }

  // ---- routes (as a Server's)

  /**
   * Registers a route: `client.route('/fader', 'f')` is a `Route<[number]>`; without a typespec
   * it takes any arguments. The same path and typespec again returns the same route.
   */
  route<T extends Typespec = AnyArgs>(path: string | AnyPath, typespec?: T): Route<ArgsOf<T>>;
  route<R extends Route<readonly OscArg[]>>(route: R): R;
  route(target: string | AnyPath | Route<readonly OscArg[]>, typespec?: Typespec): Route<readonly OscArg[]> {
    return this.#core.route(target, typespec);
  }

  /** A route receiving every message whose literal path matches `pattern`: `client.match('/avatar/parameters/*', 'f')`. */
  match<T extends Typespec = AnyArgs>(pattern: string, typespec?: T): Route<ArgsOf<T>> {
    return this.#core.match(pattern, typespec);
  }

  /** Removes a route (or the route with this path and typespec); its subscriptions end. */
  unroute(target: Route<readonly OscArg[]> | string | AnyPath, typespec?: Typespec): Route<readonly OscArg[]> {
    return this.#core.unroute(target, typespec);
  }

  /** The routes registered, in registration order. */
  get routes(): readonly Route<readonly OscArg[]>[] {
    return this.#core.routes;
  }

  /** Every valid packet received, as it arrives (before a bundle waits for its time). Ends at `close()`. */
  packets(options: PacketsOptions = {}): Subscription<ReceivedPacket, null> {
    return this.#core.packets(options);
  }

  // ---- connection

  /**
   * Resolves with the client once a connection is open: at once if it is. The client connects by
   * itself from construction; this only waits. Rejects with `OscClosedError` if the client closes
   * first, and as `WaitOptions` say (`timeout`, `signal`).
   */
  open(options: WaitOptions = {}): Promise<this> {
    try {
      checkTimeout(options.timeout);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.state === 'open') return Promise.resolve(this);
    if (this.state === 'closed') return Promise.reject(new OscClosedError(`${this} is closed`));
    let dispose: ListenerDisposer | undefined;
    const opened = new Promise<this>((resolve) => {
      dispose = this.once('open', () => resolve(this));
    });
    return withDeadline(Promise.race([opened, this.#whenClosed]), options, `${this}.open()`, () => dispose?.());
  }

  #opened(): void {
    if (this.#socket.opens > 1) this.#stats.reconnects++;
    debug('connected to %s', this.url);
    // what was sent while down goes first, in order, before anything an 'open' listener sends
    this.#outbox.flush(
      (packet) => this.#write(packet),
      () => this.#socket.state === 'open',
    );
    this.#events.emit('open');
  }

  #text(text: string): void {
    this.#stats.packets++;
    const bytes = text.length * 3 <= this.#config.maxPacketSize ? encoder.encode(text) : new Uint8Array(0);
    this.#core.malformed(
      new OscDecodeError('ERR_OSC_TEXT_FRAME', 0, 'a WebSocket text frame: OSC packets come in binary frames'),
      null,
      bytes,
    );
  }

  /**
   * Closes the connection and stops reconnecting: sends still held reject with `SendError`
   * `ERR_OSC_CLOSED`, bundled messages waiting for their time are dropped, subscriptions end after
   * what they hold, requests and `open()` waiting reject with `OscClosedError`. Resolves once the
   * WebSocket has closed. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#config.signal?.removeEventListener('abort', this.#onAbort);
    const socketClosed = this.#socket.close(); // (the state is 'closed' from here)
    this.#core.accepting = false;
    this.#core.serving(false);
    this.#outbox.rejectAll(new SendError('ERR_OSC_CLOSED', `${this} closed before it could send this`));
    this.#rejectClosed(new OscClosedError(`${this} closed`));
    const info = await socketClosed;
    debug('client %s closed', this.url);
    if (info !== undefined) this.#events.emit('close', info);
  }

  /** Closes the client at the end of an `await using` scope, as `close()` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  override toString(): string {
    return `Client(${this.url})`;
  }

  // ---- sending

  /**
   * Hands one packet to the WebSocket, or holds it until a connection opens. Resolves with its
   * size once the WebSocket has it; never drops it in silence.
   */
  protected sendPacket(packet: Uint8Array): Promise<number> {
    const state = this.#socket.state;
    if (state === 'closed') return this.#reject(new SendError('ERR_OSC_CLOSED', `${this} is closed`));
    if (state !== 'open' || this.#outbox.size > 0) {
      const held = this.#outbox.hold(packet);
      held.catch(() => {
        this.#stats.sendRejected++;
      });
      return held;
    }
    const buffered = this.#socket.bufferedAmount;
    if (buffered > 0 && buffered + packet.length > this.#config.maxWriteBuffer) {
      return this.#reject(
        new SendError(
          'ERR_OSC_WRITE_BUFFER_FULL',
          `${this}: ${buffered} bytes wait to be written (maxWriteBuffer ${this.#config.maxWriteBuffer}); ` +
            `this ${packet.length}-byte packet is not sent`,
        ),
      );
    }
    try {
      return Promise.resolve(this.#write(packet));
    } catch (err) {
      return this.#reject(err);
    }
  }

  #write(packet: Uint8Array): number {
    try {
      this.#socket.send(packet);
    } catch (err) {
      throw new SendError('ERR_OSC_SEND_FAILED', `${this}: the WebSocket refused the packet`, { cause: err });
    }
    this.#stats.sent++;
    this.#stats.sentBytes += packet.length;
    return packet.length;
  }

  #reject(err: unknown): Promise<never> {
    this.#stats.sendRejected++;
    return Promise.reject(err);
  }

  // ---- request/reply

  /**
   * Sends a message and resolves with the first message at `options.reply` (default: the same
   * path) that comes back on this client's connection, as a {@link Received} record (typed by a
   * `{ path, typespec }` or route given as `reply`). Rejects with `OscTimeoutError` after
   * `timeout` ms (default 5000), `OscAbortError` when `signal` aborts, `OscClosedError` when the
   * client closes, or the send's `SendError`/`OscEncodeError`. While the client is not connected
   * the request is held with the other sends; its timeout runs all the same. The reply also
   * reaches the routes at its path. Concurrent requests for the same path take replies in order.
   */
  request<X extends MessageTarget, R extends ReplyAt = string>(
    target: X,
    args?: Readonly<SendArgs<X>>,
    options?: RequestOptions<R>,
  ): Promise<Received<ReplyArgs<R>>>;
  request(
    target: string | TypedPath | ArgsTarget<readonly OscArg[]>,
    args: readonly OscArg[] = [],
    options: RequestOptions<ReplyAt> = {},
  ): Promise<Received> {
    let waiter: ReplyWaiter;
    let timeout: number | undefined;
    const what = `request ${typeof target === 'string' ? target : String(target.path)} to ${this.url}`;
    try {
      timeout = checkTimeout(options.timeout ?? DEFAULT_REQUEST_TIMEOUT);
      const replyAt = options.reply ?? (typeof target === 'string' ? target : (target.path as string));
      waiter = new ReplyWaiter(replyAt, options.match as ((r: Received) => boolean) | undefined, undefined);
    } catch (err) {
      return Promise.reject(err);
    }
    const signal = options.signal;
    if (signal?.aborted) return withDeadline(new Promise<never>(() => {}), { signal }, what, () => {});
    if (this.state === 'closed') return Promise.reject(new OscClosedError(`${what}: the client is closed`));
    const stop = this.#core.watch(waiter.path, (m) => waiter.offer(m));
    const sent = (this.send as (t: unknown, ...a: readonly OscArg[]) => Promise<number>)(target, ...args);
    const both = Promise.all([waiter.promise, sent]).then(([reply]) => reply);
    return withDeadline(Promise.race([both, this.#whenClosed]), { timeout, signal }, what, () => {
      waiter.cancel();
      stop();
    });
  }
}

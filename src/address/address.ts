import { connect, type Socket } from 'node:net';
import { debuglog } from 'node:util';
import { Bundle } from '../codec/bundle.js';
import { DEFAULT_MAX_PACKET_SIZE, decode } from '../codec/decode.js';
import type { ArgsTarget, Message, MessageTarget, SendArgs, TypedPath } from '../codec/message.js';
import { TimeTag } from '../codec/timetag.js';
import type { OscArg } from '../codec/values.js';
import type { DatagramPort } from '../transport/datagram.js';
import { checkTimeout, withDeadline } from '../transport/deadline.js';
import { SendError } from '../transport/errors.js';
import type { Framing } from '../transport/framing.js';
import { type Link, type LinkHandlers, SERVER_LINK, type ServerLink, type Sink } from '../transport/link.js';
import { Sender } from '../transport/sender.js';
import { openSerial, SerialLink, type SerialSettings } from '../transport/serial.js';
import { type StreamLimits, StreamLink } from '../transport/stream.js';
import { closeUdp, interfaceAddress, isBroadcastAddress, openUdp, resolveHost, sendUdp } from '../transport/udp.js';
import { openUnixClient, type UnixClient } from '../transport/unix.js';
import { bracketHost, isMulticastAddress } from '../transport/url.js';
import { connectWs, webSocketUrl } from '../transport/ws.js';
import { WsLink } from '../transport/ws-link.js';
import { type AddressOptions, type AddressTarget, configure, REPLY_SINK, type ReplyTarget } from './options.js';
import {
  type Received,
  type ReplyArgs,
  type ReplyAt,
  type ReplyCandidate,
  ReplyWaiter,
  type RequestOptions,
} from './reply.js';

const debug = debuglog('aiolo');
const NOTHING_TO_STOP = (): void => {};

export type { AddressOptions, AddressTarget } from './options.js';

/** How long `request()` waits for a reply unless told otherwise, in milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT = 5000;

/** Whether a send that failed with its connection may be tried once more on a new one. */
function retriable(err: unknown): boolean {
  const code = (err as SendError).code;
  return code !== 'ERR_OSC_WRITE_BUFFER_FULL' && code !== 'ERR_OSC_WRITE_TIMEOUT';
}

/**
 * A destination for OSC packets: `new Address({ url: 'osc.udp://localhost:9000/' })`,
 * `new Address({ port: 9000 })` (UDP to localhost), `new Address({ host, port, proto: 'tcp' }, { slip: true })`.
 * Sockets and connections open on the first send and are kept for reuse; a dropped TCP connection
 * is opened again on the next send. `close()` releases them.
 */
export class Address extends Sender implements AsyncDisposable {
  readonly url: string;
  /**
   * `'udp'`, `'tcp'` or `'unix'` — or, for a URL with a scheme aiolo does not know (`osc.sctp://`),
   * that scheme as written, to which sends reject with `ERR_OSC_UNKNOWN_PROTOCOL`. `Server.proto`
   * says the same.
   */
  readonly proto: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  /** The socket path of a Unix address; the device of a serial one. */
  readonly path: string | undefined;
  readonly #serial: SerialSettings | undefined;
  /** The link is a server's (its own serial device): this address sends on it and does not close it. */
  #borrowed = false;
  readonly #options: AddressOptions;
  readonly #reply: Sink | undefined;
  #udp: { socket: DatagramPort; own: boolean; address: string } | undefined;
  #serverTarget: string | undefined;
  #udpOpening: Promise<{ socket: DatagramPort; own: boolean; address: string }> | undefined;
  /** TCP and WebSocket: the connection, while open. */
  #link: Link | undefined;
  #linkOpening: Promise<Link> | undefined;
  #connecting: Socket | undefined;
  #unix: Promise<UnixClient> | undefined;
  #closed = false;
  readonly #maxPacketSize: number;
  readonly #limits: StreamLimits;

  /** `new Address('osc.udp://host:9000')` is `new Address({ url: 'osc.udp://host:9000' })`. */
  constructor(target: AddressTarget | ReplyTarget | string, options: AddressOptions = {}) {
    super();
    const c = configure(target, options);
    this.#options = options;
    this.#reply = c.reply;
    this.#maxPacketSize = c.maxPacketSize;
    this.#limits = c.limits;
    this.proto = c.proto;
    this.url = c.url;
    this.host = c.host;
    this.port = c.port;
    this.path = c.path;
    this.#serial = c.serial;
  }

  /** Whether `close()` was called. A closed address refuses to send. */
  get closed(): boolean {
    return this.#closed;
  }

  protected sendPacket(packet: Uint8Array): Promise<number> {
    if (this.#reply !== undefined) return this.#reply.send(packet);
    if (this.#closed) return Promise.reject(new SendError('ERR_OSC_CLOSED', `address ${this.url} is closed`));
    if (packet.length > this.#maxPacketSize) {
      // refused here rather than by the peer: a TCP server closes the connection on an oversized
      // frame, and whatever was sent after it would "succeed" into a closed socket
      return Promise.reject(
        new SendError(
          'ERR_OSC_PACKET_TOO_LARGE',
          `a ${packet.length}-byte packet is larger than maxPacketSize (${this.#maxPacketSize}) of ${this.url}`,
        ),
      );
    }
    switch (this.proto) {
      case 'udp': {
        // the common case without a promise of its own: an open socket of this address's own
        const udp = this.#options.server === undefined ? this.#udp : undefined;
        if (udp !== undefined) return sendUdp(udp.socket, packet, this.port as number, udp.address);
        return this.#sendUdp(packet);
      }
      case 'tcp':
      case 'ws':
      case 'serial':
        return this.#sendLink(packet);
      case 'unix':
        return this.#sendUnix(packet);
      default:
        return Promise.reject(
          new SendError(
            'ERR_OSC_UNKNOWN_PROTOCOL',
            `protocol '${this.proto}' is not supported; use udp, tcp, unix, ws or serial`,
          ),
        );
    }
  }

  async #sendUdp(packet: Uint8Array): Promise<number> {
    const server = this.#options.server;
    if (server !== undefined) {
      const notRunning = () =>
        new SendError('ERR_OSC_CLOSED', `the server ${this.url} is sent from is not running (UDP)`);
      const first = server[SERVER_LINK].datagramSocket;
      if (first === undefined) throw notRunning();
      this.#serverTarget ??= (
        await resolveHost(this.host ?? 'localhost', first.address().family === 'IPv6' ? 6 : 4)
      ).address;
      // the server's socket of the moment: it changes when the server restarts or stops
      const socket = server[SERVER_LINK].datagramSocket;
      if (socket === undefined) throw notRunning();
      return sendUdp(socket, packet, this.port as number, this.#serverTarget);
    }
    if (this.#udp === undefined) this.#udpOpening ??= this.#openUdp();
    const udp = this.#udp ?? (await this.#udpOpening);
    if (udp === undefined) throw new SendError('ERR_OSC_CLOSED', `address ${this.url} is closed`);
    return sendUdp(udp.socket, packet, this.port as number, udp.address);
  }

  async #openUdp(): Promise<{ socket: DatagramPort; own: boolean; address: string }> {
    try {
      const { address, family } = await resolveHost(this.host ?? 'localhost');
      const multicast = isMulticastAddress(address);
      const broadcast = family === 4 && !multicast && isBroadcastAddress(address);
      let socket: DatagramPort;
      try {
        socket = await openUdp(family, !multicast && !broadcast, async (dgram) => {
          const bind = () =>
            new Promise<void>((resolve, reject) => {
              dgram.once('error', reject);
              dgram.bind(0, () => {
                dgram.off('error', reject);
                resolve();
              });
            });
          if (multicast && family === 4) {
            await bind();
            dgram.setMulticastTTL(this.#options.ttl ?? 1);
            const local = interfaceAddress(this.#options.iface, this.#options.ip);
            if (local !== undefined) dgram.setMulticastInterface(local);
          } else if (broadcast) {
            await bind();
            dgram.setBroadcast(true);
          }
        });
      } catch (err) {
        throw new SendError(
          'ERR_OSC_SEND_FAILED',
          `cannot open a UDP socket for ${this.url}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      // an idle sending socket does not keep the process alive (a send in flight still does)
      socket.keepAlive(false);
      if (this.#closed) {
        await closeUdp(socket);
        throw new SendError('ERR_OSC_CLOSED', `address ${this.url} is closed`);
      }
      const udp = { socket, own: true, address };
      this.#udp = udp;
      return udp;
    } finally {
      this.#udpOpening = undefined;
    }
  }

  async #sendLink(packet: Uint8Array): Promise<number> {
    const link = this.#link;
    if (link !== undefined && !link.closed) {
      try {
        return await link.write(packet);
      } catch (err) {
        // as liblo: a connection that failed under a send is replaced, and the send tried once more;
        // but not when the peer was not reading: that send is given up, as the limit says
        if (!link.closed || this.#closed || !retriable(err)) throw err;
      }
    }
    const current = this.#link;
    if (current !== undefined && current !== link && !current.closed) return current.write(packet); // replaced meanwhile
    this.#linkOpening ??= this.#openLink();
    return (await this.#linkOpening).write(packet);
  }

  /**
   * TCP and WebSocket: whether a connection is open now (one opens on the next send otherwise).
   * Serial: whether the device is open now (once opened, it is reopened on its own when lost).
   */
  get connected(): boolean {
    const link = this.#link;
    if (link instanceof SerialLink) return link.connected;
    return link !== undefined && !link.closed;
  }

  async #openLink(): Promise<Link> {
    try {
      const server = this.#options.server?.[SERVER_LINK];
      const link =
        this.proto === 'ws'
          ? await this.#openWs(server)
          : this.proto === 'serial'
            ? await this.#openSerial(server)
            : await this.#openTcp(server);
      if (this.#closed) {
        if (!this.#borrowed) await link.close();
        throw new SendError('ERR_OSC_CLOSED', `address ${this.url} is closed`);
      }
      this.#link = link;
      return link;
    } finally {
      this.#connecting = undefined;
      this.#linkOpening = undefined;
    }
  }

  async #openTcp(server: ServerLink | undefined): Promise<Link> {
    const framing: Framing = this.#options.slip ? 'slip' : 'length';
    const socket = connect({
      host: this.host ?? 'localhost',
      port: this.port as number,
      noDelay: this.#options.noDelay ?? true,
    });
    this.#connecting = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }).catch((err: Error) => {
      socket.destroy();
      throw new SendError('ERR_OSC_SEND_FAILED', `cannot connect to ${this.url}: ${err.message}`, { cause: err });
    });
    if (server === undefined) socket.unref(); // as for UDP: idle, it does not hold the process open
    const make = (handlers: LinkHandlers, maxFrame: number) =>
      new StreamLink(socket, { maxFrame, writeFraming: framing, limits: this.#limits, client: true, handlers });
    // without a server, what the peer sends back goes to requests waiting for a reply
    return server !== undefined ? server.adopt(make) : make(this.#ownHandlers, DEFAULT_MAX_PACKET_SIZE);
  }

  /**
   * A serial device: the server's own when this address sends from the server that has it open
   * (a device is opened once), else opened here — adopted by the server sent from, if any, which
   * then dispatches what the board sends. It stays open, reopening itself when lost, until close().
   */
  async #openSerial(server: ServerLink | undefined): Promise<Link> {
    const settings = this.#serial as SerialSettings;
    const own = server?.serialLink;
    if (own !== undefined && !own.closed && own.path === settings.path) {
      this.#borrowed = true;
      return own;
    }
    if (this.#borrowed) {
      // the server whose device this address sent on has stopped: the device is not ours to open
      throw new SendError('ERR_OSC_CLOSED', `the server ${this.url} is sent from is not running`);
    }
    this.#borrowed = false;
    const make = (handlers: LinkHandlers, maxFrame: number) =>
      new SerialLink({ settings, handlers, maxFrame, limits: this.#limits, keepAlive: server !== undefined });
    return openSerial(
      () => (server !== undefined ? server.adopt(make) : make(this.#ownHandlers, DEFAULT_MAX_PACKET_SIZE)),
      settings.path,
      'send',
    );
  }

  async #openWs(server: ServerLink | undefined): Promise<Link> {
    const host = this.host ?? 'localhost';
    const port = this.port as number;
    const ws = await connectWs(webSocketUrl(host, port, this.path ?? '/'), {
      // a message the peer sends back is read up to the default maxPacketSize, no further
      maxFrame: DEFAULT_MAX_PACKET_SIZE,
      unref: server === undefined, // as for TCP: idle, an address's own connection does not hold the process open
      noDelay: this.#options.noDelay ?? true,
    });
    const make = (handlers: LinkHandlers, maxFrame: number) =>
      new WsLink(ws, {
        url: this.url,
        remoteAddress: host,
        remotePort: port,
        maxFrame,
        handlers,
        limits: this.#limits,
      });
    return server !== undefined ? server.adopt(make) : make(this.#ownHandlers, DEFAULT_MAX_PACKET_SIZE);
  }

  async #sendUnix(packet: Uint8Array): Promise<number> {
    this.#unix ??= openUnixClient(this.path as string).catch((err: unknown) => {
      this.#unix = undefined;
      throw err;
    });
    const client = await this.#unix;
    return client.send(packet);
  }

  /**
   * Closes this address's own socket or connection (never a server's); requests still waiting for
   * a reply reject with `SendError` `ERR_OSC_CLOSED`. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#waiters !== undefined) {
      for (const waiter of [...this.#waiters]) {
        waiter.fail(new SendError('ERR_OSC_CLOSED', `address ${this.url} was closed before the reply came`));
      }
    }
    this.#connecting?.destroy(); // its send fails with ERR_OSC_SEND_FAILED
    const udp = this.#udp;
    const link = this.#link;
    const unix = this.#unix;
    this.#udp = undefined;
    this.#link = undefined;
    this.#unix = undefined;
    await Promise.all([
      udp?.own ? closeUdp(udp.socket) : undefined,
      this.#borrowed ? undefined : link?.close(),
      unix?.then((c) => c.close()).catch(() => undefined),
    ]);
  }

  /** Closes the address at the end of an `await using` scope, as `close()` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  override toString(): string {
    return `Address(${this.url})`;
  }

  // ---- request/reply

  /**
   * Requests waiting for their reply: offered what comes back on this address's own socket or
   * connection (a server's address's watch its server instead), and failed by close(). Made on
   * the first request: most addresses, replies' sources among them, never make one.
   */
  #waiters: Set<ReplyWaiter> | undefined;
  /** The own UDP socket whose datagrams go to #waiters. */
  #listening: DatagramPort | undefined;

  /**
   * Sends a message and resolves with the reply: the first message at `options.reply` (default:
   * the same path) that comes back — to this address's own UDP socket or TCP connection, or, for an
   * address sending from a server, to that server from the peer this address sends to (UDP: the
   * same host and port; TCP: the same connection). It resolves with a {@link Received} record
   * (`args`, typed by a `{ path, typespec }` or route given as `reply`). Rejects with
   * `OscTimeoutError` (`ERR_OSC_TIMEOUT`) after `timeout` ms (default 5000), `OscAbortError`
   * (`ERR_OSC_ABORTED`) when `signal` aborts, or the send's `SendError`/`OscEncodeError`.
   * Concurrent requests for the same reply path take replies in the order they were made.
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
    try {
      return this.#request(target, args, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #request(
    target: string | TypedPath | ArgsTarget<readonly OscArg[]>,
    args: readonly OscArg[],
    options: RequestOptions<ReplyAt>,
  ): Promise<Received> {
    const timeout = checkTimeout(options.timeout ?? DEFAULT_REQUEST_TIMEOUT);
    const path = typeof target === 'string' ? target : target.path;
    // (a string made only for an error, not for every request)
    const what = () => `request ${String(path)} to ${this.url}`;
    const signal = options.signal;
    if (signal?.aborted) return withDeadline(new Promise<never>(() => {}), { signal }, what(), () => {});
    const replyAt = options.reply ?? (path as string);
    const waiter = new ReplyWaiter(
      replyAt,
      options.match as ((r: Received) => boolean) | undefined,
      this.#replyFilter(),
    );
    // at once where the socket or connection is ready: no promise of its own, no turn of the loop
    const watching = this.#watchReplies(waiter);
    if (typeof watching === 'function') return this.#ask(waiter, watching, target, args, timeout, signal, what);
    return watching.then((stop) => this.#ask(waiter, stop, target, args, timeout, signal, what));
  }

  /** Sends the request, `waiter` waiting for its reply; `stop` ends its watch of a server. */
  #ask(
    waiter: ReplyWaiter,
    stop: () => void,
    target: unknown,
    args: readonly OscArg[],
    timeout: number | undefined,
    signal: AbortSignal | undefined,
    what: () => string,
  ): Promise<Received> {
    this.#waiters ??= new Set();
    const waiters = this.#waiters;
    waiters.add(waiter);
    const done = () => {
      waiters.delete(waiter);
      stop();
    };
    let sent: Promise<number>;
    try {
      sent = (this.send as (t: unknown, ...a: readonly OscArg[]) => Promise<number>)(target, ...args);
    } catch (err) {
      done();
      throw err;
    }
    waiter.limit(timeout, signal, what, done);
    sent.then(undefined, (err: unknown) => waiter.fail(err));
    return waiter.promise;
  }

  /** Which messages at the reply path count as replies: for a server's, those from this peer. */
  #replyFilter(): ((candidate: ReplyCandidate) => boolean) | undefined {
    if (this.#options.server === undefined) return undefined; // our own socket: only the peer knows it
    if (this.proto === 'tcp' || this.proto === 'ws' || this.proto === 'serial') {
      return (c) => {
        const connection = (c as { connection?: unknown }).connection;
        return connection !== undefined && connection === this.#link;
      };
    }
    return (c) => {
      const host = this.#serverTarget;
      if (host === undefined) return false;
      const expected = `osc.udp://${bracketHost(host)}:${this.port}/`;
      return (c as { connection?: unknown }).connection === undefined && (c.source as Address).url === expected;
    };
  }

  /**
   * Readies what `waiter` will be offered: its server's messages at its path (returns what stops
   * that), or this address's own UDP socket (opened first: then a promise).
   */
  #watchReplies(waiter: ReplyWaiter): (() => void) | Promise<() => void> {
    if (this.#reply !== undefined) {
      throw new SendError('ERR_OSC_NO_REPLY_PATH', "a message's reply address cannot make requests; reply with send()");
    }
    if (this.#closed) throw new SendError('ERR_OSC_CLOSED', `address ${this.url} is closed`);
    const server = this.#options.server;
    if (this.proto === 'udp' || this.proto === 'tcp' || this.proto === 'ws' || this.proto === 'serial') {
      if (server !== undefined) return server[SERVER_LINK].watch(waiter.path, (m) => waiter.offer(m));
    } else {
      throw new SendError(
        'ERR_OSC_NO_REPLY_PATH',
        `requests are made over UDP, TCP, WebSocket or serial, not ${this.proto}`,
      );
    }
    if (this.proto === 'udp') {
      const udp = this.#udp;
      if (udp === undefined) {
        this.#udpOpening ??= this.#openUdp();
        return this.#udpOpening.then((opened) => {
          if (opened === undefined) throw new SendError('ERR_OSC_CLOSED', `address ${this.url} is closed`);
          this.#listenForReplies(opened.socket);
          return NOTHING_TO_STOP;
        });
      }
      this.#listenForReplies(udp.socket);
    }
    return NOTHING_TO_STOP;
  }

  /** Hands what comes back on this address's own UDP socket to the request waiters. */
  #listenForReplies(socket: DatagramPort): void {
    if (this.#listening === socket) return;
    this.#listening = socket;
    // (the reply's own reply path is made only if a waiter reads its source)
    socket.onPacket((packet, from) =>
      this.#ownReply(packet, () => ({
        url: `osc.udp://${bracketHost(from.address)}:${from.port}/`,
        proto: 'udp',
        send: (p) => sendUdp(socket, p, from.port, from.address),
      })),
    );
  }

  /** What a connection of this address's own (not a server's) does with what comes back: replies for requests. */
  get #ownHandlers(): LinkHandlers {
    // made on use: a reply's source is an Address too, and most never open a connection
    return {
      frame: (packet, l) => this.#ownReply(packet, () => ({ url: this.url, proto: l.proto, send: (p) => l.write(p) })),
      framingError() {},
      closed() {},
    };
  }

  /** A packet that came back on this address's own socket or connection: replies for requests. */
  #ownReply(packet: Uint8Array, from: () => Sink): void {
    if (this.#waiters === undefined || this.#waiters.size === 0) return;
    let decoded: Message | Bundle;
    try {
      decoded = decode(packet);
    } catch (err) {
      debug('a malformed reply to %s: %s', this.url, String(err));
      return;
    }
    this.#offer(decoded, TimeTag.IMMEDIATE, new OwnReplySource(from));
  }

  #offer(element: Message | Bundle, timetag: TimeTag, source: OwnReplySource): void {
    if (element instanceof Bundle) {
      for (const e of element.elements) this.#offer(e, element.timetag, source);
      return;
    }
    const candidate = new OwnReplyCandidate(element, timetag, source);
    for (const waiter of this.#waiters ?? []) if (waiter.offer(candidate)) break;
  }
}

/** The reply address of what came back on an address's own socket, made on first use and shared by a bundle's messages. */
class OwnReplySource {
  readonly #sink: () => Sink;
  #address: Address | undefined;

  constructor(sink: () => Sink) {
    this.#sink = sink;
  }

  get address(): Address {
    this.#address ??= new Address({ [REPLY_SINK]: this.#sink() });
    return this.#address;
  }
}

/** A message that came back, as the request waiters judge it (a class: its `source` getter is shared, not made per reply). */
class OwnReplyCandidate implements ReplyCandidate {
  readonly path: string;
  readonly typetags: string;
  readonly args: readonly OscArg[];
  readonly timetag: TimeTag;
  readonly #source: OwnReplySource;

  constructor(message: Message, timetag: TimeTag, source: OwnReplySource) {
    this.path = message.path;
    this.typetags = message.typetags;
    this.args = message.args;
    this.timetag = timetag;
    this.#source = source;
  }

  get source(): Address {
    return this.#source.address;
  }
}

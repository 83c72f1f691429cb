import type { Socket as DatagramSocket } from 'node:dgram';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { debuglog } from 'node:util';
import { Bundle } from '../codec/bundle.js';
import { DEFAULT_MAX_PACKET_SIZE, decode } from '../codec/decode.js';
import type { ArgsTarget, Message, MessageTarget, SendArgs, TypedPath } from '../codec/message.js';
import { TimeTag } from '../codec/timetag.js';
import type { OscArg } from '../codec/values.js';
import { checkTimeout, withDeadline } from '../transport/deadline.js';
import { OscConfigError, SendError } from '../transport/errors.js';
import type { Framing } from '../transport/framing.js';
import { type HasServerLink, SERVER_LINK, type Sink } from '../transport/link.js';
import { checkOptionNames } from '../transport/options.js';
import { Sender } from '../transport/sender.js';
import { type StreamLimits, StreamLink } from '../transport/stream.js';
import { closeUdp, interfaceAddress, isBroadcastAddress, resolveHost, sendUdp } from '../transport/udp.js';
import { openUnixClient, type UnixClient } from '../transport/unix.js';
import { formatUrl, isMulticastAddress, isProto, type Proto, parsePort, parseUrl } from '../transport/url.js';
import {
  type Received,
  type ReplyArgs,
  type ReplyAt,
  type ReplyCandidate,
  ReplyWaiter,
  type RequestOptions,
} from './reply.js';

const debug = debuglog('aiolo');

/** How long `request()` waits for a reply unless told otherwise, in milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT = 5000;

/** Where an address sends: a liblo URL, or its parts. */
export type AddressTarget =
  | { readonly url: string }
  | { readonly host?: string | undefined; readonly port: number | string; readonly proto?: 'udp' | 'tcp' | undefined }
  | { readonly proto: 'unix'; readonly path: string };

/** Options of `new Address(target, options)`: TCP framing and write limits, multicast sending, the Server to send from. */
export interface AddressOptions {
  /** TCP: frame packets with SLIP (OSC 1.1) instead of an int32 length prefix (OSC 1.0, liblo's default). */
  readonly slip?: boolean | undefined;
  /** TCP: disable Nagle's algorithm, so each packet leaves at once. Default true. */
  readonly noDelay?: boolean | undefined;
  /**
   * Largest packet this address sends; a larger one rejects with `ERR_OSC_PACKET_TOO_LARGE` before
   * anything is written. Default 1 MiB, a server's default `maxPacketSize`: a TCP server closes
   * the connection on a larger frame, and what was sent after it would be lost. (UDP carries
   * 65507 bytes at most, a Unix datagram 65536, whatever this says.)
   */
  readonly maxPacketSize?: number | undefined;
  /**
   * TCP: bytes of sends that may wait for the peer to read them (beyond what the kernel buffers);
   * a send past it closes the connection and rejects what was waiting with
   * `ERR_OSC_WRITE_BUFFER_FULL`. One packet always fits an empty buffer. Default 4 MiB.
   */
  readonly maxWriteBuffer?: number | undefined;
  /**
   * TCP: milliseconds sends may wait with none completing (a peer that does not read) before the
   * connection is closed and they reject with `ERR_OSC_WRITE_TIMEOUT`. 0: never. Default 10 s.
   */
  readonly writeTimeout?: number | undefined;
  /** UDP multicast: TTL of what is sent. Default 1. */
  readonly ttl?: number | undefined;
  /** UDP multicast: the interface (name) or its IPv4 address (`ip`) to send from. */
  readonly iface?: string | undefined;
  readonly ip?: string | undefined;
  /**
   * Send from this server's socket (liblo's `lo_send_from`): over UDP the datagrams carry the
   * server's port, so replies reach its routes; over TCP the server dispatches what comes back.
   */
  readonly server?: HasServerLink | undefined;
}

/** Whether a send that failed with its connection may be tried once more on a new one. */
function retriable(err: unknown): boolean {
  const code = (err as SendError).code;
  return code !== 'ERR_OSC_WRITE_BUFFER_FULL' && code !== 'ERR_OSC_WRITE_TIMEOUT';
}

/** A reply path, made by a server for a message's `source`. */
export const REPLY_SINK: unique symbol = Symbol('aiolo.replySink');
interface ReplyTarget {
  readonly [REPLY_SINK]: Sink;
}

const TARGET_KEYS = ['url', 'host', 'port', 'proto', 'path'];
/** Every option an Address takes, checked at construction (plain JavaScript gets no other check). */
const ADDRESS_OPTIONS = [
  'slip',
  'noDelay',
  'maxPacketSize',
  'maxWriteBuffer',
  'writeTimeout',
  'ttl',
  'iface',
  'ip',
  'server',
] as const satisfies readonly (keyof AddressOptions)[];
// (a compile error here names an option missing from the list above)
const _everyOption: readonly (typeof ADDRESS_OPTIONS)[number][] = [] as (keyof AddressOptions)[];

/**
 * A destination for OSC packets: `new Address({ url: 'osc.udp://localhost:9000/' })`,
 * `new Address({ port: 9000 })` (UDP to localhost), `new Address({ host, port, proto: 'tcp' }, { slip: true })`.
 * Sockets and connections open on the first send and are kept for reuse; a dropped TCP connection
 * is opened again on the next send. `close()` releases them.
 */
export class Address extends Sender implements AsyncDisposable {
  readonly url: string;
  readonly proto: Proto;
  readonly host: string | undefined;
  readonly port: number | undefined;
  /** The socket path of a Unix address. */
  readonly path: string | undefined;
  readonly #options: AddressOptions;
  readonly #scheme: string;
  readonly #reply: Sink | undefined;
  #udp: { socket: DatagramSocket; own: boolean; address: string } | undefined;
  #serverTarget: string | undefined;
  #udpOpening: Promise<{ socket: DatagramSocket; own: boolean; address: string }> | undefined;
  #tcp: StreamLink | undefined;
  #tcpOpening: Promise<StreamLink> | undefined;
  #connecting: Socket | undefined;
  #unix: Promise<UnixClient> | undefined;
  #closed = false;
  readonly #maxPacketSize: number;
  readonly #limits: StreamLimits;

  /** `new Address('osc.udp://host:9000')` is `new Address({ url: 'osc.udp://host:9000' })`. */
  constructor(target: AddressTarget | ReplyTarget | string, options: AddressOptions = {}) {
    super();
    if (typeof target === 'string') target = { url: target };
    if (typeof target !== 'object' || target === null) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        'new Address(url), new Address({ url }) or new Address({ host, port, proto })',
      );
    }
    if (typeof options !== 'object' || options === null) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'the options of an Address are an object');
    }
    if (!(REPLY_SINK in target)) {
      checkOptionNames('an Address target', target, TARGET_KEYS, {
        names: ADDRESS_OPTIONS,
        hint: 'options go second, new Address({ url }, { slip: true })',
      });
    }
    checkOptionNames('Address', options, ADDRESS_OPTIONS);
    this.#options = options;
    this.#maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    for (const key of ['maxPacketSize', 'maxWriteBuffer', 'writeTimeout'] as const) {
      const v = options[key];
      if (v !== undefined && !(Number.isInteger(v) && v >= (key === 'writeTimeout' ? 0 : 1))) {
        throw new OscConfigError(
          'ERR_OSC_INVALID_OPTIONS',
          `${key} is a whole number of ${key === 'writeTimeout' ? 'milliseconds' : 'bytes'}, got ${v}`,
        );
      }
    }
    this.#limits = { maxWriteBuffer: options.maxWriteBuffer, writeTimeout: options.writeTimeout };
    if (REPLY_SINK in target) {
      const sink = target[REPLY_SINK];
      this.#reply = sink;
      this.url = sink.url;
      this.proto = sink.proto;
      this.#scheme = sink.proto;
      this.host = undefined;
      this.port = undefined;
      this.path = undefined;
      return;
    }
    this.#reply = undefined;
    if ('url' in target && target.url !== undefined) {
      const extra = TARGET_KEYS.filter((k) => k !== 'url' && (target as Record<string, unknown>)[k] !== undefined);
      if (extra.length > 0) {
        throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `give either url or ${extra.join('/')}, not both`);
      }
      const parsed = parseUrl(target.url);
      this.#scheme = parsed.proto;
      this.host = parsed.host ?? (parsed.proto === 'unix' ? undefined : 'localhost');
      this.port = parsed.port;
      this.path = parsed.path;
      if (parsed.proto !== 'unix' && parsed.port === undefined) {
        throw new OscConfigError(
          'ERR_OSC_INVALID_URL',
          `${target.url} has no port; use osc.${parsed.proto}://host:port/`,
        );
      }
    } else if ('path' in target) {
      this.#scheme = 'unix';
      this.host = undefined;
      this.port = undefined;
      this.path = target.path;
    } else {
      if (!('port' in target) || target.port === undefined) {
        throw new OscConfigError(
          'ERR_OSC_INVALID_OPTIONS',
          'an Address needs a url, or a port (and optionally host and proto)',
        );
      }
      const proto = target.proto ?? 'udp';
      if (proto !== 'udp' && proto !== 'tcp') {
        throw new OscConfigError(
          'ERR_OSC_INVALID_OPTIONS',
          `proto is 'udp', 'tcp' or 'unix' (with path), got ${String(proto)}`,
        );
      }
      this.#scheme = proto;
      this.host = target.host ?? 'localhost';
      this.port = parsePort(target.port, 'Address');
      this.path = undefined;
    }
    this.proto = isProto(this.#scheme) ? this.#scheme : 'udp';
    this.url = formatUrl(this.#scheme, this.host, this.port, this.path);
    if (this.#scheme !== 'unix' && this.port === 0) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        `${this.url}: an Address sends to a port from 1 to 65535, not 0`,
      );
    }
    const ttl = options.ttl;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0 || ttl > 255)) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `ttl is an integer from 0 to 255, got ${ttl}`);
    }
    if (options.slip && this.#scheme !== 'tcp') {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'slip framing is for TCP addresses');
    }
    if ((options.iface ?? options.ip) !== undefined) {
      if (this.#scheme !== 'udp') {
        throw new OscConfigError(
          'ERR_OSC_INVALID_OPTIONS',
          'iface and ip choose the interface of UDP (multicast) sends',
        );
      }
      interfaceAddress(options.iface, options.ip); // an unknown interface or address throws now, not at send
    }
    if (options.server !== undefined && (options.ttl ?? options.iface ?? options.ip) !== undefined) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        "ttl, iface and ip set up an address's own socket; one that sends from a server uses the server's (set them on its MultiCast)",
      );
    }
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
    switch (this.#scheme) {
      case 'udp': {
        // the common case without a promise of its own: an open socket of this address's own
        const udp = this.#options.server === undefined ? this.#udp : undefined;
        if (udp !== undefined) return sendUdp(udp.socket, packet, this.port as number, udp.address);
        return this.#sendUdp(packet);
      }
      case 'tcp':
        return this.#sendTcp(packet);
      case 'unix':
        return this.#sendUnix(packet);
      default:
        return Promise.reject(
          new SendError(
            'ERR_OSC_UNKNOWN_PROTOCOL',
            `protocol '${this.#scheme}' is not supported; use udp, tcp or unix`,
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

  async #openUdp(): Promise<{ socket: DatagramSocket; own: boolean; address: string }> {
    try {
      const { address, family } = await resolveHost(this.host ?? 'localhost');
      const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
      socket.on('error', () => {}); // send errors arrive at each send's callback
      // an idle sending socket does not keep the process alive (a send in flight still does)
      socket.unref();
      try {
        const bind = () =>
          new Promise<void>((resolve, reject) => {
            socket.once('error', reject);
            socket.bind(0, () => {
              socket.off('error', reject);
              resolve();
            });
          });
        if (isMulticastAddress(address) && family === 4) {
          await bind();
          socket.setMulticastTTL(this.#options.ttl ?? 1);
          const local = interfaceAddress(this.#options.iface, this.#options.ip);
          if (local !== undefined) socket.setMulticastInterface(local);
        } else if (family === 4 && isBroadcastAddress(address)) {
          await bind();
          socket.setBroadcast(true);
        }
        if (this.#closed) throw new SendError('ERR_OSC_CLOSED', `address ${this.url} is closed`);
      } catch (err) {
        await closeUdp(socket);
        if (err instanceof SendError) throw err;
        throw new SendError(
          'ERR_OSC_SEND_FAILED',
          `cannot open a UDP socket for ${this.url}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      const udp = { socket, own: true, address };
      this.#udp = udp;
      return udp;
    } finally {
      this.#udpOpening = undefined;
    }
  }

  async #sendTcp(packet: Uint8Array): Promise<number> {
    const link = this.#tcp;
    if (link !== undefined && !link.closed) {
      try {
        return await link.write(packet);
      } catch (err) {
        // as liblo: a connection that failed under a send is replaced, and the send tried once more;
        // but not when the peer was not reading: that send is given up, as the limit says
        if (!link.closed || this.#closed || !retriable(err)) throw err;
      }
    }
    const current = this.#tcp;
    if (current !== undefined && current !== link && !current.closed) return current.write(packet); // replaced meanwhile
    this.#tcpOpening ??= this.#openTcp();
    return (await this.#tcpOpening).write(packet);
  }

  /** TCP: whether a connection is open now (one opens on the next send otherwise). */
  get connected(): boolean {
    return this.#tcp !== undefined && !this.#tcp.closed;
  }

  async #openTcp(): Promise<StreamLink> {
    try {
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
      const server = this.#options.server?.[SERVER_LINK];
      if (server === undefined) socket.unref(); // as for UDP: idle, it does not hold the process open
      const link =
        server !== undefined
          ? server.attachStream(socket, framing, this.#limits)
          : new StreamLink(socket, {
              maxFrame: DEFAULT_MAX_PACKET_SIZE,
              writeFraming: framing,
              limits: this.#limits,
              client: true,
              // without a server, what the peer sends back goes to requests waiting for a reply
              handlers: {
                frame: (packet, l) => this.#ownReply(packet, { url: this.url, proto: 'tcp', send: (p) => l.write(p) }),
                framingError() {},
                closed() {},
              },
            });
      if (this.#closed) {
        await link.close();
        throw new SendError('ERR_OSC_CLOSED', `address ${this.url} is closed`);
      }
      this.#tcp = link;
      return link;
    } finally {
      this.#connecting = undefined;
      this.#tcpOpening = undefined;
    }
  }

  async #sendUnix(packet: Uint8Array): Promise<number> {
    this.#unix ??= openUnixClient(this.path as string).catch((err: unknown) => {
      this.#unix = undefined;
      throw err;
    });
    const client = await this.#unix;
    return client.send(packet);
  }

  /** Closes this address's own socket or connection (never a server's). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#connecting?.destroy(); // its send fails with ERR_OSC_SEND_FAILED
    const udp = this.#udp;
    const tcp = this.#tcp;
    const unix = this.#unix;
    this.#udp = undefined;
    this.#tcp = undefined;
    this.#unix = undefined;
    await Promise.all([
      udp?.own ? closeUdp(udp.socket) : undefined,
      tcp?.close(),
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

  /** Requests waiting for a reply on this address's own socket or connection. */
  readonly #waiters = new Set<ReplyWaiter>();
  /** The own UDP socket whose datagrams go to #waiters. */
  #listening: DatagramSocket | undefined;

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
  async request(
    target: string | TypedPath | ArgsTarget<readonly OscArg[]>,
    args: readonly OscArg[] = [],
    options: RequestOptions<ReplyAt> = {},
  ): Promise<Received> {
    const timeout = checkTimeout(options.timeout ?? DEFAULT_REQUEST_TIMEOUT);
    const what = `request ${typeof target === 'string' ? target : String(target.path)} to ${this.url}`;
    const signal = options.signal;
    if (signal?.aborted) return withDeadline(new Promise<never>(() => {}), { signal }, what, () => {});
    const replyAt = options.reply ?? (typeof target === 'string' ? target : (target.path as string));
    const waiter = new ReplyWaiter(
      replyAt,
      options.match as ((r: Received) => boolean) | undefined,
      this.#replyFilter(),
    );
    const stop = await this.#awaitReply(waiter);
    let sent: Promise<number>;
    try {
      sent = (this.send as (t: unknown, ...a: readonly OscArg[]) => Promise<number>)(target, ...args);
    } catch (err) {
      stop();
      throw err;
    }
    const both = Promise.all([waiter.promise, sent]).then(([reply]) => reply);
    return withDeadline(both, { timeout, signal }, what, () => {
      waiter.cancel();
      stop();
    });
  }

  /** Which messages at the reply path count as replies: for a server's, those from this peer. */
  #replyFilter(): ((candidate: ReplyCandidate) => boolean) | undefined {
    if (this.#options.server === undefined) return undefined; // our own socket: only the peer knows it
    if (this.#scheme === 'tcp') {
      return (c) => {
        const connection = (c as { connection?: unknown }).connection;
        return connection !== undefined && connection === this.#tcp;
      };
    }
    return (c) => {
      const host = this.#serverTarget;
      if (host === undefined) return false;
      const expected = `osc.udp://${host.includes(':') ? `[${host}]` : host}:${this.port}/`;
      return (c as { connection?: unknown }).connection === undefined && (c.source as Address).url === expected;
    };
  }

  /** Makes `waiter` see what comes back; returns what stops it. */
  async #awaitReply(waiter: ReplyWaiter): Promise<() => void> {
    if (this.#reply !== undefined) {
      throw new SendError('ERR_OSC_NO_REPLY_PATH', "a message's reply address cannot make requests; reply with send()");
    }
    if (this.#closed) throw new SendError('ERR_OSC_CLOSED', `address ${this.url} is closed`);
    const server = this.#options.server;
    if (this.#scheme === 'udp' || this.#scheme === 'tcp') {
      if (server !== undefined) return server[SERVER_LINK].watch(waiter.path, (m) => waiter.offer(m));
    } else {
      throw new SendError('ERR_OSC_NO_REPLY_PATH', `requests are made over UDP or TCP, not ${this.#scheme}`);
    }
    if (this.#scheme === 'udp') {
      if (this.#udp === undefined) this.#udpOpening ??= this.#openUdp();
      const udp = this.#udp ?? (await this.#udpOpening);
      if (udp === undefined) throw new SendError('ERR_OSC_CLOSED', `address ${this.url} is closed`);
      if (this.#listening !== udp.socket) {
        this.#listening = udp.socket;
        const socket = udp.socket;
        socket.on('message', (packet, from) => {
          const host = from.family === 'IPv6' ? `[${from.address}]` : from.address;
          this.#ownReply(packet, {
            url: `osc.udp://${host}:${from.port}/`,
            proto: 'udp',
            send: (p) => sendUdp(socket, p, from.port, from.address),
          });
        });
      }
    }
    this.#waiters.add(waiter);
    return () => this.#waiters.delete(waiter);
  }

  /** A packet that came back on this address's own socket or connection: replies for requests. */
  #ownReply(packet: Uint8Array, from: Sink): void {
    if (this.#waiters.size === 0) return;
    let decoded: Message | Bundle;
    try {
      decoded = decode(packet);
    } catch (err) {
      debug('a malformed reply to %s: %s', this.url, String(err));
      return;
    }
    let source: Address | undefined;
    const offer = (element: Message | Bundle, timetag: TimeTag): void => {
      if (element instanceof Bundle) {
        for (const e of element.elements) offer(e, element.timetag);
        return;
      }
      const candidate: ReplyCandidate = {
        path: element.path,
        typetags: element.typetags,
        args: element.args,
        timetag,
        get source() {
          source ??= new Address({ [REPLY_SINK]: from });
          return source;
        },
      };
      for (const waiter of this.#waiters) if (waiter.offer(candidate)) break;
    };
    offer(decoded, TimeTag.IMMEDIATE);
  }
}

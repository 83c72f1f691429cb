// aiolo's bridge: listens on one endpoint (FROM) and sends every valid packet it receives on to
// another (TO), byte for byte. What the far side sends back goes to the client that caused it:
// each client has its own upstream, a server that sends to TO from its own socket (UDP) or
// connection (TCP), so that replies to one client never reach another.
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { Address, type AddressOptions, type AddressTarget } from '../address/address.js';
import type { Bundle } from '../codec/bundle.js';
import type { Message } from '../codec/message.js';
import type { TimeTag } from '../codec/timetag.js';
import type { ServerOptions } from '../server/options.js';
import type { ReceivedPacket } from '../server/packets.js';
import { Server } from '../server/server.js';
import type { Subscription } from '../server/subscription.js';
import { OscConfigError } from '../transport/errors.js';
import { checkOptionNames } from '../transport/options.js';
import { SEND_VALID, type Sender } from '../transport/sender.js';

/**
 * Clients served at once. Each holds an upstream socket (a file descriptor; a process has ~1024 by
 * default) and, over TCP, a connection to the far side. 64 is also scsynth's default number of
 * clients it remembers for `/notify` (`-l`): a bridge in front of it needs no more.
 */
export const DEFAULT_MAX_CLIENTS = 64;
/**
 * Milliseconds without a packet either way after which a client's upstream is closed. A minute
 * outlasts the pauses of a client that polls (`/status` every few seconds) or waits between cues,
 * and frees within a minute the sockets of clients that went away without saying so (a UDP client
 * restarted on a new port, a TCP client whose connection closed).
 */
export const DEFAULT_BRIDGE_IDLE_TIMEOUT = 60_000;
/** Packets a direction buffers (the listening side; each upstream) before it pauses TCP or drops UDP. */
const DEFAULT_BRIDGE_HIGH_WATER_MARK = 1024;

/** Options of {@link bridge}. */
export interface BridgeOptions {
  /** Clients served at once, each with an upstream socket or connection of its own. Default 64. */
  readonly maxClients?: number | undefined;
  /**
   * When `maxClients` are served and a new client sends: `'evict'` (default) closes the upstream of
   * the client silent the longest to make room (counted in `evicted`); `'refuse'` does not forward
   * the newcomer's packets (counted in `refused`) until a client's upstream closes.
   */
  readonly whenFull?: 'evict' | 'refuse' | undefined;
  /**
   * Milliseconds without a packet either way after which a client's upstream closes (it closes
   * within a quarter more). 0: never. Default 60 s.
   */
  readonly idleTimeout?: number | undefined;
  /**
   * Packets each direction buffers while a send is under way (the listening side, and each
   * client's upstream) before TCP is paused (nothing lost) or UDP datagrams are dropped (counted in
   * `overflowed`). Default 1024.
   */
  readonly highWaterMark?: number | undefined;
  /** Options of the addresses that send to TO: `slip` for SLIP over TCP, `maxPacketSize`... */
  readonly address?: Omit<AddressOptions, 'server'> | undefined;
  /** Stops the bridge when aborted, as `stop()` does. */
  readonly signal?: AbortSignal | undefined;
}

const BRIDGE_OPTIONS = [
  'maxClients',
  'whenFull',
  'idleTimeout',
  'highWaterMark',
  'address',
  'signal',
] as const satisfies readonly (keyof BridgeOptions)[];

/** A bridge's counters (`bridge.stats`): what crossed, the clients, and every packet lost, by reason. */
export interface BridgeStats {
  /** Packets sent on to the far side (client → far), and their bytes. */
  readonly forwarded: number;
  readonly forwardedBytes: number;
  /** Packets sent back to clients (far → client), and their bytes. */
  readonly returned: number;
  readonly returnedBytes: number;
  /** Clients with an open upstream now. */
  readonly clients: number;
  /** Clients ever served (a client is its source URL: host and port, or socket path). */
  readonly clientsTotal: number;
  /** Upstreams closed to make room for a newcomer (`whenFull: 'evict'`). */
  readonly evicted: number;
  /** Client packets not forwarded: `maxClients` were served (`whenFull: 'refuse'`). */
  readonly refused: number;
  /** Packets the far side could not be sent (its upstream could not open, or the send failed). */
  readonly forwardFailed: number;
  /** Packets from the far side that could not be sent back to their client (it had gone). */
  readonly returnFailed: number;
  /** UDP datagrams dropped because the bridge fell `highWaterMark` packets behind (TCP is paused instead). */
  readonly overflowed: number;
  /** Packets that were not valid OSC, from either side: not forwarded. */
  readonly malformed: number;
  /** Datagrams the kernel dropped before the bridge read them, where the system says (Linux, UDP). */
  readonly kernelDropped: number | undefined;
  /** Every packet lost, whatever the reason: the sum of the six counters above. */
  readonly lost: number;
}

/** A packet the bridge sent on: what the `'packet'` event gives. */
export interface BridgedPacket {
  /** `'>'`: from a client to the far side; `'<'`: from the far side back to a client. */
  readonly direction: '>' | '<';
  /** The client's URL: who sent it (`'>'`) or whom it went back to (`'<'`). */
  readonly client: string;
  /** Who sent it: the client, or the far side (the URL it replied from). */
  readonly from: string;
  /** The bytes, as they arrived and as they were sent. */
  readonly data: Uint8Array;
  /** The same, decoded. */
  readonly packet: Message | Bundle;
  /** When the bridge received it. */
  readonly arrived: TimeTag;
}

/** Why a packet was lost (the `'lost'` event): the counter of {@link BridgeStats} it is counted in. */
export type BridgeLossReason = 'refused' | 'forwardFailed' | 'returnFailed' | 'overflowed' | 'malformed';

/** A packet lost: why, which way, for which client (when known), and the error (when there is one). */
export interface BridgeLoss {
  readonly reason: BridgeLossReason;
  readonly direction: '>' | '<';
  readonly client: string | undefined;
  readonly error: unknown;
}

/** Why a client's upstream closed. */
export type BridgeCloseReason = 'idle' | 'evicted' | 'gone' | 'stopped';

/** The events a bridge emits (never `'error'`). */
export interface BridgeEvents {
  /** A packet was sent on, either way. */
  packet: [packet: BridgedPacket];
  /** A packet was lost (and counted). */
  lost: [loss: BridgeLoss];
  /** A new client: its URL, and where its upstream sends from. */
  client: [client: string, upstream: string];
  /** A client's upstream closed: idle, evicted, gone (its connection closed), or the bridge stopped. */
  clientClosed: [client: string, reason: BridgeCloseReason];
}

/** What {@link bridge} resolves with: a running bridge. */
export interface Bridge extends EventEmitter<BridgeEvents>, AsyncDisposable {
  /** Where it listens (FROM), as a liblo URL with the real port. */
  readonly url: string;
  /** Where it forwards to (TO). */
  readonly to: string;
  /** The counters, read at each access. */
  readonly stats: Readonly<BridgeStats>;
  /** The clients served now, by URL. */
  readonly clients: readonly string[];
  /** Resolves once the bridge has stopped and released every socket and connection. */
  readonly closed: Promise<void>;
  /**
   * Stops: what was received is still sent on, and what the far side sent back still goes to its
   * client; then every upstream and the listening socket close. Idempotent; resolves as `closed`.
   */
  stop(): Promise<void>;
}

interface BridgeConfig {
  readonly maxClients: number;
  readonly evict: boolean;
  readonly idleTimeout: number;
  readonly highWaterMark: number;
  readonly address: Omit<AddressOptions, 'server'>;
  readonly signal: AbortSignal | undefined;
}

function configure(options: BridgeOptions): BridgeConfig {
  if (typeof options !== 'object' || options === null) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'bridge(from, to, { maxClients, idleTimeout, ... })');
  }
  checkOptionNames('bridge', options, BRIDGE_OPTIONS);
  const count = (name: string, value: unknown, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        `bridge: ${name} is an integer >= ${min}, got ${String(value)}`,
      );
    }
    return value;
  };
  const whenFull = options.whenFull ?? 'evict';
  if (whenFull !== 'evict' && whenFull !== 'refuse') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `bridge: whenFull is 'evict' or 'refuse', got ${String(whenFull)}`,
    );
  }
  return {
    maxClients: count('maxClients', options.maxClients, DEFAULT_MAX_CLIENTS, 1),
    evict: whenFull === 'evict',
    idleTimeout: count('idleTimeout', options.idleTimeout, DEFAULT_BRIDGE_IDLE_TIMEOUT, 0),
    highWaterMark: count('highWaterMark', options.highWaterMark, DEFAULT_BRIDGE_HIGH_WATER_MARK, 1),
    address: options.address ?? {},
    signal: options.signal,
  };
}

/**
 * Where a client's upstream listens, for a far side reached by `target`; undefined when the far side
 * cannot reply (Unix: liblo's clients are unbound sockets, so the bridge's are too).
 * UDP: every address of TO's family, so that it can send wherever TO is (replies arrive there).
 * A connection transport (TCP, and those to come): the connection carries the replies, and the
 * server, of the same transport, only dispatches them; it listens on loopback only.
 */
function upstreamOptions(target: Address): ServerOptions | undefined {
  if (target.proto === 'unix') return undefined;
  if (target.proto === 'udp') {
    const v6 = target.host !== undefined && isIP(target.host) === 6;
    return { url: `osc.udp://${v6 ? '[::]' : '0.0.0.0'}:0/`, queue: false };
  }
  return { url: `osc.${target.proto}://127.0.0.1:0/`, queue: false };
}

/** One client: who it is, where its packets go, and what brings the far side's replies back. */
interface Client {
  readonly key: string;
  /** Replies to the client, over the transport it came on. */
  readonly source: Sender;
  /** Sends to the far side: from `upstream` when there is one. */
  readonly address: Address;
  readonly upstream: Server | undefined;
  /** Sends what `upstream` receives back to the client; ends when it stops. */
  pump: Promise<void>;
  /** `performance.now()` of the last packet either way. */
  lastActive: number;
  closing: Promise<void> | undefined;
}

interface Counts {
  forwarded: number;
  forwardedBytes: number;
  returned: number;
  returnedBytes: number;
  clientsTotal: number;
  evicted: number;
  refused: number;
  forwardFailed: number;
  returnFailed: number;
  overflowed: number;
  malformed: number;
  /** What the kernel dropped for upstreams already closed. */
  kernelDroppedBefore: number | undefined;
}

function addDrops(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : a + b;
}

class BridgeImpl extends EventEmitter<BridgeEvents> implements Bridge {
  readonly url: string;
  readonly to: string;
  readonly closed: Promise<void>;
  readonly #server: Server;
  readonly #target: Address;
  readonly #config: BridgeConfig;
  readonly #upstream: ServerOptions | undefined;
  readonly #sub: Subscription<ReceivedPacket, null>;
  readonly #clients = new Map<string, Client>();
  readonly #counts: Counts = {
    forwarded: 0,
    forwardedBytes: 0,
    returned: 0,
    returnedBytes: 0,
    clientsTotal: 0,
    evicted: 0,
    refused: 0,
    forwardFailed: 0,
    returnFailed: 0,
    overflowed: 0,
    malformed: 0,
    kernelDroppedBefore: undefined,
  };
  #stopping = false;
  readonly #onAbort = (): void => {
    void this.stop().catch(() => undefined); // (closed reports it)
  };

  constructor(
    server: Server,
    target: Address,
    sub: Subscription<ReceivedPacket, null>,
    config: BridgeConfig,
    upstream: ServerOptions | undefined,
  ) {
    super();
    this.#server = server;
    this.#target = target;
    this.#sub = sub;
    this.#config = config;
    this.#upstream = upstream;
    this.url = server.url as string;
    this.to = target.url;
    server.on('malformed', (error, source) => this.#lose('malformed', '>', source.url, error));
    server.on('overflow', () => this.#lose('overflowed', '>', undefined, undefined));
    // a client whose connection is gone (it closed it, or broke a limit): so goes its upstream
    server.on('disconnect', (source) => {
      const client = this.#clients.get(source.url);
      if (client !== undefined) void this.#close(client, 'gone');
    });
    this.closed = this.#run();
    if (config.signal?.aborted) this.#onAbort();
    else config.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  get stats(): Readonly<BridgeStats> {
    const c = this.#counts;
    let kernelDropped = addDrops(c.kernelDroppedBefore, this.#server.stats.kernelDropped);
    for (const client of this.#clients.values()) {
      kernelDropped = addDrops(kernelDropped, client.upstream?.stats.kernelDropped);
    }
    const lost = c.refused + c.forwardFailed + c.returnFailed + c.overflowed + c.malformed + (kernelDropped ?? 0);
    return {
      forwarded: c.forwarded,
      forwardedBytes: c.forwardedBytes,
      returned: c.returned,
      returnedBytes: c.returnedBytes,
      clients: this.#clients.size,
      clientsTotal: c.clientsTotal,
      evicted: c.evicted,
      refused: c.refused,
      forwardFailed: c.forwardFailed,
      returnFailed: c.returnFailed,
      overflowed: c.overflowed,
      malformed: c.malformed,
      kernelDropped,
      lost,
    };
  }

  get clients(): readonly string[] {
    return [...this.#clients.keys()];
  }

  stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      // the listening side stops taking packets; what it holds is still forwarded (#run goes on)
      this.#sub.unsub();
    }
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  // ---- client → far side

  async #run(): Promise<void> {
    const idle = this.#config.idleTimeout;
    const sweeper =
      idle > 0 ? setInterval(() => this.#sweep(idle), Math.max(1, Math.min(1000, Math.floor(idle / 4)))) : undefined;
    sweeper?.unref();
    try {
      // one packet at a time: a client's packets reach the far side in the order they came, and
      // a slow far side holds the listening side back (TCP paused, UDP counted when it overflows)
      for await (const received of this.#sub) await this.#forward(received);
    } finally {
      clearInterval(sweeper);
      this.#config.signal?.removeEventListener('abort', this.#onAbort);
      this.#stopping = true;
      try {
        // the upstreams first: what they hold still goes back through the listening socket
        await Promise.allSettled([...this.#clients.values()].map((c) => this.#close(c, 'stopped')));
      } finally {
        await Promise.allSettled([this.#server.stop(), this.#target.close()]);
      }
    }
  }

  async #forward(received: ReceivedPacket): Promise<void> {
    const source = received.source;
    const key = source.url;
    let client = this.#clients.get(key);
    if (client === undefined) {
      try {
        client = await this.#open(key, source);
      } catch (err) {
        this.#lose('forwardFailed', '>', key, err);
        return;
      }
      if (client === undefined) {
        this.#lose('refused', '>', key, undefined);
        return;
      }
    }
    client.lastActive = performance.now();
    try {
      await client.address[SEND_VALID](received.data);
    } catch (err) {
      this.#lose('forwardFailed', '>', key, err);
      return;
    }
    this.#counts.forwarded++;
    this.#counts.forwardedBytes += received.data.length;
    this.#emit('packet', { direction: '>', client: key, from: key, ...parts(received) });
  }

  /** A new client's upstream, once it can send; undefined when full and refusing. */
  async #open(key: string, source: Sender): Promise<Client | undefined> {
    if (this.#clients.size >= this.#config.maxClients) {
      if (!this.#config.evict) return undefined;
      let oldest: Client | undefined;
      for (const c of this.#clients.values()) if (oldest === undefined || c.lastActive < oldest.lastActive) oldest = c;
      if (oldest !== undefined) {
        this.#counts.evicted++;
        await this.#close(oldest, 'evicted');
      }
    }
    const options = this.#upstream;
    let upstream: Server | undefined;
    let replies: Subscription<ReceivedPacket, null> | undefined;
    let address: Address;
    if (options === undefined) {
      address = new Address(this.to, this.#config.address);
    } else {
      upstream = new Server(options);
      upstream.on('malformed', (error) => this.#lose('malformed', '<', key, error));
      upstream.on('overflow', () => this.#lose('overflowed', '<', key, undefined));
      replies = upstream.packets({ overflow: 'pause', highWaterMark: this.#config.highWaterMark });
      await upstream.start();
      address = upstream.address(this.to, this.#config.address);
    }
    const client: Client = {
      key,
      source,
      address,
      upstream,
      pump: Promise.resolve(),
      lastActive: performance.now(),
      closing: undefined,
    };
    if (replies !== undefined) client.pump = this.#pump(client, replies);
    this.#clients.set(key, client);
    this.#counts.clientsTotal++;
    this.#emit('client', key, upstream?.url ?? 'none (the far side cannot reply)');
    return client;
  }

  // ---- far side → client

  async #pump(client: Client, replies: Subscription<ReceivedPacket, null>): Promise<void> {
    for await (const received of replies) {
      client.lastActive = performance.now();
      try {
        await client.source[SEND_VALID](received.data);
      } catch (err) {
        this.#lose('returnFailed', '<', client.key, err);
        // a connection that closed: the client has gone, and its upstream goes too
        if ((err as { code?: unknown }).code === 'ERR_OSC_CLOSED') void this.#close(client, 'gone');
        continue;
      }
      this.#counts.returned++;
      this.#counts.returnedBytes += received.data.length;
      this.#emit('packet', { direction: '<', client: client.key, from: received.source.url, ...parts(received) });
    }
  }

  /** Closes a client's upstream (once): no more sends to the far side, then what it holds goes back. */
  #close(client: Client, reason: BridgeCloseReason): Promise<void> {
    client.closing ??= (async () => {
      if (this.#clients.get(client.key) === client) this.#clients.delete(client.key);
      try {
        await client.address.close();
        await client.upstream?.stop();
        await client.pump;
      } finally {
        const drops = client.upstream?.stats.kernelDropped;
        this.#counts.kernelDroppedBefore = addDrops(this.#counts.kernelDroppedBefore, drops);
        this.#emit('clientClosed', client.key, reason);
      }
    })();
    return client.closing;
  }

  #sweep(idle: number): void {
    const now = performance.now();
    for (const client of this.#clients.values()) {
      if (now - client.lastActive >= idle) void this.#close(client, 'idle');
    }
  }

  // ---- reporting

  #lose(reason: BridgeLossReason, direction: '>' | '<', client: string | undefined, error: unknown): void {
    this.#counts[reason]++;
    this.#emit('lost', { reason, direction, client, error });
  }

  /** Emits an event; a listener that throws surfaces as an uncaught exception, after the bridge is done with it. */
  #emit<K extends keyof BridgeEvents>(name: K, ...args: BridgeEvents[K]): void {
    if (this.listenerCount(name) === 0) return;
    try {
      (this.emit as (name: K, ...args: BridgeEvents[K]) => boolean)(name, ...args);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

function parts(received: ReceivedPacket): Pick<BridgedPacket, 'data' | 'packet' | 'arrived'> {
  return { data: received.data, packet: received.packet, arrived: received.arrived };
}

/**
 * Listens on `from` and forwards every valid OSC packet, unchanged (the same bytes: bundles and
 * their timetags as they came), to `to`; what the far side sends back goes to the client that
 * caused it, each client having its own upstream socket (UDP) or connection (TCP). Any transport
 * either side: `bridge('osc.tcp://:9000', 'osc.udp://localhost:57110')`.
 *
 * Rejects with `OscConfigError` for bad URLs or options and `StartError` when it cannot listen on
 * `from` or open an upstream of `to`'s transport. Nothing is lost silently: every packet not
 * forwarded is counted in `stats` and reported with `'lost'`.
 */
export async function bridge(
  from: string | ServerOptions,
  to: string | AddressTarget,
  options: BridgeOptions = {},
): Promise<Bridge> {
  const config = configure(options);
  const target = new Address(to, config.address);
  if (target.proto === 'serial') {
    // each client has an upstream of its own, and a device is opened once: a board cannot be TO
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `bridge: a serial device (${target.url}) cannot be TO, which each client reaches through an upstream of its own, and a device opens once; make it FROM (aiolo bridge ${target.url} osc.udp://localhost:57120), or serve the board and your clients from one program (see the README, Serial)`,
    );
  }
  let server: Server | undefined;
  try {
    // bundles are forwarded as they come, not held for their time: the far side schedules them
    server = new Server(typeof from === 'string' ? { url: from, queue: false } : { ...from, queue: false });
    const upstream = upstreamOptions(target);
    if (upstream !== undefined) {
      // an upstream of TO's transport opens now, once, so that one that cannot fails the bridge now
      const probe = new Server(upstream);
      await probe.start();
      await probe.stop();
    }
    const sub = server.packets({ overflow: 'pause', highWaterMark: config.highWaterMark });
    await server.start();
    return new BridgeImpl(server, target, sub, config, upstream);
  } catch (err) {
    await Promise.allSettled([server?.stop(), target.close()]);
    throw err;
  }
}

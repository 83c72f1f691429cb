import type { TimeTag } from '../codec/timetag.js';
import type { OscArg } from '../codec/values.js';
import type { DatagramPort } from './datagram.js';
import type { ConnectionError, ConnectionErrorCode } from './errors.js';
import type { FramingError } from './framing.js';

/** Where a packet can be written: an open socket and a peer. Replies and addresses use these. */
export interface Sink {
  readonly url: string;
  readonly proto: 'udp' | 'tcp' | 'unix' | 'ws' | 'serial';
  send(packet: Uint8Array): Promise<number>;
}

/**
 * One connection carrying OSC packets, whatever frames them: a TCP stream (`StreamLink`) or a
 * WebSocket (`WsLink`). A server serves its connections through this, replies go back on it, and
 * its limits close it (`hangup`) when the peer breaks one.
 */
export interface Link {
  readonly proto: 'tcp' | 'ws' | 'serial';
  /** The peer, as a URL of this transport (`osc.tcp://127.0.0.1:50123/`). */
  readonly url: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly closed: boolean;
  /** Whether a consumer holds its reading (`overflow: 'pause'`); a held link is never evicted. */
  readonly held: boolean;
  /** The order of its last activity (a byte read, a write completed) among all links: see {@link nextActivity}. */
  readonly lastActive: number;
  hold(holder: unknown): void;
  release(holder: unknown): void;
  /** Closes it because the peer broke a limit, reporting why (the handlers' `hangup`). Once only. */
  hangup(code: ConnectionErrorCode, message: string): void;
  /** Writes one packet; resolves with the bytes counted as liblo counts them, or rejects with a `SendError`. */
  write(packet: Uint8Array): Promise<number>;
  /** Closes it; resolves once closed. */
  close(): Promise<void>;
}

/** What a link calls its owner back with. */
export interface LinkHandlers {
  /** One complete packet, in arrival order. */
  frame(packet: Uint8Array, link: Link): void;
  /** The peer broke the framing (an oversized frame, a frame cut short, a text frame). */
  framingError(error: FramingError, link: Link): void;
  /** The link closed the connection itself: the peer broke a limit. Reported once, before `closed`. */
  hangup?(error: ConnectionError, link: Link): void;
  /** The connection is gone (either side closed it, or it failed). */
  closed(link: Link, error: Error | undefined): void;
}

// Arrival order of activity across all links, for "silent the longest" without reading a clock.
let activity = 0;

/** The next number in the order of activity of all links. */
export function nextActivity(): number {
  return ++activity;
}

/**
 * What a listener asks of its server for each connection it accepts: to take the link `make`
 * builds with the server's handlers (whose `closed` calls `release`, counting it out of the
 * listener's), and to hear what became of it.
 */
export interface ConnectionHost {
  /**
   * `release` is called when the link closes (and the server reports `'disconnect'`); a link a
   * transport keeps for the server's lifetime (serial) passes undefined and reports with `lost`.
   */
  adopt<L extends Link>(
    make: (handlers: LinkHandlers, maxFrame: number) => L,
    release: ((link: Link) => void) | undefined,
  ): L;
  /** A connection was accepted (its link is open); a serial link: its device opened, again or the first time. */
  accepted(link: Link): void;
  /** A serial link lost its device (unplugged, reset, closed by the server's stop); it reopens on its own. */
  lost(link: Link): void;
  /** A connection was closed at once: `maxConnections` were open and none could be evicted. */
  refused(remote: { address: string; port: number }): void;
  /** The bytes of partial frames the connections hold together changed. */
  buffered(bytes: number): void;
}

/** The key under which a server offers its sockets to addresses that send from it. */
export const SERVER_LINK: unique symbol = Symbol('aiolo.serverLink');

/** What an address needs from a server to send from it (liblo's `lo_send_from`). */
export interface ServerLink {
  /** The server's UDP socket, while it runs UDP; datagrams sent from it carry its port. */
  readonly datagramSocket: DatagramPort | undefined;
  /**
   * The server's serial device, while it runs on one: an address to the same device sends on it
   * (a device is opened by one process, once).
   */
  readonly serialLink: (Link & { readonly path: string }) | undefined;
  /**
   * Takes an outgoing connection the link `make` builds with the server's handlers: what the peer
   * sends back on it is dispatched by the server, and the server closes it when it stops.
   */
  adopt<L extends Link>(make: (handlers: LinkHandlers, maxFrame: number) => L): L;
  /**
   * Shows `watcher` each message the server dispatches at `path` (after its routes), until the
   * returned function is called; the first watcher that returns true takes it. Requests use this.
   */
  watch(path: string, watcher: (message: Dispatched) => boolean): () => void;
}

/** A message as a server dispatches it, for a watcher. */
export interface Dispatched {
  readonly path: string;
  readonly typetags: string;
  readonly args: readonly OscArg[];
  readonly timetag: TimeTag;
  /** The reply address (an `Address`), made on first use. */
  readonly source: { readonly url: string };
  /** The connection it came on, if any. */
  readonly connection: Link | undefined;
}

export interface HasServerLink {
  readonly [SERVER_LINK]: ServerLink;
}

import type { Socket as DatagramSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import type { TimeTag } from '../codec/timetag.js';
import type { OscArg } from '../codec/values.js';
import type { Framing } from './framing.js';
import type { StreamLimits, StreamLink } from './stream.js';

/** Where a packet can be written: an open socket and a peer. Replies and addresses use these. */
export interface Sink {
  readonly url: string;
  readonly proto: 'udp' | 'tcp' | 'unix';
  send(packet: Uint8Array): Promise<number>;
}

/** The key under which a server offers its sockets to addresses that send from it. */
export const SERVER_LINK: unique symbol = Symbol('aiolo.serverLink');

/** What an address needs from a server to send from it (liblo's `lo_send_from`). */
export interface ServerLink {
  /** The server's UDP socket, while it runs UDP; datagrams sent from it carry its port. */
  readonly datagramSocket: DatagramSocket | undefined;
  /** Takes an outgoing TCP connection: what the peer sends back on it is dispatched by the server. */
  attachStream(socket: Socket, writeFraming: Framing, limits?: StreamLimits): StreamLink;
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
  /** The TCP connection it came on, if any. */
  readonly connection: StreamLink | undefined;
}

export interface HasServerLink {
  readonly [SERVER_LINK]: ServerLink;
}

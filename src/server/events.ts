// What a server reports: its events and its counters (`server.stats`).
import type { Address } from '../address/address.js';
import type { OscDecodeError } from '../codec/errors.js';
import type { ConnectionError } from '../transport/errors.js';
import { type DispatchEvents, type DispatchStats, emptyDispatchStats } from './dispatch-report.js';
import type { ReceivedPacket } from './packets.js';
import type { Route } from './route.js';

/**
 * The counters of `server.stats`: packets and messages received, dispatched, malformed, unmatched,
 * dropped (those of every receiver, {@link DispatchStats}), and of the server's sockets.
 */
export interface ServerStats extends DispatchStats {
  /**
   * UDP datagrams the kernel dropped before the server could read them (its receive buffer was
   * full: raise `recvBufferSize`, or let the event loop breathe). Read from the kernel on Linux
   * each time `stats` is read; undefined where the system does not say, and for TCP and Unix.
   */
  kernelDropped: number | undefined;
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
export interface ServerEvents extends DispatchEvents {
  /** A packet that is not valid OSC (or a TCP frame over the limit, `packet` then empty); the server goes on. */
  malformed: [error: OscDecodeError, source: Address, packet: Uint8Array];
  /** `server.forward()` could not send a packet on. */
  forwardError: [error: unknown, packet: ReceivedPacket];
  /** A route was registered (`route()`, `match()`): OSCQuery announces it. */
  route: [route: Route];
  /** A route was removed (`unroute()`). */
  unroute: [route: Route];
  /**
   * A TCP or WebSocket connection was accepted; `source` replies on it. A serial server: its device
   * opened (at `start()`, and each time it comes back after being lost).
   */
  connection: [source: Address];
  /**
   * A connection the server accepted is gone (the peer closed it, a limit did, or the server
   * stopped); `source.url` is the one `'connection'` gave. A serial server: its device was lost
   * (unplugged, reset) or closed by `stop()`; a lost device is opened again on its own.
   */
  disconnect: [source: Address];
  /** A TCP connection was closed at once: `maxConnections` were already open. */
  refused: [remote: { address: string; port: number }];
  /**
   * The server closed a connection because its peer broke a limit; `error.code` says which:
   * `ERR_OSC_WRITE_BUFFER_FULL`, `ERR_OSC_WRITE_TIMEOUT` (it does not read), `ERR_OSC_IDLE_TIMEOUT`,
   * `ERR_OSC_EVICTED` (silent the longest when a newcomer needed room), `ERR_OSC_READ_BUFFER_FULL`,
   * `ERR_OSC_PROTOCOL_ERROR` (a WebSocket peer broke the protocol).
   */
  hangup: [error: ConnectionError, source: Address];
}

/** The counters of a server that has received nothing. */
export function emptyStats(): ServerStats {
  return { ...emptyDispatchStats(), kernelDropped: undefined, connections: 0, refused: 0, hangups: 0, buffered: 0 };
}

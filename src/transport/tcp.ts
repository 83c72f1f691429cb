import { createServer, type Socket } from 'node:net';
import { debuglog } from 'node:util';
import { startError } from './start-error.js';
import { ReadBudget, type StreamLimits, type StreamLink } from './stream.js';

const debug = debuglog('aiolo');

/** What a TCP listener's connections may hold and how many it serves (a server's options, resolved). */
export interface TcpListenLimits {
  /** Connections served at once. */
  readonly maxConnections: number;
  /** When they are all open: true evicts the one silent the longest, false refuses the newcomer. */
  readonly evict: boolean;
  readonly maxWriteBuffer: number;
  readonly writeTimeout: number;
  readonly idleTimeout: number;
  /** Bytes of partial frames all connections may hold together. */
  readonly maxBufferedBytes: number;
}

export interface TcpListenOptions {
  /** Default every IPv4 address, as liblo. */
  readonly host: string | undefined;
  readonly port: number;
  readonly limits: TcpListenLimits;
}

/** What a TCP listener asks of its owner for each connection. */
export interface TcpConnections {
  /**
   * Makes the link that frames `socket` (with the listener's shared `limits`), whose `closed`
   * handler must call `release(link)`: the listener then counts it out of its connections.
   */
  attach(socket: Socket, limits: StreamLimits, release: (link: StreamLink) => void): StreamLink;
  /** A connection was accepted (its link is open). */
  accepted(link: StreamLink): void;
  /** A connection was closed at once: `maxConnections` were open and none could be evicted. */
  refused(remote: { address: string; port: number }): void;
  /** The bytes of partial frames the connections hold together changed. */
  buffered(bytes: number): void;
}

export interface TcpListener {
  /** The port listened on (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops listening; resolves once every connection it accepted has closed too (their owner closes them). */
  close(): Promise<void>;
}

/**
 * Listens for TCP connections and hands each to `connections.attach`, at most `maxConnections` at
 * once: past that, the connection silent the longest is closed to make room (`ERR_OSC_EVICTED`,
 * unless `evict` is false or every connection is held by a consumer), or the newcomer is refused.
 * aiolo counts and evicts connections itself: net.Server's `maxConnections` can only refuse.
 * Rejects with a StartError.
 */
export async function listenTcp(options: TcpListenOptions, connections: TcpConnections): Promise<TcpListener> {
  const l = options.limits;
  const accepted = new Set<StreamLink>();
  const release = (link: StreamLink): void => {
    accepted.delete(link);
  };
  const limits: StreamLimits & { readonly budget: ReadBudget } = {
    maxWriteBuffer: l.maxWriteBuffer,
    writeTimeout: l.writeTimeout,
    idleTimeout: l.idleTimeout,
    budget: new ReadBudget(l.maxBufferedBytes, (used) => connections.buffered(used)),
  };
  const accept = (socket: Socket): void => {
    if (accepted.size >= l.maxConnections) {
      // the connection silent the longest makes room, unless a consumer holds it (its silence is ours)
      let idlest: StreamLink | undefined;
      if (l.evict) {
        for (const link of accepted) {
          if (!link.held && !link.closed && (idlest === undefined || link.lastActive < idlest.lastActive)) {
            idlest = link;
          }
        }
      }
      if (idlest === undefined) {
        const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
        socket.on('error', () => {});
        socket.destroy();
        connections.refused(remote);
        return;
      }
      accepted.delete(idlest);
      idlest.hangup(
        'ERR_OSC_EVICTED',
        `maxConnections (${l.maxConnections}) were open and a new one arrived; this one had been silent the longest`,
      );
    }
    const link = connections.attach(socket, limits, release);
    if (link.closed) return;
    accepted.add(link);
    connections.accepted(link);
  };
  const host = options.host ?? '0.0.0.0';
  const server = createServer({ noDelay: true }, accept);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: options.port, host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    server.close();
    throw startError(err, `tcp ${host}:${options.port}`);
  }
  server.on('error', (err) => debug('tcp server error: %s', err.message));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : options.port,
    // net.Server.close() waits for its connections, which their owner closes meanwhile
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

import { createServer, type Socket } from 'node:net';
import { debuglog } from 'node:util';
import type { ConnectionHost } from './link.js';
import { LinkPool, type PoolLimits } from './pool.js';
import { startError } from './start-error.js';
import { ReadBudget, type StreamLimits, StreamLink } from './stream.js';

const debug = debuglog('aiolo');

/** What a TCP listener's connections may hold and how many it serves (a server's options, resolved). */
export interface TcpListenLimits extends PoolLimits {
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
  /** The largest frame accepted (the server's maxPacketSize). */
  readonly maxFrame: number;
}

export interface TcpListener {
  /** The port listened on (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops listening; resolves once every connection it accepted has closed too (their owner closes them). */
  close(): Promise<void>;
}

/**
 * Listens for TCP connections and hands each to `connections.adopt`, at most `maxConnections` at
 * once (see {@link LinkPool}). Rejects with a StartError.
 */
export async function listenTcp(options: TcpListenOptions, connections: ConnectionHost): Promise<TcpListener> {
  const l = options.limits;
  const pool = new LinkPool(l);
  const limits: StreamLimits & { readonly budget: ReadBudget } = {
    maxWriteBuffer: l.maxWriteBuffer,
    writeTimeout: l.writeTimeout,
    idleTimeout: l.idleTimeout,
    budget: new ReadBudget(l.maxBufferedBytes, (used) => connections.buffered(used)),
  };
  const accept = (socket: Socket): void => {
    if (!pool.admit()) {
      const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      socket.on('error', () => {});
      socket.destroy();
      connections.refused(remote);
      return;
    }
    const link = connections.adopt(
      (handlers) => new StreamLink(socket, { maxFrame: options.maxFrame, limits, handlers }),
      pool.release,
    );
    if (link.closed) return;
    pool.add(link);
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

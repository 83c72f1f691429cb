// The transports a server can listen on, keyed by proto: `Server.start()` looks its proto up here.
// A new transport (WebSocket, serial) is a file in src/transport/ and one entry below.
import type { DatagramPort } from '../transport/datagram.js';
import { KernelDrops } from '../transport/drops.js';
import { StartError } from '../transport/errors.js';
import type { ConnectionHost } from '../transport/link.js';
import { openSerial, SerialLink, type SerialSettings } from '../transport/serial.js';
import { listenTcp } from '../transport/tcp.js';
import { bindUdp, closeUdp } from '../transport/udp.js';
import { bindUnix, type UnixServer } from '../transport/unix.js';
import { formatUrl, type Proto } from '../transport/url.js';
import { listenWs } from '../transport/ws.js';
import type { ServerConfig } from './options.js';
import type { Origin } from './reply.js';

/** What a listening transport calls its server back with (connection transports: also ConnectionHost's). */
export interface ListenerHost extends ConnectionHost {
  /** A packet arrived (a datagram; a connection's packets come through the link `adopt` makes). */
  packet(packet: Uint8Array, origin: Origin): void;
}

/** A transport listening for a server: where, how to stop it, and what replies go out through. */
export interface Listening {
  /** The port listened on (the real one when 0 was asked for; 0 for a Unix server, as in liblo). */
  readonly port: number;
  /** Where to reach the server. */
  readonly url: string;
  /** Datagram transports: the socket replies (and addresses sending from the server) go out through. */
  readonly udp?: DatagramPort | undefined;
  readonly unix?: UnixServer | undefined;
  /** A serial server's device: addresses to the same device send on it. */
  readonly serial?: SerialLink | undefined;
  /** The kernel's count of datagrams it dropped, where it tells. */
  readonly drops?: KernelDrops | undefined;
  /** Stops listening. Connections are the server's to close (it closes them meanwhile). */
  close(): Promise<void>;
}

export type Listen = (config: ServerConfig, host: ListenerHost) => Promise<Listening>;

/** A URL's host for a server listening on every address: `localhost` reaches it. */
function displayHost(host: string | undefined): string {
  return host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

/** Every transport a server listens on (a `Record` over Proto: a proto without an entry does not compile). */
export const TRANSPORTS: Readonly<Record<Proto, Listen>> = {
  async udp(c, host) {
    const socket = await bindUdp(
      { host: c.host, port: c.port, recvBufferSize: c.recvBufferSize, multicast: c.multicast },
      (packet, from) => host.packet(packet, { kind: 'udp', from }),
    );
    const addr = socket.address();
    return {
      port: addr.port,
      url: formatUrl('udp', c.multicast?.group ?? displayHost(c.host), addr.port),
      udp: socket,
      drops: new KernelDrops(addr.port, addr.family === 'IPv6'),
      close: () => closeUdp(socket),
    };
  },

  async tcp(c, host) {
    const listener = await listenTcp({ host: c.host, port: c.port, limits: c.tcp, maxFrame: c.maxPacketSize }, host);
    return {
      port: listener.port,
      url: formatUrl('tcp', displayHost(c.host), listener.port),
      close: () => listener.close(),
    };
  },

  async unix(c, host) {
    const server = await bindUnix(c.path as string, c.socketMode, (packet, from) =>
      host.packet(packet, { kind: 'unix', from }),
    );
    return {
      port: 0, // as liblo's lo_server_get_port for a Unix server
      url: formatUrl('unix', undefined, undefined, c.path),
      unix: server,
      close: () => server.close(),
    };
  },

  async ws(c, host) {
    const listener = await listenWs(
      {
        host: c.host,
        port: c.port,
        path: c.path as string,
        limits: c.tcp,
        maxFrame: c.maxPacketSize,
        httpServer: c.httpServer,
      },
      host,
    );
    const http = c.httpServer?.address();
    const shared = typeof http === 'object' && http !== null ? http.address : undefined;
    return {
      port: listener.port,
      url: formatUrl('ws', displayHost(shared ?? c.host), listener.port, c.path),
      close: () => listener.close(),
    };
  },

  // One device, one link for the server's lifetime: 'connection' each time the device opens,
  // 'disconnect' each time it is lost; it reopens on its own (serial.ts).
  async serial(c, host) {
    const settings = c.serial as SerialSettings;
    const limits = {
      maxWriteBuffer: c.tcp.maxWriteBuffer,
      writeTimeout: c.tcp.writeTimeout,
      idleTimeout: c.tcp.idleTimeout,
    };
    const link = await openSerial(
      () =>
        host.adopt(
          (handlers, maxFrame) =>
            new SerialLink({
              settings,
              handlers,
              maxFrame,
              limits,
              keepAlive: true,
              events: { opened: (l) => host.accepted(l), lost: (l) => host.lost(l) },
            }),
          undefined,
        ),
      settings.path,
      'start',
    );
    return { port: 0, url: link.url, serial: link, close: () => link.close() };
  },
};

/** Starts the transport of `config.proto`; an unknown proto is `ERR_OSC_UNKNOWN_PROTOCOL`. */
export function listen(config: ServerConfig, host: ListenerHost): Promise<Listening> {
  const proto = config.proto;
  if (!Object.hasOwn(TRANSPORTS, proto)) {
    const known = Object.keys(TRANSPORTS).map((p) => `osc.${p}`);
    return Promise.reject(
      new StartError(
        'ERR_OSC_UNKNOWN_PROTOCOL',
        `protocol '${proto}' is not supported; use ${known.slice(0, -1).join(', ')} or ${known.at(-1)}`,
      ),
    );
  }
  return TRANSPORTS[proto as Proto](config, host);
}

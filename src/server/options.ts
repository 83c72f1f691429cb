// A server's options, checked and resolved once at construction, with every default applied:
// pure (no sockets, no clock), so that what `new Server(...)` accepts and rejects can be read here.
import type { Server as HttpServer } from 'node:http';
import { MultiCast } from '../address/multicast.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PACKET_SIZE } from '../codec/decode.js';
import { OscConfigError } from '../transport/errors.js';
import { checkOptionNames } from '../transport/options.js';
import { type SerialSettings, serialSettings } from '../transport/serial.js';
import { DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_WRITE_BUFFER, DEFAULT_WRITE_TIMEOUT } from '../transport/stream.js';
import type { TcpListenLimits } from '../transport/tcp.js';
import { isMulticastAddress, isProto, type Proto, parsePort, parseUrl } from '../transport/url.js';
import {
  DEFAULT_MAX_QUEUED,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_SCHEDULE_AHEAD,
  DEFAULT_PATTERN_STEPS,
  type DispatchOptions,
} from './defaults.js';

export {
  DEFAULT_MAX_QUEUED,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_SCHEDULE_AHEAD,
  DEFAULT_PATTERN_STEPS,
} from './defaults.js';

/** TCP connections a server serves at once; liblo has no limit, a process has a file limit of ~1024. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** A Unix server's socket file: the owner only. */
export const DEFAULT_SOCKET_MODE = 0o600;

/** Options of `new Server()`: where to listen (`url`, or `port` and `proto`, or `multicast`) and its limits. */
export interface ServerOptions extends DispatchOptions {
  /**
   * A liblo URL: `osc.udp://:9000`, `osc.tcp://127.0.0.1:0`, `osc.unix:///tmp/x.sock`,
   * `osc.udp://224.0.1.9:9000` (a group), `osc.ws://:8080/osc` (WebSocket at that HTTP path),
   * `osc.serial:///dev/ttyACM0?baud=115200` (a serial device, SLIP-framed; see the README).
   */
  readonly url?: string | undefined;
  /** Port to listen on (0: any free port), or a socket path (`/tmp/x.sock`) for a Unix server. */
  readonly port?: number | string | undefined;
  /** `'udp'` (default), `'tcp'`, `'unix'` or `'ws'`; a serial server is given by `url`. */
  readonly proto?: Proto | undefined;
  /** WebSocket: the HTTP path connections are upgraded at (default `/`); other paths are answered 404. */
  readonly path?: string | undefined;
  /**
   * WebSocket: share this HTTP or HTTPS server (your web app's; HTTPS gives `wss://`) rather than
   * listen on a port of its own: the server takes the upgrades at `path` and leaves every other
   * request alone. It must be listening before `start()`; `stop()` leaves it running.
   */
  readonly httpServer?: HttpServer | undefined;
  /** Address to listen on. Default all IPv4 addresses (as liblo); `'127.0.0.1'` or `'::1'` for this host only. */
  readonly host?: string | undefined;
  /** Join a multicast group. */
  readonly multicast?: MultiCast | undefined;
  /** SO_RCVBUF for UDP. */
  readonly recvBufferSize?: number | undefined;
  /** TCP connections served at once; more are refused. Default 1024. */
  readonly maxConnections?: number | undefined;
  /**
   * TCP, when `maxConnections` are open: `'evict'` (default) closes the connection that has been
   * silent the longest (no byte read, no write completed) to make room, so silent connections
   * cannot lock newcomers out; `'refuse'` closes the newcomer. A connection whose reading a
   * consumer holds (`overflow: 'pause'`) is never evicted.
   */
  readonly whenFull?: 'evict' | 'refuse' | undefined;
  /**
   * TCP: milliseconds a connection may be silent (nothing read, no write completed) before the
   * server closes it (`'hangup'`, `ERR_OSC_IDLE_TIMEOUT`); it closes between one and two of these
   * after the last byte. Default 0: never, as a quiet listener is a normal OSC client and
   * `whenFull: 'evict'` already keeps silent connections from filling the server.
   */
  readonly idleTimeout?: number | undefined;
  /**
   * TCP: bytes of replies a connection may have waiting for its peer to read them (beyond what the
   * kernel buffers); a send past it closes the connection (`ERR_OSC_WRITE_BUFFER_FULL`). One
   * packet is always accepted into an empty buffer. Default 4 MiB.
   */
  readonly maxWriteBuffer?: number | undefined;
  /**
   * TCP: milliseconds buffered replies may wait with none of them completing before the
   * connection is closed (`ERR_OSC_WRITE_TIMEOUT`): a peer that does not read. 0: never. Default 10 s.
   */
  readonly writeTimeout?: number | undefined;
  /**
   * TCP: bytes of partial frames all connections may hold together; past it, the connection
   * holding the most is closed (`ERR_OSC_READ_BUFFER_FULL`). Default 64 MiB.
   */
  readonly maxBufferedBytes?: number | undefined;
  /** File mode of a Unix server's socket. Default 0o600 (the owner only). */
  readonly socketMode?: number | undefined;
}

/** A server's options, resolved: where it listens, and every limit with its default applied. */
export interface ServerConfig {
  /** The scheme as given (`'udp'`, `'tcp'`, `'unix'`, or an unknown one, which fails at `start()`). */
  readonly proto: string;
  readonly host: string | undefined;
  readonly port: number;
  /** The socket path of a Unix server; the HTTP path of a WebSocket server; a serial server's device. */
  readonly path: string | undefined;
  readonly multicast: MultiCast | undefined;
  /** A serial server's device and line settings. */
  readonly serial: SerialSettings | undefined;
  readonly httpServer: HttpServer | undefined;
  readonly queue: boolean;
  readonly coerce: boolean;
  readonly maxPacketSize: number;
  readonly maxDepth: number;
  readonly extendedTypes: boolean;
  readonly maxQueued: number;
  readonly maxQueuedBytes: number;
  readonly maxPatternSteps: number;
  readonly maxScheduleAhead: number;
  readonly recvBufferSize: number | undefined;
  readonly socketMode: number;
  readonly tcp: TcpListenLimits;
}

/** Every option a Server takes, checked at construction (plain JavaScript gets no other check). */
export const SERVER_OPTIONS = [
  'url',
  'port',
  'proto',
  'path',
  'httpServer',
  'host',
  'multicast',
  'queue',
  'coerce',
  'maxPacketSize',
  'maxDepth',
  'extendedTypes',
  'recvBufferSize',
  'maxConnections',
  'whenFull',
  'idleTimeout',
  'maxWriteBuffer',
  'writeTimeout',
  'maxBufferedBytes',
  'maxQueued',
  'maxQueuedBytes',
  'maxScheduleAhead',
  'maxPatternSteps',
  'socketMode',
] as const satisfies readonly (keyof ServerOptions)[];
// (a compile error here names an option missing from the list above)
const _everyOption: readonly (typeof SERVER_OPTIONS)[number][] = [] as (keyof ServerOptions)[];

/** Options that say the same thing two ways: giving both is an error, not a silent choice. */
export const CONFLICTS: readonly (readonly [keyof ServerOptions, keyof ServerOptions])[] = [
  ['url', 'port'],
  ['url', 'proto'],
  ['url', 'multicast'],
  ['url', 'host'],
  ['url', 'path'],
  ['httpServer', 'host'],
  ['httpServer', 'port'],
  ['httpServer', 'multicast'],
  ['multicast', 'port'],
  ['multicast', 'proto'],
  ['multicast', 'host'],
];

/**
 * Checks a Server's options (names, conflicts, URL, proto and port) and resolves them, defaults
 * applied. Throws OscConfigError; an unknown URL scheme passes, to fail at `start()` as in liblo.
 */
export function configure(options: ServerOptions | string): ServerConfig {
  if (typeof options === 'string') options = { url: options };
  if (typeof options !== 'object' || options === null) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'new Server(url) or new Server({ url }, { port, proto }, ...)');
  }
  checkOptionNames('Server', options, SERVER_OPTIONS);
  for (const [a, b] of CONFLICTS) {
    if (options[a] !== undefined && options[b] !== undefined) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `Server options ${a} and ${b} conflict: give one of them`);
    }
  }
  const w = where(options);
  const maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  return {
    ...w,
    httpServer: options.httpServer,
    queue: options.queue ?? true,
    coerce: options.coerce ?? true,
    maxPacketSize: options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    extendedTypes: options.extendedTypes ?? true,
    maxQueued: options.maxQueued ?? DEFAULT_MAX_QUEUED,
    maxQueuedBytes: options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
    maxPatternSteps: options.maxPatternSteps ?? DEFAULT_PATTERN_STEPS,
    maxScheduleAhead: options.maxScheduleAhead ?? DEFAULT_MAX_SCHEDULE_AHEAD,
    recvBufferSize: options.recvBufferSize,
    socketMode: options.socketMode ?? DEFAULT_SOCKET_MODE,
    tcp: {
      maxConnections: maxConnections(w.proto, options.maxConnections, maxPacketSize, maxBufferedBytes),
      evict: (options.whenFull ?? 'evict') === 'evict',
      maxWriteBuffer: options.maxWriteBuffer ?? DEFAULT_MAX_WRITE_BUFFER,
      writeTimeout: options.writeTimeout ?? DEFAULT_WRITE_TIMEOUT,
      idleTimeout: options.idleTimeout ?? 0,
      maxBufferedBytes,
    },
  };
}

/**
 * Connections served at once. A WebSocket connection may hold a partial message of up to
 * `maxPacketSize` inside `ws`, where aiolo cannot count it against `maxBufferedBytes` as it does a
 * partial TCP frame; so a WebSocket server serves as many as that budget covers (64 by default),
 * and a larger `maxConnections` is an error that says what to change.
 */
function maxConnections(proto: string, asked: number | undefined, maxPacketSize: number, budget: number): number {
  if (proto !== 'ws') return asked ?? DEFAULT_MAX_CONNECTIONS;
  const covered = Math.max(1, Math.floor(budget / maxPacketSize));
  if (asked === undefined) return Math.min(DEFAULT_MAX_CONNECTIONS, covered);
  if (asked > covered) {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `a WebSocket server's connections may each hold a partial message of up to maxPacketSize (${maxPacketSize}) bytes, ` +
        `which maxBufferedBytes (${budget}) covers for ${covered} connections, not maxConnections ${asked}: ` +
        `lower maxPacketSize or raise maxBufferedBytes`,
    );
  }
  return asked;
}

type Where = Pick<ServerConfig, 'proto' | 'host' | 'port' | 'path' | 'multicast' | 'serial'>;

/** Where the server listens: from `multicast`, `url`, or `port`/`proto`/`host`. */
function where(options: ServerOptions): Where {
  const w = place(options);
  if (options.path !== undefined && w.proto !== 'ws') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `path is the HTTP path of a WebSocket server ('ws'), not '${w.proto}'`,
    );
  }
  if (options.httpServer !== undefined && w.proto !== 'ws') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `httpServer is for a WebSocket server ('ws'), not '${w.proto}'`,
    );
  }
  if (w.proto === 'ws' && (typeof w.path !== 'string' || !w.path.startsWith('/'))) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `a WebSocket path starts with "/", got ${String(w.path)}`);
  }
  return w;
}

function place(options: ServerOptions): Where {
  if (options.multicast !== undefined) {
    if (!(options.multicast instanceof MultiCast)) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'multicast takes a MultiCast(group, { port })');
    }
    return {
      proto: 'udp',
      host: undefined,
      port: options.multicast.port,
      path: undefined,
      multicast: options.multicast,
      serial: undefined,
    };
  }
  if (options.url !== undefined) {
    const u = parseUrl(options.url);
    if (u.proto === 'unix') {
      return { proto: 'unix', host: undefined, port: 0, path: u.path, multicast: undefined, serial: undefined };
    }
    if (u.proto === 'serial') {
      const serial = serialSettings(u, options.url);
      return { proto: 'serial', host: undefined, port: 0, path: serial.path, multicast: undefined, serial };
    }
    // as in liblo, a server URL's host that is a multicast group means "join it"
    if (u.host !== undefined && isMulticastAddress(u.host)) {
      return {
        proto: u.proto,
        host: undefined,
        port: u.port ?? 0,
        path: undefined,
        multicast: new MultiCast(u.host, { port: u.port ?? 0 }),
        serial: undefined,
      };
    }
    return { proto: u.proto, host: u.host, port: u.port ?? 0, path: u.path, multicast: undefined, serial: undefined };
  }
  // a shared HTTP server means WebSocket
  const proto = options.proto ?? (options.httpServer !== undefined ? 'ws' : undefined);
  if (proto !== undefined && !isProto(proto)) {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `proto is 'udp', 'tcp', 'unix', 'ws' or 'serial', got ${String(proto)}`,
    );
  }
  if (proto === 'serial') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      "a serial server is given by its URL: { url: 'osc.serial:///dev/ttyACM0?baud=115200' }",
    );
  }
  const port = options.port;
  if (typeof port === 'string' && port.startsWith('/')) {
    if (proto !== undefined && proto !== 'unix') {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `a socket path is for proto 'unix', not '${proto}'`);
    }
    return { proto: 'unix', host: undefined, port: 0, path: port, multicast: undefined, serial: undefined };
  }
  if (proto === 'unix') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      "a unix server needs a socket path: { proto: 'unix', port: '/tmp/x.sock' }",
    );
  }
  return {
    proto: proto ?? 'udp',
    host: options.host,
    port: port === undefined ? 0 : parsePort(port, 'Server'),
    path: proto === 'ws' ? (options.path ?? '/') : undefined,
    multicast: undefined,
    serial: undefined,
  };
}

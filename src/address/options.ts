// An address's target and options, checked and resolved once at construction: which transport,
// where, and the limits of its sends. Throws OscConfigError for anything a send could only fail on.
import { DEFAULT_MAX_PACKET_SIZE } from '../codec/decode.js';
import { OscConfigError } from '../transport/errors.js';
import type { HasServerLink, Sink } from '../transport/link.js';
import { checkOptionNames } from '../transport/options.js';
import { type SerialSettings, serialSettings, serialUrl } from '../transport/serial.js';
import type { StreamLimits } from '../transport/stream.js';
import { interfaceAddress } from '../transport/udp.js';
import { formatUrl, parsePort, parseUrl } from '../transport/url.js';

/** Where an address sends: a liblo URL, or its parts. */
export type AddressTarget =
  | { readonly url: string }
  | {
      readonly host?: string | undefined;
      readonly port: number | string;
      readonly proto?: 'udp' | 'tcp' | 'ws' | undefined;
    }
  | { readonly proto: 'unix'; readonly path: string };

/** Options of `new Address(target, options)`: TCP framing and write limits, multicast sending, the Server to send from. */
export interface AddressOptions {
  /**
   * TCP: frame packets with SLIP (OSC 1.1) instead of an int32 length prefix (OSC 1.0, liblo's
   * default). (Serial addresses always speak SLIP.)
   */
  readonly slip?: boolean | undefined;
  /** TCP and WebSocket: disable Nagle's algorithm, so each packet leaves at once. Default true. */
  readonly noDelay?: boolean | undefined;
  /**
   * Largest packet this address sends; a larger one rejects with `ERR_OSC_PACKET_TOO_LARGE` before
   * anything is written. Default 1 MiB, a server's default `maxPacketSize`: a TCP server closes
   * the connection on a larger frame, and what was sent after it would be lost. (UDP carries
   * 65507 bytes at most, a Unix datagram 65536, whatever this says.)
   */
  readonly maxPacketSize?: number | undefined;
  /**
   * TCP and WebSocket: bytes of sends that may wait for the peer to read them (beyond what the kernel buffers);
   * a send past it closes the connection and rejects what was waiting with
   * `ERR_OSC_WRITE_BUFFER_FULL`. One packet always fits an empty buffer. Default 4 MiB.
   */
  readonly maxWriteBuffer?: number | undefined;
  /**
   * TCP and WebSocket: milliseconds sends may wait with none completing (a peer that does not read) before the
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
   * server's port, so replies reach its routes; over TCP and WebSocket the server dispatches what
   * comes back on the connection.
   */
  readonly server?: HasServerLink | undefined;
}

/** A reply path, made by a server for a message's `source`. */
export const REPLY_SINK: unique symbol = Symbol('aiolo.replySink');
export interface ReplyTarget {
  readonly [REPLY_SINK]: Sink;
}

const TARGET_KEYS = ['url', 'host', 'port', 'proto', 'path'];
/** Every option an Address takes, checked at construction (plain JavaScript gets no other check). */
export const ADDRESS_OPTIONS = [
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

/** An address's target and options, resolved. */
export interface AddressConfig {
  /**
   * The scheme: `'udp'`, `'tcp'`, `'unix'`, or an unknown one as written (`osc.sctp://` gives
   * `'sctp'`), which sends reject with `ERR_OSC_UNKNOWN_PROTOCOL` (as `Server.start()` does).
   */
  readonly proto: string;
  readonly url: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly path: string | undefined;
  /** A serial address's device and line settings. */
  readonly serial: SerialSettings | undefined;
  /** A message's reply address: where its sends go, made by the server that received it. */
  readonly reply: Sink | undefined;
  readonly maxPacketSize: number;
  readonly limits: StreamLimits;
}

type Where = Pick<AddressConfig, 'proto' | 'host' | 'port' | 'path' | 'serial'>;

/**
 * Checks an Address's target and options and resolves them: which transport, where, and the
 * limits of its sends. Throws OscConfigError. (Naming an interface with `iface` or `ip` reads the
 * host's interfaces, so that an unknown one throws now rather than at the first send.)
 */
export function configure(target: AddressTarget | ReplyTarget | string, options: AddressOptions): AddressConfig {
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
  for (const key of ['maxPacketSize', 'maxWriteBuffer', 'writeTimeout'] as const) {
    const v = options[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= (key === 'writeTimeout' ? 0 : 1))) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        `${key} is a whole number of ${key === 'writeTimeout' ? 'milliseconds' : 'bytes'}, got ${v}`,
      );
    }
  }
  const limits = {
    maxPacketSize: options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE,
    limits: { maxWriteBuffer: options.maxWriteBuffer, writeTimeout: options.writeTimeout },
  };
  if (REPLY_SINK in target) {
    const sink = target[REPLY_SINK];
    return {
      proto: sink.proto,
      url: sink.url,
      host: undefined,
      port: undefined,
      path: undefined,
      serial: undefined,
      reply: sink,
      ...limits,
    };
  }
  const where = whereTo(target);
  const url =
    where.serial !== undefined ? serialUrl(where.serial) : formatUrl(where.proto, where.host, where.port, where.path);
  checkOptions(where.proto, url, where.port, options);
  return { ...where, url, reply: undefined, ...limits };
}

/** Where the address sends: from `url`, `path` (Unix), or `port`/`host`/`proto`. */
function whereTo(target: AddressTarget): Where {
  if ('url' in target && target.url !== undefined) {
    const extra = TARGET_KEYS.filter((k) => k !== 'url' && (target as Record<string, unknown>)[k] !== undefined);
    if (extra.length > 0) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `give either url or ${extra.join('/')}, not both`);
    }
    const parsed = parseUrl(target.url);
    if (parsed.proto === 'serial') {
      const serial = serialSettings(parsed, target.url);
      return { proto: 'serial', host: undefined, port: undefined, path: serial.path, serial };
    }
    if (parsed.proto !== 'unix' && parsed.port === undefined) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_URL',
        `${target.url} has no port; use osc.${parsed.proto}://host:port/`,
      );
    }
    return {
      proto: parsed.proto,
      host: parsed.host ?? (parsed.proto === 'unix' ? undefined : 'localhost'),
      port: parsed.port,
      path: parsed.path,
      serial: undefined,
    };
  }
  if ('path' in target) {
    return { proto: 'unix', host: undefined, port: undefined, path: target.path, serial: undefined };
  }
  if (!('port' in target) || target.port === undefined) {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      'an Address needs a url, or a port (and optionally host and proto)',
    );
  }
  const proto = target.proto ?? 'udp';
  if (proto !== 'udp' && proto !== 'tcp' && proto !== 'ws') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `proto is 'udp', 'tcp', 'ws' or 'unix' (with path), got ${String(proto)}`,
    );
  }
  const port = parsePort(target.port, 'Address');
  return { proto, host: target.host ?? 'localhost', port, path: proto === 'ws' ? '/' : undefined, serial: undefined };
}

/** The options that fit only some transports, or only an address with a socket of its own. */
function checkOptions(proto: string, url: string, port: number | undefined, options: AddressOptions): void {
  if (proto !== 'unix' && port === 0) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `${url}: an Address sends to a port from 1 to 65535, not 0`);
  }
  const ttl = options.ttl;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0 || ttl > 255)) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `ttl is an integer from 0 to 255, got ${ttl}`);
  }
  if (options.slip && proto !== 'tcp' && proto !== 'serial') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      'slip framing is for TCP addresses (serial ones always use it)',
    );
  }
  if ((options.iface ?? options.ip) !== undefined) {
    if (proto !== 'udp') {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'iface and ip choose the interface of UDP (multicast) sends');
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

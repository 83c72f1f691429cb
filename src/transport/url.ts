import { OscConfigError } from './errors.js';

/**
 * The transports: liblo's `osc.udp://`, `osc.tcp://`, `osc.unix://`, `osc.ws://` (WebSocket) and
 * `osc.serial://` (SLIP over a serial device).
 */
export type Proto = 'udp' | 'tcp' | 'unix' | 'ws' | 'serial';
export const PROTOS: readonly Proto[] = ['udp', 'tcp', 'unix', 'ws', 'serial'];

/** A liblo URL, parsed. `proto` is the scheme's suffix as written (`osc.foo://` gives `'foo'`). */
export interface ParsedUrl {
  readonly proto: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  /**
   * The socket path of `osc.unix://` URLs; the HTTP path of `osc.ws://` URLs (`/` when none is
   * given); the device of `osc.serial://` URLs (`/dev/ttyACM0`, or `COM3` from `osc.serial://COM3`).
   */
  readonly path: string | undefined;
  /**
   * `osc.serial://` URLs: the query's parameters (`?baud=115200&parity=even` gives
   * `{ baud: '115200', parity: 'even' }`), names lower-cased, values as written (decoded); other
   * schemes have none.
   */
  readonly query?: Readonly<Record<string, string>>;
}

function bad(url: string, why: string): never {
  throw new OscConfigError(
    'ERR_OSC_INVALID_URL',
    `invalid OSC URL ${JSON.stringify(url)}: ${why}; use osc.udp://host:port/, osc.tcp://host:port/, osc.unix:///path, osc.ws://host:port/path or osc.serial:///dev/ttyACM0?baud=115200`,
  );
}

export function parsePort(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `${what}: a port is an integer from 0 to 65535, got ${String(value)}`,
    );
  }
  return n;
}

/**
 * Parses liblo's URL forms: `osc.udp://host:port/`, `osc.tcp://[::1]:port`, `osc.udp://:port`,
 * `osc.unix:///path/to/socket` (or `osc.unix://localhost/path`), and `osc://host:port/` (UDP, as
 * liblo assumes); and WebSocket's `osc.ws://host:port/path`, also written `ws://host:port/path`.
 * An unknown scheme such as `osc.sctp://` parses; using it is a start or send error.
 */
export function parseUrl(url: string): ParsedUrl {
  if (typeof url !== 'string') bad(String(url), 'not a string');
  const m = /^(?:osc(?:\.([A-Za-z0-9_+-]*))?|(ws)):\/\/(.*)$/i.exec(url);
  if (m === null) bad(url, 'it does not start with osc.PROTO://');
  const proto = (m[1] ?? m[2] ?? 'udp').toLowerCase();
  if (proto === '') bad(url, 'empty protocol');
  const rest = m[3] as string;
  if (proto === 'unix') {
    const slash = rest.indexOf('/');
    if (slash < 0) bad(url, 'a unix URL needs a socket path');
    const host = slash > 0 ? rest.slice(0, slash) : undefined;
    let path = rest.slice(slash);
    while (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    // liblo's own server URLs have four slashes (osc.unix:////tmp/x): one path, not two
    path = path.replace(/^\/+/, '/');
    if (path === '/') bad(url, 'a unix URL needs a socket path');
    return { proto, host, port: undefined, path };
  }
  if (proto === 'serial') return parseSerial(url, rest);
  const slash = rest.indexOf('/', rest.startsWith('[') ? rest.indexOf(']') : 0);
  const hostport = slash < 0 ? rest : rest.slice(0, slash);
  let host: string | undefined;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) bad(url, 'unclosed [ in an IPv6 address');
    host = hostport.slice(1, close);
    const after = hostport.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) bad(url, `unexpected ${JSON.stringify(after)} after the IPv6 address`);
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = hostport.lastIndexOf(':');
    if (colon >= 0 && hostport.indexOf(':') !== colon) bad(url, 'an IPv6 address goes in [ ]');
    host = colon < 0 ? hostport : hostport.slice(0, colon);
    portText = colon < 0 ? undefined : hostport.slice(colon + 1);
  }
  if (host === '') host = undefined;
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) bad(url, `bad port ${JSON.stringify(portText)}`);
    port = Number(portText);
  }
  let path: string | undefined;
  if (proto === 'ws') {
    // the HTTP path the WebSocket is upgraded at; a query or fragment is not part of it
    path = slash < 0 ? '/' : (rest.slice(slash).split(/[?#]/)[0] as string);
  }
  return { proto, host, port, path };
}

/**
 * `osc.serial:///dev/ttyACM0?baud=115200` (or `osc.serial://localhost/dev/...`; on Windows
 * `osc.serial://COM3?baud=115200`): the device path, and the line settings as query parameters.
 */
function parseSerial(url: string, rest: string): ParsedUrl {
  const q = rest.indexOf('?');
  let device = q < 0 ? rest : rest.slice(0, q);
  if (device.startsWith('localhost/')) device = device.slice('localhost'.length);
  if (/^COM\d+\/?$/i.test(device)) device = device.replace(/\/$/, '').toUpperCase();
  else if (!device.startsWith('/')) bad(url, 'a serial URL names a device: osc.serial:///dev/ttyACM0 (three slashes)');
  else device = device.replace(/^\/+/, '/');
  if (device === '/' || device === '') bad(url, 'a serial URL needs a device path');
  const query: Record<string, string> = {};
  if (q >= 0) {
    for (const part of rest.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      let name: string;
      let value: string;
      try {
        name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq)).toLowerCase();
        value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
      } catch {
        bad(url, `a badly escaped query parameter ${JSON.stringify(part)}`);
      }
      if (Object.hasOwn(query, name)) bad(url, `the query parameter ${name} is given twice`);
      query[name] = value;
    }
  }
  return { proto: 'serial', host: undefined, port: undefined, path: device, query };
}

/** liblo's form: `osc.udp://host:port/`, IPv6 hosts in brackets; `osc.unix:///path`. */
export function formatUrl(proto: string, host: string | undefined, port: number | undefined, path?: string): string {
  if (proto === 'unix') return `osc.unix://${path ?? ''}`;
  if (proto === 'serial') return `osc.serial://${path ?? ''}`;
  const tail = proto === 'ws' ? (path ?? '/') : '/';
  return `osc.${proto}://${host === undefined ? '' : bracketHost(host)}:${port ?? ''}${tail}`;
}

/** A host as it goes before `:port` in a URL: an IPv6 address in brackets (`[::1]`), any other as it is. */
export function bracketHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function isProto(value: string): value is Proto {
  return (PROTOS as readonly string[]).includes(value);
}

/** IPv4 224.0.0.0/4 or IPv6 ff00::/8. */
export function isMulticastAddress(host: string): boolean {
  const v4 = /^(\d{1,3})\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.exec(host);
  if (v4 !== null) {
    const first = Number(v4[1]);
    return first >= 224 && first <= 239;
  }
  return /^ff[0-9a-f]{2}:/i.test(host);
}

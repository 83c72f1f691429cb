// The OSCQuery client: read a remote namespace over HTTP, send to its methods with their declared
// types, and stream values (LISTEN) and namespace changes over its WebSocket.
import { Address } from '../address/address.js';
import type { AddressOptions } from '../address/options.js';
import type { Bundle } from '../codec/bundle.js';
import { decode } from '../codec/decode.js';
import type { OscError } from '../codec/errors.js';
import { Message } from '../codec/message.js';
import { TimeTag } from '../codec/timetag.js';
import { ANY_ARGS, type AnyArgs, type Typespec, typespecString } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';
import { OscConfigError } from '../transport/errors.js';
import { getJson } from './client-http.js';
import { type RemoteStream, type StreamOptions, WsStream } from './client-stream.js';
import { OscQueryError } from './errors.js';
import { shortJson } from './json-values.js';
import { type HostInfo, NO_HOST_INFO, type ParsedTree, parseHostInfo, parseTree, type RemoteNode } from './tree.js';

/**
 * The default `maxBodySize`, 16 MiB. A VRChat avatar's tree is tens of KiB and large ossia or
 * TouchDesigner namespaces a few MiB; 16 MiB leaves room for those and bounds what one answer
 * costs (parsed JSON takes several times its text in memory).
 */
export const DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024;
/** The default `maxDepth` of CONTENTS nesting: OSC addresses in the field are rarely 10 deep. */
export const DEFAULT_MAX_TREE_DEPTH = 64;
/** The default `maxNodes`: about what 16 MiB of typical node JSON holds. */
export const DEFAULT_MAX_NODES = 262_144;
/** The default `timeout` of each HTTP request, in milliseconds. */
export const DEFAULT_QUERY_TIMEOUT = 5000;

/** Options of {@link queryNamespace} and `refresh()`. */
export interface QueryOptions {
  /** Aborts the requests (`OscAbortError`). */
  readonly signal?: AbortSignal | undefined;
  /** Milliseconds each request may take (`OscTimeoutError`). Default 5000. */
  readonly timeout?: number | undefined;
  /** Largest body accepted (`ERR_OSC_QUERY_TOO_LARGE`). Default 16 MiB ({@link DEFAULT_MAX_BODY_SIZE}). */
  readonly maxBodySize?: number | undefined;
  /**
   * Deepest CONTENTS nesting accepted (`ERR_OSC_QUERY_TOO_DEEP`). Default 64. JSON nested more
   * than `2 × maxDepth + 32` anywhere (in a VALUE, in OVERLOADS) is refused the same way, before
   * it is parsed.
   */
  readonly maxDepth?: number | undefined;
  /** Most nodes accepted (`ERR_OSC_QUERY_TOO_LARGE`). Default 262144. */
  readonly maxNodes?: number | undefined;
}

/** One value a server streamed for a LISTENed path. */
export interface StreamedValue {
  readonly path: string;
  /** The typetags, without the comma. */
  readonly typetags: string;
  readonly args: readonly OscArg[];
  /** The timetag of the bundle it came in, or `TimeTag.IMMEDIATE`. */
  readonly timetag: TimeTag;
}

/** A change to the remote namespace, as the server announced it on the WebSocket. */
export type NamespaceChange =
  | { readonly command: 'PATH_CHANGED' | 'PATH_ADDED' | 'PATH_REMOVED'; readonly path: string }
  | { readonly command: 'PATH_RENAMED'; readonly path: string; readonly oldPath: string };

/** Options of `changes()`. */
export interface ChangesOptions extends StreamOptions {
  /**
   * Refresh the namespace (GET it again) before each change is yielded, so that `get()` already
   * shows it. Changes that arrive together share one refresh. A refresh that fails ends the
   * iteration with its error.
   */
  readonly follow?: boolean | undefined;
}

/** `address()`'s options: an Address's, and `host` to send to instead of the one worked out. */
export type RemoteAddressOptions = AddressOptions & { readonly host?: string | undefined };

/** A remote OSCQuery namespace, read by {@link queryNamespace}. */
export interface RemoteNamespace {
  /** The URL it was read from (`http://host:port/path`). */
  readonly url: string;
  /** `?HOST_INFO` (every field `undefined` if the server has none). */
  readonly hostInfo: HostInfo;
  /** The node the URL names (the namespace's root for `http://host:port/`). */
  readonly root: RemoteNode;
  /**
   * The liblo URL `address()` sends to (`osc.udp://127.0.0.1:9000/`), or `undefined` when
   * HOST_INFO gives no `OSC_PORT` or an `OSC_TRANSPORT` other than UDP and TCP.
   */
  readonly oscUrl: string | undefined;
  /**
   * Where `listen()` and `changes()` connect: `ws://WS_IP:WS_PORT/` from HOST_INFO (the HTTP host
   * when `WS_IP` is absent, `0.0.0.0` or `::`), else the HTTP server's host and port (the spec's
   * default: the WebSocket shares the HTTP port).
   */
  readonly wsUrl: string;
  /** Attributes that were present but unusable, and left out: `"/path: what"`. */
  readonly warnings: readonly string[];
  /** The node at `path`, or `undefined`. */
  get(path: string): RemoteNode | undefined;
  /** Every node, the root first, depth first in the server's order. */
  nodes(): IterableIterator<RemoteNode>;
  /**
   * `{ path, typespec }` for `address.send(target, ...args)`, typed by the node's `TYPE`: a
   * remote float is sent as `f` even when the value is `1`. A `TYPE` with `T` or `F` (VRChat's
   * booleans) gives `ANY_ARGS`, so that `true` goes as `T` and `false` as `F`. With `expected`,
   * the node's `TYPE` must be that typespec (`T` and `F` count as the same), and the target is
   * typed by it at compile time. Throws `ERR_OSC_QUERY_NOT_FOUND` (no such node, or no `TYPE`)
   * and `ERR_OSC_QUERY_TYPE_MISMATCH`.
   */
  target(path: string): { readonly path: string; readonly typespec: string | AnyArgs };
  /** The same, checked against `expected` and typed by it at compile time. */
  target<const T extends Typespec>(path: string, expected: T): { readonly path: string; readonly typespec: T };
  /**
   * An {@link Address} to the server's OSC port (`OSC_PORT`, over `OSC_TRANSPORT`). The host is
   * `OSC_IP`, unless it is absent, `0.0.0.0` or `::` — then the HTTP URL's host (VRChat ignores
   * `OSC_IP` and listens where its HTTP server is). Close it when done.
   */
  address(options?: RemoteAddressOptions): Address;
  /** Reads the namespace and HOST_INFO again; `root`, `get()` and the rest show the new state. */
  refresh(options?: QueryOptions): Promise<RemoteNamespace>;
  /**
   * Streams the values of `paths` (LISTEN, on the server's WebSocket: `WS_IP`:`WS_PORT`, or the
   * HTTP host and port). Leaving the iteration sends IGNORE and closes the WebSocket.
   */
  listen(paths: string | readonly string[], options?: StreamOptions): RemoteStream<StreamedValue>;
  /** Streams PATH_CHANGED, PATH_ADDED, PATH_REMOVED and PATH_RENAMED from the server's WebSocket. */
  changes(options?: ChangesOptions): RemoteStream<NamespaceChange>;
}

/**
 * Where an OSCQuery server is: `http://host:port/path`, or `host:port` (taken as HTTP). Anything
 * else throws `ERR_OSC_INVALID_URL`.
 */
export function normalizeQueryUrl(input: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `http://${input}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OscConfigError(
      'ERR_OSC_INVALID_URL',
      `not an OSCQuery URL: ${JSON.stringify(input)}; use http://host:port/`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OscConfigError('ERR_OSC_INVALID_URL', `an OSCQuery server is reached over http(s), not ${url.protocol}`);
  }
  url.search = '';
  url.hash = '';
  return url;
}

function resolved(options: QueryOptions) {
  const num = (name: string, v: number | undefined, dflt: number) => {
    const n = v ?? dflt;
    if (!Number.isInteger(n) || n < 1) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `${name} must be a positive integer, got ${String(v)}`);
    }
    return n;
  };
  const maxDepth = num('maxDepth', options.maxDepth, DEFAULT_MAX_TREE_DEPTH);
  return {
    signal: options.signal,
    timeout: num('timeout', options.timeout, DEFAULT_QUERY_TIMEOUT),
    maxBodySize: num('maxBodySize', options.maxBodySize, DEFAULT_MAX_BODY_SIZE),
    maxDepth,
    maxNodes: num('maxNodes', options.maxNodes, DEFAULT_MAX_NODES),
    // each CONTENTS level is two JSON levels (CONTENTS, then the node); attribute values (VALUE
    // arrays, OVERLOADS) get 32 more
    maxJsonDepth: 2 * maxDepth + 32,
  };
}

interface Snapshot {
  readonly tree: ParsedTree;
  readonly hostInfo: HostInfo;
  readonly warnings: readonly string[];
}

async function read(url: URL, options: QueryOptions): Promise<Snapshot> {
  const o = resolved(options);
  const path = nodePath(url);
  const hostInfoUrl = new URL('/?HOST_INFO', url).href;
  // when one request fails, the other is given up
  const giveUp = new AbortController();
  const signal = o.signal === undefined ? giveUp.signal : AbortSignal.any([o.signal, giveUp.signal]);
  const get = { ...o, signal };
  try {
    const [tree, info] = await Promise.all([
      getJson(url.href, get).then((r) => {
        if (!('json' in r)) {
          throw new OscQueryError('ERR_OSC_QUERY_HTTP', `GET ${url.href}: HTTP ${r.status} without a body`, {
            url: url.href,
            status: r.status,
          });
        }
        return parseTree(r.json, path, o, url.href);
      }),
      // a server without HOST_INFO (older OSCQuery.framework) answers 400 or 404: unknown, not fatal
      getJson(hostInfoUrl, get, [400, 404]),
    ]);
    const warnings = [...tree.warnings];
    let hostInfo = NO_HOST_INFO;
    if ('json' in info) hostInfo = parseHostInfo(info.json, hostInfoUrl, warnings);
    else warnings.push(`HOST_INFO: HTTP ${info.status}; the server's OSC port is unknown`);
    return { tree, hostInfo, warnings };
  } catch (err) {
    giveUp.abort();
    throw err;
  }
}

/** The OSC path a URL names: its decoded path, without a trailing slash (but `/`). */
function nodePath(url: URL): string {
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw new OscConfigError('ERR_OSC_INVALID_URL', `${url.href}: the path is not valid percent-encoding`);
  }
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : '/';
}

/**
 * Reads an OSCQuery server's namespace (`GET url`) and its `?HOST_INFO`, both at once. `url` is
 * `http://host:port/` (or a node under it, `http://host:port/avatar`) or `host:port`.
 * Rejects with `OscQueryError` (`ERR_OSC_QUERY_HTTP`, `_CONNECT`, `_INVALID`, `_TOO_LARGE`,
 * `_TOO_DEEP`), `OscTimeoutError` or `OscAbortError`.
 */
export async function queryNamespace(url: string, options: QueryOptions = {}): Promise<RemoteNamespace> {
  const where = normalizeQueryUrl(url);
  resolved(options); // bad options throw before anything is sent
  nodePath(where);
  return new RemoteNamespaceImpl(where, await read(where, options), options);
}

const UNSPECIFIED = new Set(['', '0.0.0.0', '::', '[::]']);

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function checkPaths(paths: string | readonly string[]): string[] {
  const list = typeof paths === 'string' ? [paths] : [...paths];
  if (list.length === 0) throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'listen() needs at least one path');
  for (const p of list) {
    if (typeof p !== 'string' || !p.startsWith('/')) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `listen() takes OSC paths ("/a/b"), got ${shortJson(p)}`);
    }
  }
  return [...new Set(list)];
}

function sameType(a: string, b: string): boolean {
  return a.replace(/F/g, 'T') === b.replace(/F/g, 'T');
}

function messagesOf(packet: Message | Bundle, timetag: TimeTag, out: StreamedValue[]): void {
  if (packet instanceof Message) {
    out.push({ path: packet.path, typetags: packet.typetags, args: packet.args, timetag });
    return;
  }
  for (const element of packet.elements) messagesOf(element, packet.timetag, out);
}

class RemoteNamespaceImpl implements RemoteNamespace {
  readonly url: string;
  readonly #url: URL;
  readonly #options: QueryOptions;
  #snapshot: Snapshot;
  /** Bumped on each change event; a refresh remembers the count it started at. */
  #changeCount = 0;
  #refreshedAt = 0;

  constructor(url: URL, snapshot: Snapshot, options: QueryOptions) {
    this.#url = url;
    this.url = url.href;
    this.#snapshot = snapshot;
    // a refresh uses the limits of the first read, not its signal
    this.#options = { ...options, signal: undefined };
  }

  get hostInfo(): HostInfo {
    return this.#snapshot.hostInfo;
  }

  get root(): RemoteNode {
    return this.#snapshot.tree.root;
  }

  get warnings(): readonly string[] {
    return this.#snapshot.warnings;
  }

  get(path: string): RemoteNode | undefined {
    return this.#snapshot.tree.byPath.get(path);
  }

  *nodes(): IterableIterator<RemoteNode> {
    const stack: RemoteNode[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop() as RemoteNode;
      yield node;
      const children = [...node.contents.values()];
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as RemoteNode);
    }
  }

  /** See {@link RemoteNamespace.target}. */
  target(path: string): { readonly path: string; readonly typespec: string | AnyArgs };
  /** See {@link RemoteNamespace.target}. */
  target<const T extends Typespec>(path: string, expected: T): { readonly path: string; readonly typespec: T };
  target(path: string, expected?: Typespec): { readonly path: string; readonly typespec: Typespec } {
    const node = this.get(path);
    if (node === undefined) {
      throw new OscQueryError('ERR_OSC_QUERY_NOT_FOUND', `${this.url} has no node ${path}`, { url: this.url });
    }
    if (node.type === undefined) {
      throw new OscQueryError('ERR_OSC_QUERY_NOT_FOUND', `${path} has no TYPE: nothing to send to`, { url: this.url });
    }
    if (expected !== undefined) {
      const want = typespecString(expected);
      if (want === null || !sameType(want, node.type)) {
        throw new OscQueryError(
          'ERR_OSC_QUERY_TYPE_MISMATCH',
          `${path} has TYPE '${node.type}', not ${want === null ? 'ANY_ARGS' : `'${want}'`}`,
          { url: this.url },
        );
      }
      return { path: node.path, typespec: expected };
    }
    if (/[TF]/.test(node.type)) return { path: node.path, typespec: ANY_ARGS };
    return { path: node.path, typespec: node.type };
  }

  get oscUrl(): string | undefined {
    try {
      const { host, port, proto } = this.#oscTarget(undefined);
      return `osc.${proto}://${bracketed(host)}:${port}/`;
    } catch {
      return undefined;
    }
  }

  address(options: RemoteAddressOptions = {}): Address {
    const { host: hostOption, ...addressOptions } = options;
    return new Address(this.#oscTarget(hostOption), addressOptions);
  }

  #oscTarget(hostOption: string | undefined): { host: string; port: number; proto: 'udp' | 'tcp' } {
    const info = this.hostInfo;
    if (info.oscPort === undefined) {
      throw new OscQueryError('ERR_OSC_QUERY_NOT_FOUND', `${this.url}: HOST_INFO gives no OSC_PORT`, {
        url: this.url,
      });
    }
    const transport = info.oscTransport ?? 'UDP';
    if (transport !== 'UDP' && transport !== 'TCP') {
      throw new OscQueryError('ERR_OSC_QUERY_NOT_SUPPORTED', `OSC_TRANSPORT ${transport} is neither UDP nor TCP`, {
        url: this.url,
      });
    }
    const oscIp = info.oscIp;
    const host =
      hostOption ??
      (oscIp === undefined || UNSPECIFIED.has(oscIp) ? this.#url.hostname.replace(/^\[(.*)\]$/, '$1') : oscIp);
    return { host, port: info.oscPort, proto: transport === 'TCP' ? 'tcp' : 'udp' };
  }

  async refresh(options: QueryOptions = {}): Promise<RemoteNamespace> {
    const startedAt = this.#changeCount;
    this.#snapshot = await read(this.#url, { ...this.#options, ...options });
    this.#refreshedAt = Math.max(this.#refreshedAt, startedAt);
    return this;
  }

  get wsUrl(): string {
    const info = this.hostInfo;
    const httpHost = this.#url.hostname;
    const scheme = this.#url.protocol === 'https:' ? 'wss' : 'ws';
    if (info.wsPort === undefined) return `${scheme}://${this.#url.host}/`;
    const ip = info.wsIp;
    const host = ip === undefined || UNSPECIFIED.has(ip) ? httpHost : bracketed(ip);
    const url = `${scheme}://${host}:${info.wsPort}/`;
    if (!URL.canParse(url)) {
      throw new OscQueryError(
        'ERR_OSC_QUERY_INVALID',
        `${this.url}: HOST_INFO's WS_IP ${shortJson(ip)} is not a host`,
        {
          url: this.url,
        },
      );
    }
    return url;
  }

  listen(paths: string | readonly string[], options: StreamOptions = {}): RemoteStream<StreamedValue> {
    const list = checkPaths(paths);
    if (this.hostInfo.extensions.LISTEN === false) {
      throw new OscQueryError('ERR_OSC_QUERY_NOT_SUPPORTED', `${this.url} says it does not support LISTEN`, {
        url: this.url,
      });
    }
    const wanted = new Set(list);
    const command = (name: string) => (send: (text: string) => void) => {
      for (const p of list) send(JSON.stringify({ COMMAND: name, DATA: p }));
    };
    return new WsStream<StreamedValue>(
      this.wsUrl,
      {
        open: command('LISTEN'),
        closing: command('IGNORE'),
        text: () => [], // namespace changes: changes() reads them
        binary: (bytes) => {
          let packet: Message | Bundle;
          try {
            packet = decode(bytes, { maxPacketSize: bytes.byteLength });
          } catch (err) {
            return err as OscError;
          }
          const all: StreamedValue[] = [];
          messagesOf(packet, TimeTag.IMMEDIATE, all);
          return all.filter((m) => wanted.has(m.path));
        },
      },
      options,
    );
  }

  changes(options: ChangesOptions = {}): RemoteStream<NamespaceChange> {
    const { follow, ...streamOptions } = options;
    const counted = new WeakMap<NamespaceChange, number>();
    return new WsStream<NamespaceChange>(
      this.wsUrl,
      {
        open: () => {},
        closing: () => {},
        binary: () => [],
        text: (text) => {
          const change = parseChange(text, this.url);
          if (!Array.isArray(change)) return change;
          for (const c of change) counted.set(c, ++this.#changeCount);
          return change;
        },
        beforeYield:
          follow === true
            ? async (change) => {
                // a refresh that started after this change arrived has it already
                if (this.#refreshedAt >= (counted.get(change) ?? 0)) return;
                await this.refresh();
              }
            : undefined,
      },
      streamOptions,
    );
  }
}

const PATH_COMMANDS = new Set(['PATH_CHANGED', 'PATH_ADDED', 'PATH_REMOVED']);
const STREAM_COMMANDS = new Set(['LISTEN', 'IGNORE']);

/** A text frame as a change: `[change]`, `[]` for a command this client has no use for, or the problem. */
function parseChange(text: string, url: string): NamespaceChange[] | OscError {
  const bad = (what: string) =>
    new OscQueryError('ERR_OSC_QUERY_INVALID', `${url}: text frame ${shortJson(text)}: ${what}`, { url });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return bad('not a {COMMAND, DATA} object');
  const { COMMAND: command, DATA: data } = json as Record<string, unknown>;
  if (typeof command !== 'string') return bad('no COMMAND');
  const pathOf = (d: unknown): string | undefined => {
    if (typeof d === 'string' && d.startsWith('/')) return d;
    // some servers send the added node itself
    const full = (d as { FULL_PATH?: unknown } | null)?.FULL_PATH;
    return typeof full === 'string' && full.startsWith('/') ? full : undefined;
  };
  if (PATH_COMMANDS.has(command)) {
    const path = pathOf(data);
    if (path === undefined) return bad(`${command} without a path`);
    return [{ command: command as 'PATH_CHANGED', path }];
  }
  if (command === 'PATH_RENAMED') {
    const d = data as { OLD?: unknown; NEW?: unknown } | null;
    const oldPath = pathOf(d?.OLD);
    const path = pathOf(d?.NEW);
    if (oldPath === undefined || path === undefined) return bad('PATH_RENAMED without OLD and NEW paths');
    return [{ command: 'PATH_RENAMED', path, oldPath }];
  }
  if (STREAM_COMMANDS.has(command)) return [];
  return []; // a command of an extension this client does not know
}

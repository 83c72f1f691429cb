// aiolo query: read an OSCQuery server's namespace and print it, one node per line.

import type { RangeEntry, RemoteNode } from '../index.js';
import { browse, INFINITUM, OscError, OscQueryError, queryNamespace, type RemoteNamespace } from '../index.js';
import { argToJson } from '../oscquery/json-values.js';
import { type Io, write } from './io.js';

export const QUERY_USAGE = `Usage: aiolo query [--json] [--timeout <ms>] <url | host:port | service-name>
Read an OSCQuery server's namespace (GET / and /?HOST_INFO) and print it.

url          : http://host:port/ (or a node under it: http://host:port/avatar)
host:port    : the same as http://host:port/
service-name : an OSCQuery service found over mDNS within 5 s (VRChat-Client-XXXX; a prefix: 'VRChat-Client-*')
--json       : the parsed namespace as one JSON document instead
--timeout ms : how long each request may take (default 5000)

Output: a first line "# <url>" with the server's NAME, the OSC URL to send to and the WebSocket
(when HOST_INFO has WS_PORT or LISTEN),
then one node per line, indented two spaces per level: the node's name ("/" for the root), "/"
after containers, then whichever attributes the node has, in this order:
  ,TYPE           the typetags                    ,f   ,ifs   ,[ff]
  access          r, w, rw, or - (none)
  = v1 v2         VALUE, one per argument: numbers (int64 too) as digits, strings, symbols and
                  chars quoted, true/false, nil, inf (INFINITUM), blobs as quoted base64, MIDI
                  [p,s,d1,d2], RGBA "#rrggbbaa", timetags "%08x.%08x", arrays [a,b]; - for none
  range=R1,R2     RANGE per argument: min..max (either end may be empty), {a|b|c} for VALS, -
  unit=, clip=, ext=   UNIT, CLIPMODE, EXTENDED_TYPE per argument, comma-separated
  tags=a,b        TAGS
  critical        CRITICAL is true
  overloads       OVERLOADS is present (see --json)
  desc="..."      DESCRIPTION, quoted
Attributes the server sent but that could not be read are reported on stderr as warnings.
`;

/** How long a service name is looked for over mDNS: a responder answers within a second or two. */
const RESOLVE_MS = 5000;

/**
 * Turns a service name (`VRChat-Client-1A2B3C`, or a prefix ending in `*`: `VRChat-Client-*`) into
 * the HTTP URL of its OSCQuery server, by browsing `_oscjson._tcp` over mDNS for up to 5 s.
 */
export async function resolveService(name: string, signal?: AbortSignal): Promise<string> {
  const prefix = name.endsWith('*') ? name.slice(0, -1) : undefined;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), RESOLVE_MS);
  const stop = () => ac.abort();
  signal?.addEventListener('abort', stop, { once: true });
  const browser = browse({ types: ['_oscjson._tcp'], signal: ac.signal });
  try {
    for await (const event of browser) {
      const s = event.service;
      if (event.type === 'down' || !(prefix === undefined ? s.name === name : s.name.startsWith(prefix))) continue;
      const address = s.addresses.find((a) => !a.includes(':')) ?? s.addresses[0] ?? s.host;
      return `http://${address.includes(':') ? `[${address}]` : address}:${s.port}/`;
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
    await browser.stop();
  }
  throw new OscQueryError(
    'ERR_OSC_QUERY_NOT_FOUND',
    `no OSCQuery service named ${JSON.stringify(name)} answered over mDNS within ${RESOLVE_MS / 1000} s`,
  );
}

/** Whether an argument is a URL or host:port (else it is a service name). */
function isAddress(arg: string): boolean {
  return /^https?:\/\//i.test(arg) || /^(\[[0-9a-fA-F:.]+\]|[^\s/:[\]]+):[0-9]+(\/.*)?$/.test(arg);
}

interface QueryArgs {
  json: boolean;
  timeout: number | undefined;
  target: string;
}

function parse(argv: readonly string[], io: Io): QueryArgs | number {
  let json = false;
  let timeout: number | undefined;
  let target: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      io.stdout.write(QUERY_USAGE);
      return 0;
    } else if (a === '--timeout') {
      const v = argv[++i];
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n < 1) {
        io.stderr.write(`aiolo query: --timeout takes a positive number of milliseconds\n`);
        return 1;
      }
      timeout = n;
    } else if (a.startsWith('-')) {
      io.stderr.write(`aiolo query: unknown option '${a}'\n\n${QUERY_USAGE}`);
      return 1;
    } else if (target === undefined) {
      target = a;
    } else {
      io.stderr.write(`aiolo query: one server at a time ('${a}')\n`);
      return 1;
    }
  }
  if (target === undefined) {
    io.stderr.write(QUERY_USAGE);
    return 1;
  }
  return { json, timeout, target };
}

export async function query(argv: readonly string[], io: Io, signal?: AbortSignal): Promise<number> {
  const args = parse(argv, io);
  if (typeof args === 'number') return args;
  try {
    const url = isAddress(args.target) ? args.target : await resolveService(args.target, signal);
    const ns = await queryNamespace(url, { signal, timeout: args.timeout });
    for (const w of ns.warnings) io.stderr.write(`aiolo query: warning: ${w}\n`);
    if (args.json) await write(io.stdout, `${JSON.stringify(namespaceJson(ns), null, 2)}\n`);
    else await printTree(ns, io);
    return 0;
  } catch (err) {
    if (!(err instanceof OscError)) throw err;
    io.stderr.write(`aiolo query: ${err.message} [${err.code}]\n`);
    return 1;
  }
}

// ---- text ---------------------------------------------------------------------------------

function value(v: unknown): string {
  if (v === undefined) return '-';
  if (typeof v === 'bigint') return String(v);
  if (v === null) return 'nil';
  if (v === INFINITUM) return 'inf';
  const j = argToJson(v as never);
  return typeof j === 'number' ? String(j) : JSON.stringify(j);
}

function range(r: RangeEntry): string {
  if (r === undefined) return '-';
  if (Array.isArray(r)) return `[${r.map(range).join(',')}]`;
  const one = r as Exclude<RangeEntry, undefined | readonly RangeEntry[]>;
  let text = '';
  if (one.min !== undefined || one.max !== undefined) {
    text = `${one.min === undefined ? '' : value(one.min)}..${one.max === undefined ? '' : value(one.max)}`;
  }
  if (one.vals !== undefined) text += `{${one.vals.map(value).join('|')}}`;
  return text === '' ? '-' : text;
}

const ACCESS = ['-', 'r', 'w', 'rw'];

/** One node's line, without indentation. */
export function nodeLine(node: RemoteNode, isRoot: boolean): string {
  const parts = [isRoot ? node.path : `${node.name}${node.contents.size > 0 ? '/' : ''}`];
  if (node.type !== undefined) parts.push(`,${node.type}`);
  if (node.access !== undefined) parts.push(ACCESS[node.access] as string);
  if (node.value !== undefined) parts.push('=', ...node.value.map(value));
  if (node.range !== undefined) parts.push(`range=${node.range.map(range).join(',')}`);
  const list = (name: string, l: readonly (string | undefined)[] | undefined) => {
    if (l !== undefined) parts.push(`${name}=${l.map((s) => s ?? '-').join(',')}`);
  };
  list('unit', node.unit);
  list('clip', node.clipmode);
  list('ext', node.extendedType);
  list('tags', node.tags);
  if (node.critical === true) parts.push('critical');
  if (node.overloads !== undefined) parts.push('overloads');
  if (node.description !== undefined) parts.push(`desc=${JSON.stringify(node.description)}`);
  return parts.join(' ');
}

function header(ns: RemoteNamespace): string {
  const parts = [`# ${ns.url}`];
  if (ns.hostInfo.name !== undefined) parts.push(`name=${JSON.stringify(ns.hostInfo.name)}`);
  if (ns.oscUrl !== undefined) parts.push(`osc=${ns.oscUrl}`);
  if (ns.hostInfo.wsPort !== undefined || ns.hostInfo.extensions.LISTEN === true) {
    try {
      parts.push(`ws=${ns.wsUrl}`);
    } catch {
      // a WS_IP that is not a host: listen() reports it; the header just leaves it out
    }
  }
  return parts.join(' ');
}

async function printTree(ns: RemoteNamespace, io: Io): Promise<void> {
  let chunk = `${header(ns)}\n`;
  const visit = async (node: RemoteNode, depth: number): Promise<void> => {
    chunk += `${'  '.repeat(depth)}${nodeLine(node, depth === 0)}\n`;
    if (chunk.length > 65536) {
      await write(io.stdout, chunk);
      chunk = '';
    }
    for (const child of node.contents.values()) await visit(child, depth + 1);
  };
  await visit(ns.root, 0);
  await write(io.stdout, chunk);
}

// ---- JSON ---------------------------------------------------------------------------------

function rangeJson(r: RangeEntry): unknown {
  if (r === undefined) return null;
  if (Array.isArray(r)) return r.map(rangeJson);
  const one = r as Exclude<RangeEntry, undefined | readonly RangeEntry[]>;
  return { MIN: argToJson(one.min), MAX: argToJson(one.max), VALS: one.vals?.map((v) => argToJson(v)) };
}

/** A node as JSON: OSCQuery's attribute names, values in the JSON forms OSCQuery uses. */
export function nodeJson(node: RemoteNode): Record<string, unknown> {
  const out: Record<string, unknown> = { FULL_PATH: node.path };
  if (node.type !== undefined) out.TYPE = node.type;
  if (node.access !== undefined) out.ACCESS = node.access;
  if (node.value !== undefined) out.VALUE = node.value.map((v) => argToJson(v));
  if (node.range !== undefined) out.RANGE = node.range.map(rangeJson);
  if (node.description !== undefined) out.DESCRIPTION = node.description;
  if (node.tags !== undefined) out.TAGS = node.tags;
  if (node.unit !== undefined) out.UNIT = node.unit.map((s) => s ?? null);
  if (node.clipmode !== undefined) out.CLIPMODE = node.clipmode.map((s) => s ?? null);
  if (node.critical !== undefined) out.CRITICAL = node.critical;
  if (node.extendedType !== undefined) out.EXTENDED_TYPE = node.extendedType.map((s) => s ?? null);
  if (node.overloads !== undefined) out.OVERLOADS = node.overloads;
  if (node.contents.size > 0) {
    const contents: Record<string, unknown> = {};
    for (const [name, child] of node.contents) contents[name] = nodeJson(child);
    out.CONTENTS = contents;
  }
  return out;
}

function namespaceJson(ns: RemoteNamespace): unknown {
  const h = ns.hostInfo;
  return {
    url: ns.url,
    osc: ns.oscUrl ?? null,
    hostInfo: {
      NAME: h.name ?? null,
      OSC_IP: h.oscIp ?? null,
      OSC_PORT: h.oscPort ?? null,
      OSC_TRANSPORT: h.oscTransport ?? null,
      WS_IP: h.wsIp ?? null,
      WS_PORT: h.wsPort ?? null,
      EXTENSIONS: h.extensions,
    },
    warnings: ns.warnings,
    root: nodeJson(ns.root),
  };
}

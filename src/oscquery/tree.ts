// A remote OSCQuery namespace as parsed JSON: the node and host-info types, and the parser.
//
// What the parser holds to: the structure must be OSCQuery's (a node is a JSON object; CONTENTS,
// when present, an object of nodes) or the whole answer is refused with ERR_OSC_QUERY_INVALID;
// nesting and node count are bounded (ERR_OSC_QUERY_TOO_DEEP, ERR_OSC_QUERY_TOO_LARGE). An
// attribute that is present but unusable (ACCESS 7, a VALUE that does not fit TYPE) is left out of
// the node and named in `warnings`: servers in the field are loose, and one odd attribute should
// not hide the rest of a namespace.
import type { OscArg } from '../codec/values.js';
import { OscQueryError } from './errors.js';
import { jsonToArg, shortJson, splitTypetags } from './json-values.js';

/** `ACCESS`: 0 no value, 1 read-only, 2 write-only, 3 read and write. */
export type Access = 0 | 1 | 2 | 3;

/**
 * One argument's `RANGE`: `MIN`, `MAX` and the allowed values `VALS`, converted by the argument's
 * typetag (`undefined` where the server gave none).
 */
export interface RemoteRange {
  readonly min: OscArg | undefined;
  readonly max: OscArg | undefined;
  readonly vals: readonly OscArg[] | undefined;
}

/**
 * The range of one argument: a {@link RemoteRange}; for an array argument (`[ff]`) either one
 * range for every element or a list, one per element; `undefined` for an argument without a range
 * (the spec's `null` entries).
 */
export type RangeEntry = RemoteRange | readonly RangeEntry[] | undefined;

/** One node (container or method) of a remote namespace, as the server described it. */
export interface RemoteNode {
  /** The OSC address: the path of CONTENTS keys from the root (`FULL_PATH` should say the same). */
  readonly path: string;
  /** The last segment of `path` (`''` for the root). */
  readonly name: string;
  /** `TYPE`: the typetag string (`'f'`, `'ifs'`, `'[ff]'`); `undefined` for containers and untyped nodes. */
  readonly type: string | undefined;
  /** `ACCESS`. */
  readonly access: Access | undefined;
  /**
   * `VALUE`, one entry per argument, converted by `TYPE` (`f` → number, `h` → bigint, `[ff]` → an
   * array...). An entry is `undefined` where the server gave no value (`null`, `{}`) or one that
   * does not fit (see `warnings`).
   */
  readonly value: readonly (OscArg | undefined)[] | undefined;
  /**
   * `RANGE`, one entry per argument. The spec's single-object form, which stands for every
   * argument, is expanded here to one entry per argument; `null` entries are `undefined`.
   */
  readonly range: readonly RangeEntry[] | undefined;
  /** `DESCRIPTION`. */
  readonly description: string | undefined;
  /** `TAGS`. */
  readonly tags: readonly string[] | undefined;
  /** `UNIT`, one per argument (a single string stands for every argument). */
  readonly unit: readonly (string | undefined)[] | undefined;
  /** `CLIPMODE` (`'none'`, `'low'`, `'high'`, `'both'`), one per argument (a single string: every argument). */
  readonly clipmode: readonly (string | undefined)[] | undefined;
  /** `CRITICAL`: the server asks for a reliable transport for this method. */
  readonly critical: boolean | undefined;
  /** `EXTENDED_TYPE`, one per argument (a single string: every argument). */
  readonly extendedType: readonly (string | undefined)[] | undefined;
  /** `OVERLOADS`, as the server sent it (its shape varies between servers). */
  readonly overloads: unknown;
  /** `CONTENTS`: the children, by name, in the server's order. */
  readonly contents: ReadonlyMap<string, RemoteNode>;
}

/** `?HOST_INFO`: where the server's OSC and WebSocket ports are, and what it supports. */
export interface HostInfo {
  readonly name: string | undefined;
  /** `OSC_IP` as sent (VRChat's is meaningless; `namespace.address()` knows when to ignore it). */
  readonly oscIp: string | undefined;
  readonly oscPort: number | undefined;
  /** `OSC_TRANSPORT`, upper-cased: `'UDP'` or `'TCP'` (absent means UDP). */
  readonly oscTransport: string | undefined;
  readonly wsIp: string | undefined;
  readonly wsPort: number | undefined;
  /** `EXTENSIONS`: which optional attributes and commands the server says it supports. */
  readonly extensions: Readonly<Record<string, boolean>>;
}

/** How deep CONTENTS may nest and how many nodes a namespace may have. */
export interface TreeLimits {
  readonly maxDepth: number;
  readonly maxNodes: number;
}

/** A parsed namespace: the root, every node by path, and what was left out. */
export interface ParsedTree {
  readonly root: RemoteNode;
  readonly byPath: ReadonlyMap<string, RemoteNode>;
  readonly warnings: readonly string[];
}

/** At most this many warnings are kept (then one line says how many more there were). */
export const MAX_WARNINGS = 100;

class Warnings {
  readonly list: string[] = [];
  #more = 0;
  add(path: string, text: string): void {
    if (this.list.length < MAX_WARNINGS) this.list.push(`${path}: ${text}`);
    else this.#more++;
  }
  done(): string[] {
    if (this.#more > 0) this.list.push(`… and ${this.#more} more warning(s)`);
    return this.list;
  }
}

function isObject(json: unknown): json is Record<string, unknown> {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

function childPath(parent: string, name: string): string {
  return parent.endsWith('/') ? `${parent}${name}` : `${parent}/${name}`;
}

/**
 * Parses a node and everything under it. `path` is where the JSON was fetched from (`/` for the
 * root); `url` names the request in errors.
 */
export function parseTree(json: unknown, path: string, limits: TreeLimits, url: string): ParsedTree {
  const warnings = new Warnings();
  const byPath = new Map<string, RemoteNode>();
  const invalid = (where: string, what: string) =>
    new OscQueryError('ERR_OSC_QUERY_INVALID', `${url}: ${where}: ${what}`, { url });

  const parse = (node: unknown, nodePath: string, name: string, depth: number): RemoteNode => {
    if (!isObject(node)) throw invalid(nodePath, `a node is a JSON object, got ${shortJson(node)}`);
    if (depth > limits.maxDepth) {
      throw new OscQueryError(
        'ERR_OSC_QUERY_TOO_DEEP',
        `${url}: CONTENTS nested more than maxDepth ${limits.maxDepth} deep at ${nodePath}`,
        { url },
      );
    }
    if (byPath.size >= limits.maxNodes) {
      throw new OscQueryError('ERR_OSC_QUERY_TOO_LARGE', `${url}: more than maxNodes ${limits.maxNodes} nodes`, {
        url,
      });
    }
    const warn = (text: string) => warnings.add(nodePath, text);
    const attrs = parseAttributes(node, nodePath, warn);
    const contents = new Map<string, RemoteNode>();
    const node_: RemoteNode = { path: nodePath, name, ...attrs, contents };
    if (byPath.has(nodePath)) warn('appears twice; the later one is kept');
    byPath.set(nodePath, node_);

    const children = node.CONTENTS;
    if (children !== undefined && children !== null) {
      if (!isObject(children)) throw invalid(nodePath, `CONTENTS is an object of nodes, got ${shortJson(children)}`);
      for (const [key, child] of Object.entries(children)) {
        if (key === '' || key.includes('/') || key.includes('\0')) {
          warn(`CONTENTS key ${JSON.stringify(key)} is not a node name; left out`);
          continue;
        }
        contents.set(key, parse(child, childPath(nodePath, key), key, depth + 1));
      }
    }
    return node_;
  };

  const root = parse(json, path, path === '/' ? '' : (path.split('/').pop() ?? ''), 0);
  return { root, byPath, warnings: warnings.done() };
}

type Attributes = Omit<RemoteNode, 'path' | 'name' | 'contents'>;

function parseAttributes(node: Record<string, unknown>, path: string, warn: (text: string) => void): Attributes {
  const full = node.FULL_PATH;
  if (full !== undefined && full !== path) warn(`FULL_PATH ${shortJson(full)} differs from its place in the tree`);

  let type: string | undefined;
  let args: string[] | undefined;
  if (typeof node.TYPE === 'string') {
    const split = splitTypetags(node.TYPE);
    if (split === null) warn(`TYPE ${shortJson(node.TYPE)} is not a typetag string; left out`);
    else {
      type = node.TYPE;
      args = split;
    }
  } else if (node.TYPE !== undefined && node.TYPE !== null) {
    warn(`TYPE ${shortJson(node.TYPE)} is not a string; left out`);
  }

  let access: Access | undefined;
  if (node.ACCESS !== undefined) {
    const a = node.ACCESS;
    if (a === 0 || a === 1 || a === 2 || a === 3) access = a;
    else warn(`ACCESS ${shortJson(a)} is not 0, 1, 2 or 3; left out`);
  }

  return {
    type,
    access,
    value: parseValue(node.VALUE, args, warn),
    range: parseRange(node.RANGE, args, warn),
    description: stringAttr(node, 'DESCRIPTION', warn),
    tags: parseTags(node.TAGS, warn),
    unit: perArgStrings(node, 'UNIT', args, warn),
    clipmode: perArgStrings(node, 'CLIPMODE', args, warn),
    critical: boolAttr(node, 'CRITICAL', warn),
    extendedType: perArgStrings(node, 'EXTENDED_TYPE', args, warn),
    overloads: node.OVERLOADS,
  };
}

function stringAttr(node: Record<string, unknown>, name: string, warn: (text: string) => void): string | undefined {
  const v = node[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  warn(`${name} ${shortJson(v)} is not a string; left out`);
  return undefined;
}

function boolAttr(node: Record<string, unknown>, name: string, warn: (text: string) => void): boolean | undefined {
  const v = node[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  warn(`${name} ${shortJson(v)} is not a boolean; left out`);
  return undefined;
}

function parseTags(v: unknown, warn: (text: string) => void): readonly string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((t) => typeof t === 'string')) return v as string[];
  warn(`TAGS ${shortJson(v)} is not an array of strings; left out`);
  return undefined;
}

/** UNIT, CLIPMODE, EXTENDED_TYPE: an array, one per argument, or one string standing for all. */
function perArgStrings(
  node: Record<string, unknown>,
  name: string,
  args: readonly string[] | undefined,
  warn: (text: string) => void,
): readonly (string | undefined)[] | undefined {
  const v = node[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return new Array<string>(args?.length ?? 1).fill(v);
  if (Array.isArray(v) && v.every((s) => typeof s === 'string' || s === null)) {
    return v.map((s: string | null) => s ?? undefined);
  }
  warn(`${name} ${shortJson(v)} is neither a string nor an array of strings; left out`);
  return undefined;
}

/** A value without a TYPE to convert it by: JSON numbers, strings and booleans are taken as they are. */
function loose(json: unknown): { ok: true; value: OscArg | undefined } | { ok: false; why: string } {
  if (json === null || typeof json === 'number' || typeof json === 'string' || typeof json === 'boolean') {
    return { ok: true, value: json === null ? undefined : json };
  }
  return { ok: false, why: `${shortJson(json)} cannot be read without a TYPE` };
}

function convert(tag: string | undefined, json: unknown) {
  return tag === undefined ? loose(json) : jsonToArg(tag, json);
}

function parseValue(
  v: unknown,
  args: readonly string[] | undefined,
  warn: (text: string) => void,
): readonly (OscArg | undefined)[] | undefined {
  if (v === undefined) return undefined;
  let list: unknown[];
  if (!Array.isArray(v)) {
    list = [v]; // a bare value: some servers send `"VALUE": 0.5`
  } else if (args?.length === 1 && args[0]?.startsWith('[') && v.length > 0 && !Array.isArray(v[0])) {
    list = [v]; // the elements of a single array argument, not wrapped in the VALUE array
  } else {
    list = v;
  }
  if (args !== undefined && list.length !== args.length) {
    warn(`VALUE has ${list.length} item(s) for TYPE '${args.join('')}' of ${args.length} argument(s)`);
  }
  return list.map((item, i) => {
    const c = convert(args?.[i], item);
    if (!c.ok) {
      warn(`VALUE[${i}]: ${c.why}; left out`);
      return undefined;
    }
    return c.value;
  });
}

function parseRange(
  v: unknown,
  args: readonly string[] | undefined,
  warn: (text: string) => void,
): readonly RangeEntry[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) {
    if (args !== undefined && v.length !== args.length) {
      warn(`RANGE has ${v.length} item(s) for TYPE '${args.join('')}' of ${args.length} argument(s)`);
    }
    return v.map((item, i) => rangeEntry(args?.[i], item, `RANGE[${i}]`, warn, 0));
  }
  if (isObject(v)) {
    // the one-object form: the same range for every argument
    const n = args?.length ?? 1;
    const out: RangeEntry[] = [];
    for (let i = 0; i < n; i++) out.push(rangeEntry(args?.[i], v, 'RANGE', warn, 0));
    return out;
  }
  warn(`RANGE ${shortJson(v)} is neither an array nor an object; left out`);
  return undefined;
}

function rangeEntry(
  tag: string | undefined,
  json: unknown,
  where: string,
  warn: (text: string) => void,
  depth: number,
): RangeEntry {
  if (json === null || json === undefined) return undefined;
  const inner = tag?.startsWith('[') ? splitTypetags(tag.slice(1, -1)) : undefined;
  if (Array.isArray(json)) {
    // a list of ranges for the elements of an array argument
    if (inner === undefined || inner === null || depth >= 16) {
      warn(`${where} is an array, for an argument that is not an OSC array; left out`);
      return undefined;
    }
    return json.map((item, i) => rangeEntry(inner[i], item, `${where}[${i}]`, warn, depth + 1));
  }
  if (!isObject(json)) {
    warn(`${where} ${shortJson(json)} is not a {MIN, MAX, VALS} object; left out`);
    return undefined;
  }
  if (Object.keys(json).length === 0) return undefined;
  // one object for an array argument stands for each element: convert by the element type when
  // they all share it
  let elementTag = tag;
  if (inner !== undefined) elementTag = inner?.every((t) => t === inner[0]) ? inner[0] : undefined;
  const one = (key: string, x: unknown): OscArg | undefined => {
    if (x === undefined) return undefined;
    const c = convert(elementTag, x);
    if (!c.ok) {
      warn(`${where}.${key}: ${c.why}; left out`);
      return undefined;
    }
    return c.value;
  };
  let vals: OscArg[] | undefined;
  if (json.VALS !== undefined && json.VALS !== null) {
    if (!Array.isArray(json.VALS)) warn(`${where}.VALS ${shortJson(json.VALS)} is not an array; left out`);
    else {
      vals = [];
      json.VALS.forEach((x, i) => {
        const value = one(`VALS[${i}]`, x);
        if (value !== undefined) vals?.push(value);
      });
    }
  }
  return { min: one('MIN', json.MIN), max: one('MAX', json.MAX), vals };
}

function port(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `?HOST_INFO`'s JSON. Fields of the wrong type are `undefined` (and named in `warnings`). */
export function parseHostInfo(json: unknown, url: string, warnings: string[]): HostInfo {
  if (!isObject(json)) {
    throw new OscQueryError('ERR_OSC_QUERY_INVALID', `${url}: HOST_INFO is a JSON object, got ${shortJson(json)}`, {
      url,
    });
  }
  const check = (key: string, value: unknown, parsed: unknown) => {
    if (value !== undefined && value !== null && parsed === undefined) {
      warnings.push(`HOST_INFO: ${key} ${shortJson(value)} is not usable; left out`);
    }
  };
  const info = {
    name: str(json.NAME),
    oscIp: str(json.OSC_IP),
    oscPort: port(json.OSC_PORT),
    oscTransport: str(json.OSC_TRANSPORT)?.toUpperCase(),
    wsIp: str(json.WS_IP),
    wsPort: port(json.WS_PORT),
    extensions: {} as Record<string, boolean>,
  };
  check('NAME', json.NAME, info.name);
  check('OSC_IP', json.OSC_IP, info.oscIp);
  check('OSC_PORT', json.OSC_PORT, info.oscPort);
  check('OSC_TRANSPORT', json.OSC_TRANSPORT, info.oscTransport);
  check('WS_IP', json.WS_IP, info.wsIp);
  check('WS_PORT', json.WS_PORT, info.wsPort);
  if (isObject(json.EXTENSIONS)) {
    for (const [k, v] of Object.entries(json.EXTENSIONS)) if (typeof v === 'boolean') info.extensions[k] = v;
  } else {
    check('EXTENSIONS', json.EXTENSIONS, undefined);
  }
  return info;
}

/** A HOST_INFO for servers that have none (404 to `?HOST_INFO`): every field unknown. */
export const NO_HOST_INFO: HostInfo = Object.freeze({
  name: undefined,
  oscIp: undefined,
  oscPort: undefined,
  oscTransport: undefined,
  wsIp: undefined,
  wsPort: undefined,
  extensions: Object.freeze({}),
});

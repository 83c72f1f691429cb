// A server's routes as an OSCQuery namespace: the JSON tree the spec describes, node by node,
// built from the routes at the time of asking (routes come and go). Literal routes only: a
// pattern route (`match()`) and ANY_PATH receive, but name no path a peer could send to.

import { TimeTag } from '../codec/timetag.js';
import type { OscArg } from '../codec/values.js';
import { Char, Midi, OscSymbol, Rgba } from '../codec/values.js';
import type { Route } from '../server/route.js';
import type { ArgRange, RouteInfo } from '../server/route-info.js';

/** One node of the tree, as JSON (the spec's attribute names). */
export interface NodeJson {
  FULL_PATH: string;
  CONTENTS?: Record<string, NodeJson>;
  TYPE?: string;
  ACCESS?: number;
  VALUE?: unknown[];
  RANGE?: ({ MIN?: number; MAX?: number; VALS?: unknown[] } | null)[];
  DESCRIPTION?: string;
  TAGS?: string[];
  UNIT?: (string | null)[];
  CLIPMODE?: (string | null)[];
  CRITICAL?: boolean;
  EXTENDED_TYPE?: (string | null)[];
}

/** The attributes a node may have, for `?ATTR` (anything else is a 400). */
export const ATTRIBUTES = new Set([
  'FULL_PATH',
  'CONTENTS',
  'TYPE',
  'ACCESS',
  'VALUE',
  'RANGE',
  'DESCRIPTION',
  'TAGS',
  'UNIT',
  'CLIPMODE',
  'CRITICAL',
  'EXTENDED_TYPE',
]);

const ACCESS = { none: 0, read: 1, write: 2, readwrite: 3 } as const;

/** A value as JSON: numbers, strings and booleans as they are; what JSON cannot hold, as the spec suggests or null. */
export function jsonValue(value: OscArg): unknown {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value === null) {
    return typeof value === 'number' && !Number.isFinite(value) ? null : value;
  }
  if (typeof value === 'bigint') {
    // an int64 beyond 2^53 would lose digits as a JSON number: a string keeps them
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (value instanceof OscSymbol) return value.value;
  if (value instanceof Char) return String.fromCharCode(value.code);
  if (value instanceof Rgba) {
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    return `#${hex(value.r)}${hex(value.g)}${hex(value.b)}${hex(value.a)}`;
  }
  if (value instanceof Midi) return [value.port, value.status, value.data1, value.data2];
  if (value instanceof TimeTag) return value.toUnixSeconds();
  if (Array.isArray(value)) return value.map((v) => jsonValue(v as OscArg));
  return null; // blobs, INFINITUM: no JSON form in the spec
}

/** How many arguments a typetag string has (an array `[...]` is one). */
function argumentCount(typetags: string): number {
  let n = 0;
  let depth = 0;
  for (const t of typetags) {
    if (t === '[') {
      if (depth === 0) n++;
      depth++;
    } else if (t === ']') depth--;
    else if (depth === 0) n++;
  }
  return n;
}

/** One item for every argument: the same for all (a single value), or as given per argument. */
function perArgument<T, J>(given: T | readonly (T | null)[], n: number, map: (t: T) => J): (J | null)[] {
  if (Array.isArray(given)) return (given as readonly (T | null)[]).map((g) => (g === null ? null : map(g)));
  return Array.from({ length: Math.max(n, 1) }, () => map(given as T));
}

function rangeJson(r: ArgRange): { MIN?: number; MAX?: number; VALS?: unknown[] } {
  const out: { MIN?: number; MAX?: number; VALS?: unknown[] } = {};
  if (r.min !== undefined) out.MIN = r.min;
  if (r.max !== undefined) out.MAX = r.max;
  if (r.vals !== undefined) out.VALS = [...r.vals];
  return out;
}

/** The attributes of a route's node. */
function routeAttributes(node: NodeJson, route: Route, value: readonly OscArg[] | undefined): void {
  const info: RouteInfo = route.info;
  const typetags = route.typetags;
  if (typetags !== null) node.TYPE = typetags;
  const n = typetags === null ? 0 : argumentCount(typetags);
  const access = info.access !== undefined ? ACCESS[info.access] : typetags === '' ? 2 : 3;
  node.ACCESS = access;
  if ((access & 1) !== 0 && value !== undefined) node.VALUE = value.map(jsonValue);
  if (info.range !== undefined) node.RANGE = perArgument(info.range, n, rangeJson);
  if (info.description !== undefined) node.DESCRIPTION = info.description;
  if (info.tags !== undefined) node.TAGS = [...info.tags];
  if (info.unit !== undefined) node.UNIT = perArgument(info.unit, n, (u) => u);
  if (info.clipmode !== undefined) node.CLIPMODE = perArgument(info.clipmode, n, (c) => c);
  if (info.critical !== undefined) node.CRITICAL = info.critical;
  if (info.extendedType !== undefined) node.EXTENDED_TYPE = perArgument(info.extendedType, n, (e) => e);
}

/**
 * The node at `path` (with its whole subtree), or undefined when no route is at or under it.
 * `value(route)` is a route's current value; `describe` describes the root (the server's name).
 */
export function namespaceNode(
  routes: readonly Route[],
  path: string,
  value: (route: Route) => readonly OscArg[] | undefined,
  rootDescription: string,
): NodeJson | undefined {
  const prefix = path === '/' ? '/' : `${path.replace(/\/+$/, '')}/`;
  const at = path === '/' ? '/' : path.replace(/\/+$/, '');
  const nodes = new Map<string, NodeJson>();
  const nodeAt = (full: string): NodeJson => {
    let node = nodes.get(full);
    if (node === undefined) {
      node = { FULL_PATH: full };
      nodes.set(full, node);
    }
    return node;
  };
  const described = new Set<string>();
  let found = at === '/';
  for (const route of routes) {
    const p = route.path;
    if (typeof p !== 'string' || route.pattern !== undefined) continue;
    if (p !== at && !p.startsWith(prefix)) continue;
    found = true;
    // the node and every container between it and `at`
    if (!described.has(p)) {
      described.add(p); // the first route at a path describes it (another typespec there is an overload)
      routeAttributes(nodeAt(p), route, value(route));
    }
    let child = p;
    while (child !== at) {
      const cut = child.lastIndexOf('/');
      const parent = cut === 0 ? '/' : child.slice(0, cut);
      const parentNode = nodeAt(parent);
      parentNode.CONTENTS ??= {};
      parentNode.CONTENTS[child.slice(cut + 1)] = nodeAt(child);
      child = parent;
    }
  }
  if (!found) return undefined;
  // a node no route is at is a container: nothing to send to or read
  for (const [full, node] of nodes) if (!described.has(full)) node.ACCESS = 0;
  const root = nodeAt(at);
  if (at === '/') {
    root.DESCRIPTION ??= rootDescription;
    root.CONTENTS ??= {};
    if (!described.has('/')) root.ACCESS = 0;
  }
  return root;
}

import { parse, type Token } from './pattern-parse.js';

// OSC address patterns, as the OSC 1.0 spec and OSC 1.1 paper define them:
//   ?        exactly one character, never '/'
//   *        zero or more characters, never '/'
//   [a-z]    one character from a set or range; [!a-z] one character outside it (never '/');
//            '-' first or last and '!' anywhere but first are literal; ']' first is literal
//   {a,b}    one of the literal alternatives ({} and {,} match the empty string)
//   //       (OSC 1.1) zero or more whole path segments
// Like Python aiolo, a backslash makes the next character literal (\{ \} \[ \] \, \\).
// Matching is by construction polynomial (dynamic programming, no backtracking regex), since
// patterns arrive from the network.

/** True if `path` uses any pattern syntax (`? * [ ] { }` or `//`) and so needs pattern matching. */
export function isPattern(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    switch (path.charCodeAt(i)) {
      case 0x3f: // ?
      case 0x2a: // *
      case 0x5b: // [
      case 0x5d: // ]
      case 0x7b: // {
      case 0x7d: // }
        return true;
      case 0x2f: // /
        if (i + 1 < path.length && path.charCodeAt(i + 1) === 0x2f) return true; // (in bounds: see encode.ts's float loop)
    }
  }
  return false;
}

/** Splits a literal path into its segments: `/a/b` -> `['a', 'b']`. */
export function pathSegments(path: string): string[] {
  return path.slice(1).split('/');
}

/**
 * What matching may still spend, in steps (one step: one pattern token tried at one position of a
 * path segment). Patterns arrive from the network, so a server gives each message a budget and
 * rejects the message when it runs out, instead of letting one packet hold the event loop.
 */
export interface MatchBudget {
  left: number;
}

/** A token's fixed cost (a row cleared, a switch taken), in steps of one character compared. */
const TOKEN_STEPS = 8;

interface SegmentInfo {
  readonly tokens: readonly Token[];
  /** Shortest and longest path segment this can match (Infinity with a '*'). */
  readonly min: number;
  readonly max: number;
  /** Steps per character of the path segment, at most: what matching it costs. */
  readonly weight: number;
  /** No '*' and no '{ }': one way to match, left to right. */
  readonly simple: boolean;
}

/** A compiled address pattern. */
export class Pattern {
  readonly source: string;
  readonly #segments: readonly (SegmentInfo | null)[];
  readonly #hasDescent: boolean;
  /** Path segments a match needs at least (every segment but the `//` ones). */
  readonly #minSegments: number;

  /** Compiles `source`; throws {@link OscPatternError} if it is not a valid pattern. */
  constructor(source: string) {
    this.source = source;
    this.#segments = parse(source).map((tokens) => (tokens === null ? null : segmentInfo(tokens)));
    this.#hasDescent = this.#segments.includes(null);
    this.#minSegments = this.#segments.filter((s) => s !== null).length;
  }

  /** Whether the literal `path` matches. */
  matches(path: string): boolean {
    return path.charCodeAt(0) === 0x2f && this.matchesSegments(pathSegments(path));
  }

  /**
   * Whether a path already split into its segments (`'/a/b'` is `['a', 'b']`) matches (routing tables keep them split).
   * With a `budget`, matching stops when it is spent: the answer is then false, and `budget.left`
   * is negative.
   */
  matchesSegments(path: readonly string[], budget?: MatchBudget): boolean {
    const segs = this.#segments;
    if (budget !== undefined && --budget.left < 0) return false;
    if (!this.#hasDescent) {
      if (segs.length !== path.length) return false;
      // lengths first: cheap, and they rule out most candidates before any matching
      for (let i = 0; i < segs.length; i++) {
        const seg = segs[i] as SegmentInfo;
        const n = (path[i] as string).length;
        if (n < seg.min || n > seg.max) return false;
      }
      for (let i = 0; i < segs.length; i++) {
        if (!matchSegment(segs[i] as SegmentInfo, path[i] as string, budget)) return false;
      }
      return true;
    }
    const n = path.length;
    if (n < this.#minSegments) return false;
    if (budget !== undefined) {
      budget.left -= segs.length * (n + 1);
      if (budget.left < 0) return false;
    }
    // reach[s] after processing pattern segment p: can the pattern's first p segments consume
    // exactly the path's first s segments?
    let reach = new Uint8Array(n + 1);
    reach[0] = 1;
    for (const seg of segs) {
      const next = new Uint8Array(n + 1);
      if (seg === null) {
        let on = 0;
        for (let s = 0; s <= n; s++) {
          on |= reach[s] as number;
          next[s] = on;
        }
      } else {
        for (let s = 0; s < n; s++) {
          if (!reach[s]) continue;
          const p = path[s] as string;
          if (p.length < seg.min || p.length > seg.max) continue;
          if (matchSegment(seg, p, budget)) next[s + 1] = 1;
          else if (budget !== undefined && budget.left < 0) return false;
        }
      }
      reach = next;
    }
    return reach[n] === 1;
  }

  /** The pattern as written. */
  toString(): string {
    return this.source;
  }
}

function segmentInfo(tokens: readonly Token[]): SegmentInfo {
  let min = 0;
  let max = 0;
  let weight = 1;
  let simple = true;
  for (const t of tokens) {
    weight += TOKEN_STEPS;
    switch (t.kind) {
      case 'literal':
        min += t.text.length;
        max += t.text.length;
        weight += t.text.length;
        break;
      case 'one':
        min++;
        max++;
        break;
      case 'set':
        min++;
        max++;
        weight += t.ranges.length;
        break;
      case 'star':
        max = Number.POSITIVE_INFINITY;
        simple = false;
        break;
      case 'alternatives': {
        let lo = Number.POSITIVE_INFINITY;
        let hi = 0;
        for (const o of t.options) {
          lo = Math.min(lo, o.length);
          hi = Math.max(hi, o.length);
          weight += o.length + 1;
        }
        min += lo;
        max += hi;
        simple = false;
        break;
      }
    }
  }
  return { tokens, min, max, weight, simple };
}

function inSet(token: { readonly negate: boolean; readonly ranges: readonly number[] }, c: number): boolean {
  const r = token.ranges;
  let hit = false;
  for (let k = 0; k < r.length; k += 2) {
    if (c >= (r[k] as number) && c <= (r[k + 1] as number)) {
      hit = true;
      break;
    }
  }
  return hit !== token.negate;
}

function matchSegment(seg: SegmentInfo, s: string, budget: MatchBudget | undefined): boolean {
  const n = s.length;
  const tokens = seg.tokens;
  if (budget !== undefined) {
    budget.left -= seg.simple ? seg.weight : seg.weight * (n + 1);
    if (budget.left < 0) return false;
  }
  if (seg.simple) {
    let i = 0;
    for (const t of tokens) {
      if (t.kind === 'literal') {
        if (!s.startsWith(t.text, i)) return false;
        i += t.text.length;
      } else {
        if (i >= n) return false;
        if (t.kind === 'set' && !inSet(t, s.charCodeAt(i))) return false;
        i++;
      }
    }
    return i === n;
  }
  // ok[i]: can tokens[k..] match s[i..]? Computed for k from the last token back to the first, in
  // two rows that take turns (no allocation per token: patterns arrive from the network).
  let ok = scratch(0, n + 1);
  let prev = scratch(1, n + 1);
  ok.fill(0, 0, n);
  ok[n] = 1;
  // every case writes each cell of its row, 0..n, so that rows need no clearing between tokens
  for (let k = tokens.length - 1; k >= 0; k--) {
    const t = tokens[k] as Token;
    const swap = prev;
    prev = ok;
    ok = swap;
    switch (t.kind) {
      case 'literal': {
        const len = t.text.length;
        for (let i = 0; i <= n; i++) ok[i] = i + len <= n && prev[i + len] === 1 && s.startsWith(t.text, i) ? 1 : 0;
        break;
      }
      case 'one':
        for (let i = 0; i < n; i++) ok[i] = prev[i + 1] as number;
        ok[n] = 0;
        break;
      case 'set':
        for (let i = 0; i < n; i++) ok[i] = prev[i + 1] === 1 && inSet(t, s.charCodeAt(i)) ? 1 : 0;
        ok[n] = 0;
        break;
      case 'star':
        ok[n] = prev[n] as number;
        for (let i = n - 1; i >= 0; i--) ok[i] = (prev[i] as number) | (ok[i + 1] as number);
        break;
      case 'alternatives': {
        const options = t.options;
        for (let i = 0; i <= n; i++) {
          let hit = 0;
          for (let j = 0; j < options.length; j++) {
            const o = options[j] as string;
            if (i + o.length <= n && prev[i + o.length] === 1 && s.startsWith(o, i)) {
              hit = 1;
              break;
            }
          }
          ok[i] = hit;
        }
        break;
      }
    }
  }
  return ok[0] === 1;
}

// The two rows matchSegment works in, grown as needed and kept: matching is synchronous and not
// reentrant, so one pair serves every pattern.
const rows: Uint8Array[] = [new Uint8Array(64), new Uint8Array(64)];
function scratch(which: 0 | 1, size: number): Uint8Array {
  let row = rows[which] as Uint8Array;
  if (row.length < size) {
    row = new Uint8Array(Math.max(size, row.length * 2));
    rows[which] = row;
  }
  return row;
}

/**
 * The longest pattern a server compiles from the network. Compiling costs up to ~120 bytes per
 * character (a `[a]` set is an object of its own) and, the first time, before V8 has compiled the
 * parser, several microseconds per character: this keeps one packet's compilation to a few
 * milliseconds and ~0.5 MiB. Real patterns are a few dozen characters; a long list of
 * alternatives a few hundred.
 */
export const MAX_PATTERN_LENGTH = 4096;

// Compiled patterns, most recently used last. Patterns come from the network, so the cache is
// bounded in the characters it holds (compiled, ~120 bytes each at worst: ~8 MiB) as well as in
// count, and a burst of unique patterns only evicts.
const CACHE_LIMIT = 256;
const CACHE_CHARS = 64 * 1024;
const cache = new Map<string, Pattern>();
let cachedChars = 0;

/** Compiles a pattern, reusing a cached compilation. Throws {@link OscPatternError} if invalid. */
export function compilePattern(source: string): Pattern {
  let p = cache.get(source);
  if (p !== undefined) {
    cache.delete(source);
    cache.set(source, p);
    return p;
  }
  p = new Pattern(source);
  if (source.length <= MAX_PATTERN_LENGTH) {
    while (cache.size > 0 && (cache.size >= CACHE_LIMIT || cachedChars + source.length > CACHE_CHARS)) {
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
      cachedChars -= oldest.length;
    }
    cache.set(source, p);
    cachedChars += source.length;
  }
  return p;
}

/** Whether the literal `path` matches the address `pattern` (compiled and cached). */
export function matchPattern(pattern: string, path: string): boolean {
  return compilePattern(pattern).matches(path);
}

const FORBIDDEN_IN_PATHS = ' #*,?[]{}';

/**
 * Why `path` cannot be registered as a route, or `undefined` if it can. Route paths are literal:
 * they start with "/", and contain none of liblo's pattern characters ` #*,?[]{}`, no "//" and no NUL.
 */
export function routePathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string') return 'a route path is a string';
  if (path.charCodeAt(0) !== 0x2f) return `a route path starts with "/": ${JSON.stringify(path)}`;
  for (let i = 0; i < path.length; i++) {
    const c = path[i] as string;
    if (FORBIDDEN_IN_PATHS.includes(c)) {
      return `a route path is literal; ${JSON.stringify(c)} at position ${i} of ${JSON.stringify(path)} is pattern syntax`;
    }
    if (c === '\0') return 'a route path cannot contain NUL';
    if (c === '/' && path[i + 1] === '/') return `a route path has no empty segment ("//"): ${JSON.stringify(path)}`;
  }
  return undefined;
}

import { OscPatternError } from './errors.js';

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

type Token =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'one' }
  | { readonly kind: 'star' }
  | { readonly kind: 'set'; readonly negate: boolean; readonly ranges: readonly number[] }
  | { readonly kind: 'alternatives'; readonly options: readonly string[] };

/** A path segment pattern, or `null` for `//`'s "any number of segments". */
type Segment = readonly Token[] | null;

const ONE: Token = { kind: 'one' };
const STAR: Token = { kind: 'star' };

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
        if (path.charCodeAt(i + 1) === 0x2f) return true;
    }
  }
  return false;
}

/** Splits a literal path into its segments: `/a/b` -> `['a', 'b']`. */
export function pathSegments(path: string): string[] {
  return path.slice(1).split('/');
}

/** A compiled address pattern. */
export class Pattern {
  readonly source: string;
  readonly #segments: readonly Segment[];
  readonly #hasDescent: boolean;

  /** Compiles `source`; throws {@link OscPatternError} if it is not a valid pattern. */
  constructor(source: string) {
    this.source = source;
    this.#segments = parse(source);
    this.#hasDescent = this.#segments.includes(null);
  }

  /** Whether the literal `path` matches. */
  matches(path: string): boolean {
    return path.charCodeAt(0) === 0x2f && this.matchesSegments(pathSegments(path));
  }

  /** Whether a path already split by {@link pathSegments} matches (routing tables keep them split). */
  matchesSegments(path: readonly string[]): boolean {
    const segs = this.#segments;
    if (!this.#hasDescent) {
      if (segs.length !== path.length) return false;
      for (let i = 0; i < segs.length; i++) {
        if (!matchSegment(segs[i] as readonly Token[], path[i] as string)) return false;
      }
      return true;
    }
    // reach[s] after processing pattern segment p: can the pattern's first p segments consume
    // exactly the path's first s segments?
    const n = path.length;
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
          if (reach[s] && matchSegment(seg, path[s] as string)) next[s + 1] = 1;
        }
      }
      reach = next;
    }
    return reach[n] === 1;
  }

  toString(): string {
    return this.source;
  }
}

function fail(source: string, at: number, why: string): never {
  throw new OscPatternError(source, at, why);
}

function parse(src: string): Segment[] {
  if (src.charCodeAt(0) !== 0x2f) fail(src, 0, 'an address pattern starts with "/"');
  const segments: Segment[] = [];
  let tokens: Token[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal !== '') {
      tokens.push({ kind: 'literal', text: literal });
      literal = '';
    }
  };
  let i = 1;
  while (i <= src.length) {
    const c = src[i];
    if (c === undefined || c === '/') {
      flush();
      segments.push(tokens.length === 0 ? null : tokens);
      tokens = [];
      i++;
      continue;
    }
    switch (c) {
      case '?':
        flush();
        tokens.push(ONE);
        i++;
        break;
      case '*':
        flush();
        if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
        i++;
        break;
      case '[':
        flush();
        i = parseSet(src, i + 1, tokens);
        break;
      case '{':
        flush();
        i = parseAlternatives(src, i + 1, tokens);
        break;
      case '\\':
        if (i + 1 >= src.length) fail(src, i, 'a pattern cannot end with "\\"');
        literal += src[i + 1];
        i += 2;
        break;
      default:
        literal += c;
        i++;
    }
  }
  // "/foo" splits into one segment; a lone "/" is the empty path's single (empty) segment.
  if (segments.length === 1 && segments[0] === null && src.length === 1) return [[]];
  return segments;
}

function parseSet(src: string, start: number, out: Token[]): number {
  let i = start;
  let negate = false;
  if (src[i] === '!') {
    negate = true;
    i++;
  }
  const ranges: number[] = [];
  let first = true;
  for (;;) {
    let c = src[i];
    if (c === undefined) fail(src, start - 1, 'unclosed "["');
    if (c === ']' && !first) return finishSet(i + 1);
    if (c === '/') fail(src, i, '"/" inside "[ ]"');
    if (c === '\\') {
      c = src[i + 1];
      if (c === undefined) fail(src, i, 'a pattern cannot end with "\\"');
      i++;
    }
    first = false;
    const lo = c.charCodeAt(0);
    // a range needs a character after '-' that is not the closing ']'
    if (src[i + 1] === '-' && src[i + 2] !== undefined && src[i + 2] !== ']') {
      let hiChar = src[i + 2] as string;
      let skip = 3;
      if (hiChar === '\\') {
        const escaped = src[i + 3];
        if (escaped === undefined) fail(src, i + 2, 'a pattern cannot end with "\\"');
        hiChar = escaped;
        skip = 4;
      }
      const hi = hiChar.charCodeAt(0);
      // reversed ranges are taken as written backwards: [3-1] is [1-3]
      ranges.push(Math.min(lo, hi), Math.max(lo, hi));
      i += skip;
    } else {
      ranges.push(lo, lo);
      i++;
    }
  }
  function finishSet(next: number): number {
    out.push({ kind: 'set', negate, ranges });
    return next;
  }
}

function parseAlternatives(src: string, start: number, out: Token[]): number {
  const options: string[] = [];
  let current = '';
  let i = start;
  for (;;) {
    const c = src[i];
    if (c === undefined) fail(src, start - 1, 'unclosed "{"');
    if (c === '}') break;
    if (c === '{') fail(src, i, 'nested "{"');
    if (c === '/') fail(src, i, '"/" inside "{ }"');
    if (c === ',') {
      options.push(current);
      current = '';
    } else if (c === '\\') {
      const escaped = src[i + 1];
      if (escaped === undefined) fail(src, i, 'a pattern cannot end with "\\"');
      current += escaped;
      i++;
    } else {
      current += c;
    }
    i++;
  }
  options.push(current);
  out.push({ kind: 'alternatives', options: [...new Set(options)] });
  return i + 1;
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

function matchSegment(tokens: readonly Token[], s: string): boolean {
  const n = s.length;
  // Fast path: no '*' and no '{ }' means one way to match, left to right.
  let simple = true;
  for (const t of tokens) if (t.kind === 'star' || t.kind === 'alternatives') simple = false;
  if (simple) {
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
  // ok[i]: can tokens[k..] match s[i..]? Computed for k from the last token back to the first.
  let ok = new Uint8Array(n + 1);
  ok[n] = 1;
  for (let k = tokens.length - 1; k >= 0; k--) {
    const t = tokens[k] as Token;
    const prev = ok;
    ok = new Uint8Array(n + 1);
    switch (t.kind) {
      case 'literal':
        for (let i = 0; i + t.text.length <= n; i++) {
          if (prev[i + t.text.length] && s.startsWith(t.text, i)) ok[i] = 1;
        }
        break;
      case 'one':
        for (let i = 0; i < n; i++) ok[i] = prev[i + 1] as number;
        break;
      case 'set':
        for (let i = 0; i < n; i++) if (prev[i + 1] && inSet(t, s.charCodeAt(i))) ok[i] = 1;
        break;
      case 'star':
        ok[n] = prev[n] as number;
        for (let i = n - 1; i >= 0; i--) ok[i] = (prev[i] as number) | (ok[i + 1] as number);
        break;
      case 'alternatives':
        for (let i = 0; i <= n; i++) {
          for (const o of t.options) {
            if (i + o.length <= n && prev[i + o.length] && s.startsWith(o, i)) {
              ok[i] = 1;
              break;
            }
          }
        }
        break;
    }
  }
  return ok[0] === 1;
}

// Compiled patterns, most recently used last; patterns come from the network, so the cache is
// bounded and a burst of unique patterns only evicts.
const CACHE_LIMIT = 256;
const cache = new Map<string, Pattern>();

/** Compiles a pattern, reusing a cached compilation. Throws {@link OscPatternError} if invalid. */
export function compilePattern(source: string): Pattern {
  let p = cache.get(source);
  if (p !== undefined) {
    cache.delete(source);
    cache.set(source, p);
    return p;
  }
  p = new Pattern(source);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(source, p);
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

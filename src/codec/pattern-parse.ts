// Parsing OSC address patterns into tokens, segment by segment (the syntax is described in
// pattern.ts). Parsing is linear in the pattern's length; what it builds, matching uses.
import { OscPatternError } from './errors.js';

export type Token =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'one' }
  | { readonly kind: 'star' }
  | { readonly kind: 'set'; readonly negate: boolean; readonly ranges: readonly number[] }
  | { readonly kind: 'alternatives'; readonly options: readonly string[] };

/** A path segment pattern, or `null` for `//`'s "any number of segments". */
export type Segment = readonly Token[] | null;

const ONE: Token = { kind: 'one' };
const STAR: Token = { kind: 'star' };

function fail(source: string, at: number, why: string): never {
  throw new OscPatternError(source, at, why);
}

/** Parses `src` into segments; throws {@link OscPatternError} where it is not a valid pattern. */
export function parse(src: string): Segment[] {
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
      // '//' then '//' again is still "any number of segments": one such segment is enough
      if (tokens.length > 0) segments.push(tokens);
      else if (segments[segments.length - 1] !== null || segments.length === 0) segments.push(null);
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

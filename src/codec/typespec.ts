import { OscEncodeError } from './errors.js';
import { Marked } from './marks.js';
import { INT32_MAX, INT32_MIN } from './ranges.js';
import { TimeTag } from './timetag.js';
import { Char, INFINITUM, type Infinitum, Midi, type OscArg, OscSymbol, Rgba } from './values.js';

/** The TypeScript value of each OSC typetag. */
export interface TypetagValues {
  i: number;
  h: bigint;
  f: number;
  d: number;
  s: string;
  S: OscSymbol;
  c: Char;
  b: Uint8Array;
  m: Midi;
  t: TimeTag;
  T: true;
  F: false;
  N: null;
  I: Infinitum;
  r: Rgba;
}

/** One OSC typetag, including OSC 1.0's array brackets. */
export type Typetag = keyof TypetagValues | '[' | ']';

/** Matches any arguments: the route's args are typed `OscArg[]` and taken as they arrive. */
export const ANY_ARGS: unique symbol = Symbol.for('aiolo.ANY_ARGS');
/** The type of {@link ANY_ARGS}: the typespec of a route that takes any arguments. */
export type AnyArgs = typeof ANY_ARGS;

/** Matches only messages without arguments. */
export const NO_ARGS = '' as const;

/** A typespec: a typetag string (`'ifs'`, `'i[ff]'`), an array of typetags, or {@link ANY_ARGS}. */
export type Typespec = string | readonly Typetag[] | AnyArgs;

type Join<T extends readonly string[]> = T extends readonly [
  infer H extends string,
  ...infer R extends readonly string[],
]
  ? `${H}${Join<R>}`
  : '';

// Parses a typetag string into [tuple, rest, closedByBracket], or false for an invalid one (an
// unknown tag or an unmatched bracket). false rather than never: a never would make ArgsOf unknown.
type Parse<S extends string, Acc extends readonly unknown[]> = S extends `]${infer R}`
  ? [Acc, R, true]
  : S extends `[${infer R}`
    ? Parse<R, []> extends [infer Inner, infer After extends string, true]
      ? Parse<After, [...Acc, Inner]>
      : false
    : S extends `${infer C}${infer R}`
      ? C extends keyof TypetagValues
        ? Parse<R, [...Acc, TypetagValues[C]]>
        : false
      : [Acc, '', false];

/**
 * The argument tuple for a typespec, computed at compile time:
 * `ArgsOf<'hdm'>` is `[bigint, number, Midi]`, `ArgsOf<'i[ff]'>` is `[number, [number, number]]`,
 * `ArgsOf<typeof ANY_ARGS>` and `ArgsOf<string>` are `OscArg[]`. An invalid literal is `never`.
 */
export type ArgsOf<T extends Typespec> = T extends AnyArgs
  ? OscArg[]
  : T extends string
    ? string extends T
      ? OscArg[]
      : Parse<T, []> extends [infer A, '', false]
        ? A
        : never
    : T extends readonly Typetag[]
      ? Typetag[] extends T
        ? OscArg[]
        : ArgsOf<Join<T>>
      : never;

const TAG_SET = new Set<string>('ihfdsScbmtTFNIr[]');

const validated = new Map<string, string>();

/**
 * Checks a typespec and returns it as a typetag string (without the leading comma), or `null` for
 * {@link ANY_ARGS}. Results for strings are cached: routes and repeated sends pay once.
 */
export function typespecString(spec: Typespec): string | null {
  if (spec === ANY_ARGS) return null;
  if (typeof spec === 'string') {
    const known = validated.get(spec);
    if (known !== undefined) return known;
    checkTypetags(spec);
    if (validated.size >= 1024) validated.clear();
    validated.set(spec, spec);
    return spec;
  }
  if (Array.isArray(spec)) {
    for (const tag of spec) {
      if (typeof tag !== 'string' || tag.length !== 1) {
        throw new OscEncodeError('ERR_OSC_INVALID_TYPESPEC', `a typespec array holds one typetag per element`, {
          value: spec,
        });
      }
    }
    const joined = spec.join('');
    checkTypetags(joined);
    return joined;
  }
  throw new OscEncodeError('ERR_OSC_INVALID_TYPESPEC', `a typespec is a string, an array of typetags or ANY_ARGS`, {
    value: spec,
  });
}

function checkTypetags(tags: string): void {
  let depth = 0;
  for (let i = 0; i < tags.length; i++) {
    const c = tags[i] as string;
    if (!TAG_SET.has(c)) {
      throw new OscEncodeError(
        'ERR_OSC_INVALID_TYPESPEC',
        `unknown typetag ${JSON.stringify(c)} at position ${i} of typespec ${JSON.stringify(tags)}`,
        { typetag: c, value: tags },
      );
    }
    if (c === '[') depth++;
    else if (c === ']' && --depth < 0) break;
  }
  if (depth !== 0) {
    throw new OscEncodeError('ERR_OSC_INVALID_TYPESPEC', `unbalanced [ ] in typespec ${JSON.stringify(tags)}`, {
      value: tags,
    });
  }
}

/**
 * The typetag aiolo infers for a value when no typespec is given: an integer that fits int32 is `i`,
 * a larger safe integer `h`, any other number `f`; `bigint` is `h`; the rest by class. Arrays and
 * {@link Rgba} are never inferred, since liblo rejects them: they need an explicit typespec.
 */
export function inferTypetag(value: unknown, argIndex: number): keyof TypetagValues {
  switch (typeof value) {
    case 'number':
      if (Number.isInteger(value) && !Object.is(value, -0)) {
        if (value >= INT32_MIN && value <= INT32_MAX) return 'i';
        if (Number.isSafeInteger(value)) return 'h';
      }
      return 'f';
    case 'string':
      return 's';
    case 'bigint':
      return 'h';
    case 'boolean':
      return value ? 'T' : 'F';
    case 'symbol':
      if (value === INFINITUM) return 'I';
      break;
    case 'object':
      if (value === null) return 'N';
      if (value instanceof Uint8Array) return 'b';
      if (value instanceof TimeTag) return 't';
      if (value instanceof OscSymbol) return 'S';
      if (value instanceof Midi) return 'm';
      if (value instanceof Char) return 'c';
      if (value instanceof Marked) return value.typetag;
      if (value instanceof Rgba) {
        throw new OscEncodeError(
          'ERR_OSC_ARG_TYPE',
          `argument ${argIndex}: an Rgba is never inferred (liblo rejects 'r'); give a typespec with 'r'`,
          { argIndex, value },
        );
      }
      if (Array.isArray(value)) {
        throw new OscEncodeError(
          'ERR_OSC_ARG_TYPE',
          `argument ${argIndex}: an array is never inferred (liblo rejects '[ ]'); give a typespec such as '[ii]'`,
          { argIndex, value },
        );
      }
      break;
  }
  throw new OscEncodeError('ERR_OSC_ARG_TYPE', `argument ${argIndex}: ${describe(value)} is not an OSC value`, {
    argIndex,
    value,
  });
}

/** Typetags for a list of arguments, by {@link inferTypetag}. */
export function inferTypetags(args: readonly unknown[]): string {
  let tags = '';
  for (let i = 0; i < args.length; i++) tags += inferTypetag(args[i], i);
  return tags;
}

/** A short, unambiguous rendering of a value for error messages and `toString()`. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'bigint':
      return `${value}n`;
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'symbol':
      return value === INFINITUM ? 'INFINITUM' : value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value === null) return 'null';
  if (value instanceof OscSymbol) return `OscSymbol(${JSON.stringify(value.value)})`;
  if (value instanceof Char) return `Char(${JSON.stringify(value.value)})`;
  if (value instanceof TimeTag) return `TimeTag(${value})`;
  if (value instanceof Midi || value instanceof Rgba) return String(value);
  if (value instanceof Uint8Array) {
    const shown = Array.from(value.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return `Uint8Array(${value.length}) [${shown}${value.length > 16 ? ' …' : ''}]`;
  }
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  const name = (value as object).constructor?.name ?? 'Object';
  return name === 'Object' ? `object ${safeJson(value)}` : `${name} ${safeJson(value)}`;
}

function safeJson(value: unknown): string {
  try {
    const s = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return s.length > 60 ? `${s.slice(0, 60)}…` : s;
  } catch {
    return '[unprintable]';
  }
}

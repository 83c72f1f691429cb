import { encode } from './encode.js';
import { OscEncodeError } from './errors.js';
import { type Marked, unmark } from './marks.js';
import { INT32_MAX, INT32_MAX_BIG, INT32_MIN, INT32_MIN_BIG, INT64_MAX, INT64_MIN, TWO_63 } from './ranges.js';
import { TimeTag } from './timetag.js';
import { type ArgsOf, describe, inferTypetags, type Typespec, typespecString } from './typespec.js';
import { Char, INFINITUM, Midi, type OscArg, OscSymbol, Rgba } from './values.js';

/** Something with a path and a literal typespec to send with: `{ path: '/f', typespec: 'if' } as const`. */
export interface TypedPath<T extends Typespec = Typespec> {
  readonly path: string;
  readonly typespec: T;
}

/** Where a message goes: a path, a `{ path, typespec }`, or a route. */
export type MessageTarget = string | TypedPath | ArgsTarget<readonly OscArg[]>;

/** The argument tuple a typed target takes: a route's `A`, or `ArgsOf` a `{ path, typespec }`'s typespec. */
export type TargetArgs<X> =
  X extends ArgsTarget<infer A> ? A : X extends TypedPath<infer T extends Typespec> ? ArgsOf<T> : never;

/** The arguments `send(target, ...)` takes: inferred values for a path, typed ones for a typed target. */
export type SendArgs<X> = [X] extends [never] ? unknown[] : X extends string ? InferredArg[] : TargetArgs<X>;

/** What typetags can be inferred from: an OSC value, or a number marked with its typetag (`float(1)`). */
export type InferredArg = OscArg | Marked;

/** The key of a type-only brand: the argument tuple a target takes (a server's `Route<A>` carries one). */
export const ARGS: unique symbol = Symbol('aiolo.args');

/** A path and typespec whose arguments are `A`, such as a server's `Route<A>`. */
export interface ArgsTarget<A extends readonly OscArg[]> {
  readonly path: string | symbol;
  readonly typespec: Typespec;
  readonly [ARGS]: A;
}

/**
 * An OSC message: an address (path), typetags (without the leading comma) and arguments.
 * `new Message(path, ...args)` infers the typetags from the values; {@link Message.typed} takes
 * a typespec and checks the values against it at compile time and run time.
 */
export class Message<A extends readonly OscArg[] = readonly OscArg[]> {
  readonly path: string;
  /** The typetags, without the leading comma: `'ifs'`. */
  readonly typetags: string;
  readonly args: Readonly<A>;

  constructor(path: string, ...args: A);
  /** With marked numbers (`float(1)`), whose typetags the marks give; `args` holds the plain values. */
  constructor(path: string, ...args: InferredArg[]);
  constructor(path: string, ...args: A) {
    checkPath(path);
    this.path = path;
    this.typetags = inferTypetags(args);
    this.args = unmark(args);
  }

  /**
   * A message with an explicit typespec: `Message.typed('/freq', 'if', 1, 440)`, or with a
   * route's: `Message.typed(route, ...args)`. Values that do not fit their typetags throw
   * {@link OscEncodeError} naming the argument.
   */
  // One signature, not overloads: when no overload fits, TypeScript reports the last one's error,
  // at the path; with one signature the error lands on the argument that does not fit.
  static typed<const X extends MessageTarget, const T extends Typespec>(
    target: X,
    ...rest: X extends string ? [typespec: T, ...args: ArgsOf<T>] : TargetArgs<X>
  ): Message<X extends string ? ArgsOf<T> : TargetArgs<X>>;
  static typed(target: MessageTarget, ...rest: readonly unknown[]): Message {
    let path: string;
    let spec: Typespec;
    let args: readonly unknown[];
    if (typeof target === 'string') {
      path = target;
      spec = rest[0] as Typespec;
      args = rest.slice(1);
    } else {
      if (typeof target.path !== 'string') {
        throw new OscEncodeError('ERR_OSC_INVALID_PATH', 'a message needs a literal path; ANY_PATH only receives', {
          value: target.path,
        });
      }
      path = target.path;
      spec = target.typespec;
      args = rest;
    }
    checkPath(path);
    const tags = typespecString(spec);
    if (tags === null) return createMessage(path, inferTypetags(args), args as OscArg[]);
    checkArgs(tags, args);
    return createMessage(path, tags, args as OscArg[]);
  }

  /**
   * Same path, typetags and arguments as they go on the wire: `f` arguments compare as float32,
   * so a decoded 3.140000104904175 equals the 3.14 that was sent.
   */
  equals(other: unknown): boolean {
    if (!(other instanceof Message) || other.path !== this.path || other.typetags !== this.typetags) return false;
    try {
      return bytesEqual(encode(this), encode(other));
    } catch {
      return false;
    }
  }

  /** `/path ,tags arg arg`, for logs and test failures. */
  toString(): string {
    return `${this.path} ,${this.typetags}${this.args.map((a) => ` ${describe(a)}`).join('')}`;
  }
}

/**
 * The decoder's messages: a plain constructor sharing Message's prototype, so they are Messages in
 * every way (instanceof, methods, the same own properties in the same order) without Message's
 * checks, which the decoder has made. A constructor call costs less than Object.create and three
 * stores, which matters at a message per few dozen nanoseconds.
 */
const Decoded = function (
  this: { path: string; typetags: string; args: OscArg[] },
  path: string,
  typetags: string,
  args: OscArg[],
) {
  this.path = path;
  this.typetags = typetags;
  this.args = args;
} as unknown as new (
  path: string,
  typetags: string,
  args: OscArg[],
) => Message;
Decoded.prototype = Message.prototype;

/** Builds a message whose typetags are already known to fit (the decoder's path). */
export function createMessage(path: string, typetags: string, args: OscArg[]): Message {
  return new Decoded(path, typetags, args);
}

export function checkPath(path: unknown): asserts path is string {
  // liblo sends and dispatches any NUL-free path, even "" or one without a leading "/"; so do we.
  if (typeof path !== 'string' || path.includes('\0')) {
    throw new OscEncodeError(
      'ERR_OSC_INVALID_PATH',
      `an OSC path is a string without NUL characters, got ${describe(path)}`,
      { value: path },
    );
  }
}

function misfit(index: number, tag: string, value: unknown, why: string): OscEncodeError {
  return new OscEncodeError(
    'ERR_OSC_ARG_TYPE',
    `argument ${index}: ${describe(value)} does not fit typetag '${tag}' (${why})`,
    { argIndex: index, typetag: tag, value },
  );
}

/**
 * Checks one argument against its typetag; throws {@link OscEncodeError} if it does not fit.
 * This is the single definition of "fits": the encoder relies on it.
 */
export function checkArg(tag: string, value: unknown, index: number): void {
  switch (tag) {
    case 'i':
      if (typeof value === 'number') {
        if (!Number.isInteger(value)) throw misfit(index, tag, value, 'not an integer');
        if (value < INT32_MIN || value > INT32_MAX) throw misfit(index, tag, value, 'outside int32');
        return;
      }
      if (typeof value === 'bigint') {
        if (value < INT32_MIN_BIG || value > INT32_MAX_BIG) throw misfit(index, tag, value, 'outside int32');
        return;
      }
      throw misfit(index, tag, value, 'expected a number');
    case 'h':
      if (typeof value === 'bigint') {
        if (value < INT64_MIN || value > INT64_MAX) throw misfit(index, tag, value, 'outside int64');
        return;
      }
      if (typeof value === 'number') {
        if (!Number.isInteger(value)) throw misfit(index, tag, value, 'not an integer');
        if (value < -TWO_63 || value >= TWO_63) throw misfit(index, tag, value, 'outside int64');
        return;
      }
      throw misfit(index, tag, value, 'expected a bigint or an integer number');
    case 'f':
    case 'd':
      if (typeof value === 'number') return;
      throw misfit(index, tag, value, 'expected a number');
    case 's':
      if (typeof value !== 'string') throw misfit(index, tag, value, 'expected a string');
      if (value.includes('\0')) throw misfit(index, tag, value, 'OSC strings cannot contain NUL');
      return;
    case 'S':
      if (!(value instanceof OscSymbol)) throw misfit(index, tag, value, 'expected an OscSymbol');
      if (value.value.includes('\0')) throw misfit(index, tag, value, 'OSC strings cannot contain NUL');
      return;
    case 'c':
      if (value instanceof Char) return;
      throw misfit(index, tag, value, 'expected a Char');
    case 'b':
      if (value instanceof Uint8Array) return;
      throw misfit(index, tag, value, 'expected a Uint8Array');
    case 'm':
      if (value instanceof Midi) return;
      throw misfit(index, tag, value, 'expected a Midi');
    case 't':
      if (value instanceof TimeTag) return;
      throw misfit(index, tag, value, 'expected a TimeTag');
    case 'r':
      if (value instanceof Rgba) return;
      throw misfit(index, tag, value, 'expected an Rgba');
    case 'T':
      if (value === true) return;
      throw misfit(index, tag, value, 'expected true');
    case 'F':
      if (value === false) return;
      throw misfit(index, tag, value, 'expected false');
    case 'N':
      if (value === null) return;
      throw misfit(index, tag, value, 'expected null');
    case 'I':
      if (value === INFINITUM) return;
      throw misfit(index, tag, value, 'expected INFINITUM');
    case '[':
      if (Array.isArray(value)) return;
      throw misfit(index, tag, value, 'expected an array');
    default:
      throw new OscEncodeError('ERR_OSC_INVALID_TYPESPEC', `unknown typetag '${tag}'`, {
        argIndex: index,
        typetag: tag,
      });
  }
}

/**
 * Checks a whole argument list against validated typetags, arrays included. Returns nothing;
 * throws on the first argument that does not fit, or when the counts differ.
 */
export function checkArgs(tags: string, args: readonly unknown[]): void {
  const end = checkList(tags, 0, args, false);
  if (end !== tags.length) throw countError(tags, args);
}

function checkList(tags: string, start: number, args: readonly unknown[], nested: boolean): number {
  let t = start;
  let a = 0;
  while (t < tags.length) {
    const tag = tags[t] as string;
    if (tag === ']') {
      if (!nested) break;
      if (a !== args.length) throw countError(tags, args);
      return t;
    }
    if (a >= args.length) throw countError(tags, args);
    const value = args[a];
    if (tag === '[') {
      if (!Array.isArray(value)) throw misfit(a, tag, value, 'expected an array');
      t = checkList(tags, t + 1, value, true) + 1;
    } else {
      checkArg(tag, value, a);
      t++;
    }
    a++;
  }
  if (a !== args.length) throw countError(tags, args);
  return t;
}

/** The one `ERR_OSC_ARG_COUNT` error, for Message and for the encoder's own check. */
export function countError(tags: string, args: readonly unknown[]): OscEncodeError {
  return new OscEncodeError(
    'ERR_OSC_ARG_COUNT',
    `argument count does not match typespec '${tags}': got ${args.length} argument(s) ${describe(args)}`,
    { value: args },
  );
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

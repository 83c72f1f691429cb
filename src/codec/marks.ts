import { OscEncodeError } from './errors.js';

/** The typetags a number can be marked with. */
export type NumericTypetag = 'i' | 'h' | 'f' | 'd';

/**
 * A number marked with the typetag it is to be sent as, where typetags are inferred: made by
 * {@link float}, {@link double}, {@link int32} and {@link int64}. Without a mark, `1.0` is the
 * JavaScript number 1 and infers `i`. Marks are read when typetags are inferred (`new Message(path,
 * ...)`, `send(path, ...)`) and unwrapped there: a message's `args` hold the plain values. With a
 * typespec, give plain values: the typespec decides.
 */
export class Marked<T extends NumericTypetag = NumericTypetag> {
  readonly typetag: T;
  readonly value: T extends 'h' ? bigint : number;

  private constructor(typetag: T, value: T extends 'h' ? bigint : number) {
    this.typetag = typetag;
    this.value = value;
  }

  /** @internal */
  static make<T extends NumericTypetag>(typetag: T, value: T extends 'h' ? bigint : number): Marked<T> {
    return new Marked(typetag, value);
  }

  /** `int32(1)`, `float(1)`..., for logs. */
  toString(): string {
    return `${{ i: 'int32', h: 'int64', f: 'float', d: 'double' }[this.typetag]}(${String(this.value)})`;
  }
}

function number(name: string, x: unknown): number {
  if (typeof x !== 'number') {
    throw new OscEncodeError('ERR_OSC_INVALID_VALUE', `${name}() takes a number, got ${typeof x}`, { value: x });
  }
  return x;
}

/** `x` sent as `f` (float32) even when it is an integer: `send('/avatar/parameters/Speed', float(1))`. */
export function float(x: number): Marked<'f'> {
  return Marked.make('f', number('float', x));
}

/** `x` sent as `d` (float64). */
export function double(x: number): Marked<'d'> {
  return Marked.make('d', number('double', x));
}

/** `x` sent as `i` (int32); it must be an integer within int32. */
export function int32(x: number): Marked<'i'> {
  const n = number('int32', x);
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
    throw new OscEncodeError('ERR_OSC_INVALID_VALUE', `int32() takes an integer within int32, got ${n}`, { value: x });
  }
  return Marked.make('i', n);
}

/** `x` sent as `h` (int64), even when it fits int32: an integer `number` or a `bigint` within int64. */
export function int64(x: number | bigint): Marked<'h'> {
  if (typeof x === 'number' && Number.isSafeInteger(x)) return Marked.make('h', BigInt(x));
  if (typeof x === 'bigint' && x >= -(2n ** 63n) && x < 2n ** 63n) return Marked.make('h', x);
  throw new OscEncodeError(
    'ERR_OSC_INVALID_VALUE',
    `int64() takes a safe integer or a bigint within int64, got ${String(x)}`,
    {
      value: x,
    },
  );
}

/**
 * `args` with marks replaced by their values (the same array when there are none). Call after
 * inferring typetags from `args`.
 */
export function unmark<A extends readonly unknown[]>(args: A): A {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === 'object' && a !== null && a instanceof Marked) {
      return args.map((v) => (v instanceof Marked ? v.value : v)) as unknown as A;
    }
  }
  return args;
}

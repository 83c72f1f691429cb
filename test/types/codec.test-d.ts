// Compile-time tests of the public types: checked by `npm run typecheck` (tsc), never executed.
// A line marked @ts-expect-error fails the typecheck if it ever compiles.
import {
  ANY_ARGS,
  type ArgsOf,
  Bundle,
  type Char,
  decode,
  encode,
  INFINITUM,
  type Infinitum,
  Message,
  Midi,
  NO_ARGS,
  type OscArg,
  type OscSymbol,
  type Rgba,
  TimeTag,
  type Typetag,
} from '../../src/index.js';
import { type Equal, expect } from './expect.js';

// a literal typespec becomes the argument tuple
expect<Equal<ArgsOf<'hdm'>, [bigint, number, Midi]>>();
expect<Equal<ArgsOf<'ifs'>, [number, number, string]>>();
expect<Equal<ArgsOf<'SctbTFNIr'>, [OscSymbol, Char, TimeTag, Uint8Array, true, false, null, Infinitum, Rgba]>>();
expect<Equal<ArgsOf<'i[fs]'>, [number, [number, string]]>>();
expect<Equal<ArgsOf<'[[i]]'>, [[[number]]]>>();
expect<Equal<ArgsOf<''>, []>>();
expect<Equal<ArgsOf<typeof NO_ARGS>, []>>();
expect<Equal<ArgsOf<typeof ANY_ARGS>, OscArg[]>>();
expect<Equal<ArgsOf<string>, OscArg[]>>();
expect<Equal<ArgsOf<['h', 'd']>, [bigint, number]>>();
expect<Equal<ArgsOf<readonly ['[', 'i', ']']>, [[number]]>>();
expect<Equal<ArgsOf<Typetag[]>, OscArg[]>>();
// invalid literals have no arguments that fit
expect<Equal<ArgsOf<'x'>, never>>();
expect<Equal<ArgsOf<'[i'>, never>>();
expect<Equal<ArgsOf<'i]'>, never>>();

// Message.typed checks arguments against the typespec
const m1 = Message.typed('/foo', 'hdm', 1n, 2.5, new Midi(1, 2, 3, 4));
expect<Equal<typeof m1, Message<[bigint, number, Midi]>>>();
expect<Equal<(typeof m1.args)[0], bigint>>();
// @ts-expect-error 'h' takes a bigint
Message.typed('/foo', 'h', 'one');
// @ts-expect-error too few arguments
Message.typed('/foo', 'ii', 1);
// @ts-expect-error too many arguments
Message.typed('/foo', 'i', 1, 2);
// @ts-expect-error unknown typetag
Message.typed('/foo', 'x', 1);
Message.typed('/foo', ANY_ARGS, 1, 'two', null);
Message.typed('/foo', NO_ARGS);

// a route-like target carries its typespec
const route = { path: '/r', typespec: 'if' } as const;
Message.typed(route, 1, 0.5);
// @ts-expect-error 's' is not 'f'
Message.typed(route, 1, 'x');

// inferred messages keep their argument types (as literals), read-only
const m2 = new Message('/bar', 1, 'x', INFINITUM);
expect<Equal<typeof m2.args, readonly [1, 'x', typeof INFINITUM]>>();
// @ts-expect-error undefined is not an OSC value
new Message('/bar', undefined);
// @ts-expect-error neither is a plain object
new Message('/bar', { a: 1 });

// decode returns the union; narrowing works with instanceof
const packet = decode(encode(new Bundle([m1, m2])));
if (packet instanceof Bundle) {
  expect<Equal<typeof packet.timetag, TimeTag>>();
} else {
  expect<Equal<typeof packet.args, readonly OscArg[]>>();
}
// @ts-expect-error args are readonly
m2.args.push(1);
// @ts-expect-error timetags are immutable
TimeTag.IMMEDIATE.seconds = 5;

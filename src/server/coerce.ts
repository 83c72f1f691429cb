// liblo's default type coercion (lo_can_coerce_spec / lo_coerce): a message whose typetags differ
// from a route's only where both are numeric (i h f d) or both strings (s S) reaches the route,
// converted exactly as liblo converts: C casts through long double, so floats truncate toward zero
// and wrap modulo 2^32 (to i) or 2^64 (to h), and values no int64 can hold become INT64_MIN.

import type { OscArg } from '../codec/values.js';
import { OscSymbol } from '../codec/values.js';

const NUMERIC = 'ihfd';
const TEXT = 'sS';

/** Whether a message with `from` typetags can be delivered to a route typed `to`. */
export function canCoerce(from: string, to: string): boolean {
  if (from.length !== to.length) return false;
  // liblo has no arrays; with them, args and typetags no longer line up one to one
  if (from.includes('[') || to.includes('[')) return from === to;
  for (let i = 0; i < from.length; i++) {
    const a = from[i] as string;
    const b = to[i] as string;
    if (a === b) continue;
    if (NUMERIC.includes(a) && NUMERIC.includes(b)) continue;
    if (TEXT.includes(a) && TEXT.includes(b)) continue;
    return false;
  }
  return true;
}

const TWO_63 = 2 ** 63;

// (int64_t)(long double)x: truncation; NaN and out-of-range values give INT64_MIN (x86's
// "integer indefinite"), which liblo then narrows for int32.
function toInt64(x: number): bigint {
  const t = Math.trunc(x);
  if (Number.isNaN(t) || t >= TWO_63 || t < -TWO_63) return -(2n ** 63n);
  return BigInt(t);
}

function convert(value: OscArg, from: string, to: string): OscArg {
  switch (to) {
    case 'i':
      if (from === 'h') return Number(BigInt.asIntN(32, value as bigint));
      return Number(BigInt.asIntN(32, toInt64(value as number)));
    case 'h':
      if (from === 'i') return BigInt(value as number);
      return toInt64(value as number);
    case 'f':
      return Math.fround(from === 'h' ? Number(value as bigint) : (value as number));
    case 'd':
      return from === 'h' ? Number(value as bigint) : (value as number);
    case 's':
      return (value as OscSymbol).value;
    case 'S':
      return new OscSymbol(value as string);
    default:
      return value;
  }
}

/** Converts `args` typed `from` to the route's `to` typetags (which `canCoerce` accepted). */
export function coerceArgs(args: readonly OscArg[], from: string, to: string): OscArg[] {
  const out = args.slice();
  for (let i = 0; i < from.length; i++) {
    const a = from[i] as string;
    const b = to[i] as string;
    if (a !== b) out[i] = convert(args[i] as OscArg, a, b);
  }
  return out;
}

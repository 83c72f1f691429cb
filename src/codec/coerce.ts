// liblo's default type coercion (lo_can_coerce_spec / lo_coerce): a message whose typetags differ
// from a route's only where both are numeric (i h f d) or both strings (s S) reaches the route,
// converted exactly as liblo's C casts convert on x86-64: `(uint32_t)(long double)x` and
// `(uint64_t)(long double)x`. Floats truncate toward zero; out of range, the x87 conversion's
// "integer indefinite" (0x8000000000000000) shows through. Checked side by side with liblo in
// test/interop/dispatch.test.ts.

import { INT64_MIN, TWO_63 } from './ranges.js';
import type { OscArg } from './values.js';
import { OscSymbol } from './values.js';

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

/** x87's "integer indefinite": the int64 a failed conversion gives, INT64_MIN's bits. */
const INDEFINITE = INT64_MIN;

// x87 conversion to int64: truncation, or "integer indefinite" for NaN and out of range.
function fistp64(x: number): bigint {
  const t = Math.trunc(x);
  if (Number.isNaN(t) || t >= TWO_63 || t < -TWO_63) return INDEFINITE;
  return BigInt(t);
}

// (uint32_t)(long double)x: gcc converts to int64, then keeps the low 32 bits.
function toInt32(x: number): number {
  return Number(BigInt.asIntN(32, fistp64(x)));
}

// (uint64_t)(long double)x: below 2^63 (and NaN) as int64; above, x - 2^63 converted and the sign
// bit flipped back, so 2^64 and beyond (and +inf) give 0.
function toInt64(x: number): bigint {
  if (!(x >= TWO_63)) return fistp64(x);
  const low = fistp64(x - TWO_63);
  return BigInt.asIntN(64, BigInt.asUintN(64, low) ^ (1n << 63n));
}

// liblo converts int64 to float through long double, which holds it exactly: one rounding, to
// nearest even. Number() then Math.fround() would round twice for values beyond 2^53.
function int64ToFloat32(v: bigint): number {
  const negative = v < 0n;
  let m = negative ? -v : v;
  if (m < 2n ** 53n) return Math.fround(Number(v));
  const shift = BigInt(m.toString(2).length - 24); // keep 24 significant bits
  const rest = m & ((1n << shift) - 1n);
  const half = 1n << (shift - 1n);
  m >>= shift;
  if (rest > half || (rest === half && (m & 1n) === 1n)) m += 1n;
  const rounded = Number(m << shift); // exact: at most 25 significant bits
  return Math.fround(negative ? -rounded : rounded);
}

function convert(value: OscArg, from: string, to: string): OscArg {
  switch (to) {
    case 'i':
      if (from === 'h') return Number(BigInt.asIntN(32, value as bigint));
      return toInt32(value as number);
    case 'h':
      if (from === 'i') return BigInt(value as number);
      return toInt64(value as number);
    case 'f':
      return from === 'h' ? int64ToFloat32(value as bigint) : Math.fround(value as number);
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

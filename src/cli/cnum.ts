// C's number parsing as oscsend uses it — strtol, strtoll, strtof, strtod and sscanf("%08x") — so
// that `aiolo send` accepts, refuses and rounds exactly as oscsend does: decimal and hex floats are
// rounded once, to nearest even, from their exact value (not through a double first), NaNs keep
// their sign and payload, and ERANGE is reported as glibc sets it.

export interface Parsed<T> {
  readonly value: T;
  /** The whole string was read (C's `*endp == '\0'`). */
  readonly whole: boolean;
  /** glibc set errno to ERANGE (overflow, or an inexact result in the subnormal range). */
  readonly erange: boolean;
}

const FORMATS = {
  double: { p: 53, emin: -1022, emax: 1023, bits: 64 },
  float: { p: 24, emin: -126, emax: 127, bits: 32 },
} as const;
type Format = keyof typeof FORMATS;

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function fromBits(format: Format, bits: bigint): number {
  if (format === 'double') {
    u64[0] = bits;
    return f64[0] as number;
  }
  u32[0] = Number(bits);
  return f32[0] as number;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Rounds num/den (> 0) to `format`, half to even; returns the bits (without sign) and ERANGE. */
function round(format: Format, num: bigint, den: bigint): { bits: bigint; erange: boolean } {
  const { p, emin, emax } = FORMATS[format];
  const infinity = (BigInt(emax - emin + 2) << BigInt(p - 1)) as bigint; // the exponent field all ones
  // e: 2^e <= num/den < 2^(e+1)
  let e = bitLength(num) - bitLength(den);
  if (e >= 0 ? num < den << BigInt(e) : num << BigInt(-e) < den) e--;
  if (e > emax) return { bits: infinity, erange: true };
  const scale = Math.max(e, emin) - (p - 1); // the weight of the mantissa's last bit
  let n = num;
  let d = den;
  if (scale >= 0) d <<= BigInt(scale);
  else n <<= BigInt(-scale);
  let m = n / d;
  const twice = (n % d) * 2n;
  const inexact = twice !== 0n;
  if (twice > d || (twice === d && (m & 1n) === 1n)) m += 1n;
  let exp = Math.max(e, emin);
  if (m === 1n << BigInt(p)) {
    m >>= 1n;
    exp++;
  }
  if (exp > emax) return { bits: infinity, erange: true };
  const subnormal = m < 1n << BigInt(p - 1);
  const field = subnormal ? 0n : BigInt(exp - emin + 1);
  const mantissa = m & ((1n << BigInt(p - 1)) - 1n);
  return { bits: (field << BigInt(p - 1)) | mantissa, erange: subnormal && inexact };
}

const SPACE = '[ \\t\\n\\v\\f\\r]*';
const FLOAT = new RegExp(
  `^${SPACE}([+-]?)(?:(inf(?:inity)?)|(nan)(?:\\(([0-9A-Za-z_]*)\\))?|0[xX]([0-9a-fA-F]*)(?:\\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?|([0-9]*)(?:\\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?)`,
  'i',
);

/** glibc's strtoull(seq, NULL, 0) for a NaN's payload: hex, octal or decimal; 0 if not a number. */
function nanPayload(seq: string | undefined): bigint {
  if (seq === undefined || seq === '') return 0n;
  if (/^0[xX][0-9a-fA-F]+$/.test(seq) || /^[1-9][0-9]*$/.test(seq) || seq === '0') return BigInt(seq);
  if (/^0[0-7]+$/.test(seq)) return BigInt(`0o${seq.slice(1)}`);
  return 0n;
}

/** strtod (format 'double') or strtof ('float'). */
export function strtofloat(s: string, format: Format): Parsed<number> {
  const m = FLOAT.exec(s);
  const { p, bits } = FORMATS[format];
  const signBit = 1n << BigInt(bits - 1);
  const exponentOnes = ((1n << BigInt(bits - p)) - 1n) << BigInt(p - 1);
  if (m === null) return { value: 0, whole: s.length === 0, erange: false };
  const [text, sign, inf, nan, payload, hexInt, hexFrac, hexExp, decInt, decFrac, decExp] = m;
  const negative = sign === '-' ? signBit : 0n;
  const done = (magnitude: bigint, erange: boolean, length: number): Parsed<number> => ({
    value: fromBits(format, negative | magnitude),
    whole: length === s.length,
    erange,
  });
  if (inf !== undefined) return done(exponentOnes, false, text.length);
  if (nan !== undefined) {
    const quiet = 1n << BigInt(p - 2);
    return done(exponentOnes | quiet | (nanPayload(payload) & ((1n << BigInt(p - 1)) - 1n)), false, text.length);
  }
  let num: bigint;
  let den = 1n;
  let length = text.length;
  if (hexInt !== undefined) {
    const digits = hexInt + (hexFrac ?? '');
    if (digits === '') {
      // "0x" with no hex digit: strtod reads the 0 alone
      length = text.toLowerCase().indexOf('x');
      return done(0n, false, length);
    }
    num = BigInt(`0x${digits}`);
    const exp2 = Number(hexExp ?? '0') - 4 * (hexFrac ?? '').length;
    if (num === 0n) return done(0n, false, length);
    if (exp2 > 4000) return done(exponentOnes, true, length);
    if (exp2 < -4000 - bitLength(num)) return done(0n, true, length);
    if (exp2 >= 0) num <<= BigInt(exp2);
    else den = 1n << BigInt(-exp2);
  } else {
    const digits = (decInt ?? '') + (decFrac ?? '');
    if (digits === '') return { value: 0, whole: s.length === 0, erange: false };
    const exp10 = Number(decExp ?? '0') - (decFrac ?? '').length;
    num = BigInt(digits);
    if (num === 0n) return done(0n, false, length);
    if (exp10 + digits.length > 400) return done(exponentOnes, true, length);
    if (exp10 + digits.length < -400) return done(0n, true, length);
    if (exp10 >= 0) num *= 10n ** BigInt(exp10);
    else den = 10n ** BigInt(-exp10);
  }
  const r = round(format, num, den);
  return done(r.bits, r.erange, length);
}

// C's limits of long long and int on a 64-bit C library (the CLI reads numbers as oscsend's C does)
export const LLONG_MAX = 2n ** 63n - 1n;
export const LLONG_MIN = -(2n ** 63n);
export const INT_MAX = 2n ** 31n - 1n;
export const INT_MIN = -(2n ** 31n);

/** strtol / strtoll in base 10 on a 64-bit C library. */
export function strtoll(s: string): Parsed<bigint> {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(s) as RegExpExecArray;
  const digits = m[2] as string;
  if (digits === '') return { value: 0n, whole: s.length === 0, erange: false };
  let value = BigInt(`${m[1]}${digits}`);
  let erange = false;
  if (value > LLONG_MAX) {
    value = LLONG_MAX;
    erange = true;
  } else if (value < LLONG_MIN) {
    value = LLONG_MIN;
    erange = true;
  }
  return { value, whole: m[0].length === s.length, erange };
}

/**
 * sscanf(s, "%08x", &u): at most 8 characters after leading white space, counting a sign and a
 * "0x" prefix; undefined when no digit converts.
 */
export function scanHex8(s: string): number | undefined {
  let i = /^[ \t\n\v\f\r]*/.exec(s)?.[0].length ?? 0;
  const end = i + 8;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && i + 2 < end && /[0-9a-fA-F]/.test(s[i + 2] ?? ''))
    i += 2;
  let digits = '';
  while (i < end && /[0-9a-fA-F]/.test(s[i] ?? '')) digits += s[i++];
  if (digits === '') return undefined;
  const v = Number.parseInt(digits, 16);
  return negative ? -v >>> 0 : v;
}

// printf's "%f", exactly as glibc prints it (every digit of the exact binary value, rounded half
// to even at the sixth decimal), for oscdump's formatting of f and d arguments.

const bits = new Float64Array(1);
const raw = new BigUint64Array(bits.buffer);

export function formatF(x: number): string {
  if (Number.isNaN(x)) {
    bits[0] = x; // typed arrays keep a NaN's bits, and glibc prints its sign
    return (raw[0] as bigint) >> 63n === 1n ? '-nan' : 'nan';
  }
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  bits[0] = x;
  const b = raw[0] as bigint;
  const negative = b >> 63n === 1n;
  const exponent = Number((b >> 52n) & 0x7ffn);
  let mantissa = b & ((1n << 52n) - 1n);
  let e: number;
  if (exponent === 0) {
    e = -1074;
  } else {
    mantissa |= 1n << 52n;
    e = exponent - 1075;
  }
  // |x| * 10^6 = mantissa * 2^e * 10^6, rounded half to even
  let scaled: bigint;
  if (e >= 0) {
    scaled = (mantissa << BigInt(e)) * 1_000_000n;
  } else {
    const num = mantissa * 1_000_000n;
    const den = 1n << BigInt(-e);
    scaled = num / den;
    const twice = (num % den) * 2n;
    if (twice > den || (twice === den && (scaled & 1n) === 1n)) scaled += 1n;
  }
  const digits = scaled.toString().padStart(7, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

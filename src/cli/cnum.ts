// C's number parsing as oscsend uses it — strtol, strtoll, strtof, strtod and sscanf("%08x") — so
// that `aiolo send` accepts and refuses exactly the arguments oscsend does.

/** The longest prefix of `s` that C's strtod reads, or '' (glibc: also hex floats, inf, nan). */
function strtodPrefix(s: string): string {
  const m =
    /^[ \t\n\v\f\r]*[+-]?(?:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/i.exec(
      s,
    );
  return m === null ? '' : m[0];
}

function hexFloat(text: string): number {
  const m = /^([+-]?)0x([0-9a-f]*)\.?([0-9a-f]*)(?:p([+-]?[0-9]+))?$/i.exec(text) as RegExpExecArray;
  const digits = (m[2] ?? '') + (m[3] ?? '');
  const mantissa = digits === '' ? 0n : BigInt(`0x${digits}`);
  const exponent = Number(m[4] ?? '0') - 4 * (m[3] ?? '').length;
  const value = Number(mantissa) * 2 ** exponent;
  return m[1] === '-' ? -value : value;
}

/** strtod: the value and whether the whole string was a number (`*endp == '\0'`). */
export function strtod(s: string): { value: number; whole: boolean } {
  const prefix = strtodPrefix(s);
  const whole = prefix.length === s.length && prefix.length > 0;
  // no conversion leaves endp at the start: valid only for the empty string, as in C
  if (prefix === '') return { value: 0, whole: s.length === 0 };
  const t = prefix.trim();
  const lower = t.toLowerCase().replace(/^[+-]/, '');
  const sign = t.startsWith('-') ? -1 : 1;
  let value: number;
  if (lower.startsWith('inf')) value = sign * Number.POSITIVE_INFINITY;
  else if (lower.startsWith('nan')) value = Number.NaN;
  else if (lower.startsWith('0x')) value = hexFloat(t);
  else value = Number(t);
  return { value, whole };
}

/** strtol / strtoll in base 10 on a 64-bit C library. `erange` is C's errno == ERANGE. */
export function strtoll(s: string): { value: bigint; whole: boolean; erange: boolean } {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(s) as RegExpExecArray;
  const digits = m[2] as string;
  if (digits === '') return { value: 0n, whole: s.length === 0, erange: false };
  let value = BigInt(`${m[1]}${digits}`);
  let erange = false;
  if (value > 2n ** 63n - 1n) {
    value = 2n ** 63n - 1n;
    erange = true;
  } else if (value < -(2n ** 63n)) {
    value = -(2n ** 63n);
    erange = true;
  }
  return { value, whole: m[0].length === s.length, erange };
}

/** sscanf(s, "%08x", &u): undefined when nothing converts. */
export function scanHex8(s: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX])?([0-9a-fA-F]{1,8})/.exec(s);
  if (m === null) {
    // "0x" alone: scanf reads the 0 and stops at the x
    return /^[ \t\n\v\f\r]*[+-]?0/.test(s) ? 0 : undefined;
  }
  const v = Number.parseInt(m[2] as string, 16);
  return m[1] === '-' ? -v >>> 0 : v;
}

// The ranges of OSC's integer types (int32 `i`, int64 `h`), in one place for the codec.

/** -(2^31) and 2^31 - 1: what an `i` holds. */
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
/** The same as bigints, for checking a bigint given for an `i`. */
export const INT32_MIN_BIG = -(2n ** 31n);
export const INT32_MAX_BIG = 2n ** 31n - 1n;
/** -(2^63) and 2^63 - 1: what an `h` holds. */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
/**
 * 2^63 as a number (exactly representable): a number is within int64 when -TWO_63 <= x < TWO_63
 * (INT64_MAX itself is not a double; the nearest one is 2^63).
 */
export const TWO_63 = 2 ** 63;

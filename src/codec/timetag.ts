import { OscEncodeError } from './errors.js';

const TWO_32 = 4294967296;
/** Seconds from 1900-01-01 (the NTP epoch) to 1970-01-01 (the Unix epoch). */
export const NTP_UNIX_OFFSET = 2208988800;
const TWO_32_N = 4294967296n;
const NS_PER_S = 1_000_000_000n;
const OFFSET_N = 2208988800n;

function uint32(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= TWO_32) {
    throw new OscEncodeError('ERR_OSC_INVALID_VALUE', `TimeTag ${name} must be a uint32, got ${String(value)}`, {
      value,
    });
  }
  return value;
}

/** Splits a number of seconds into whole seconds and 2^-32 fractions, rounding the fraction. */
function splitSeconds(seconds: number): [whole: number, fraction: number] {
  if (!Number.isFinite(seconds)) {
    throw new OscEncodeError('ERR_OSC_INVALID_VALUE', `seconds must be finite, got ${seconds}`, { value: seconds });
  }
  let whole = Math.floor(seconds);
  let fraction = Math.round((seconds - whole) * TWO_32);
  if (fraction === TWO_32) {
    whole += 1;
    fraction = 0;
  }
  return [whole, fraction];
}

// The wall clock with sub-millisecond resolution: performance.now() (monotonic, fine) plus an
// offset to Date.now() (the wall clock, whole milliseconds). performance.timeOrigin alone can be off
// by milliseconds, and the wall clock is what peers stamp bundles with, so the offset is measured at
// the instant Date.now() ticks, and measured again when the two drift apart (NTP adjusting the clock).
let offsetMs: number | undefined;
let checkedAt = 0;

// One measurement of the offset from performance.now() to Date.now(): spin until Date.now() ticks
// to a new millisecond. The tick fell after the previous Date.now() call and before this one, so
// between the performance.now() readings around them; the midpoint of those is the estimate and the
// gap between them its uncertainty. A preemption widens the gap.
function measureOffset(): { offset: number; width: number } {
  const start = Date.now();
  let prev = performance.now();
  const giveUp = prev + 3;
  for (;;) {
    const wall = Date.now();
    const after = performance.now();
    if (wall !== start) return { offset: wall - (prev + after) / 2, width: after - prev };
    if (after > giveUp) return { offset: wall - after, width: Number.POSITIVE_INFINITY }; // a clock that does not tick
    prev = after;
  }
}

// The narrowest of seven measurements: on a busy machine some are preempted, rarely all. Each waits
// for a tick of Date.now(), so this spins for up to 7 ms: once, at the first TimeTag.now(), and
// again only if the two clocks drift apart by more than 1.5 ms.
function calibrate(): number {
  let best = measureOffset();
  for (let i = 1; i < 7; i++) {
    const m = measureOffset();
    if (m.width < best.width) best = m;
  }
  return best.offset;
}

function wallClockMs(): number {
  const mono = performance.now();
  if (offsetMs === undefined) {
    offsetMs = calibrate();
    checkedAt = mono;
  } else if (mono - checkedAt > 1000) {
    checkedAt = mono;
    if (Math.abs(Date.now() - (mono + offsetMs)) > 1.5) offsetMs = calibrate();
  }
  return performance.now() + offsetMs;
}

function wrapSeconds(seconds: number): number {
  const s = seconds % TWO_32;
  return s < 0 ? s + TWO_32 : s;
}

/**
 * An OSC/NTP timetag: whole seconds since 1900-01-01 UTC and 2^-32 fractions of a second, held
 * exactly as two uint32 values (never through a float). Seconds wrap modulo 2^32 as NTP era 0 does
 * (the field overflows on 2036-02-07).
 */
export class TimeTag {
  /** The special timetag (0, 1): "now", as liblo's `LO_TT_IMMEDIATE`. */
  static readonly IMMEDIATE: TimeTag = new TimeTag(0, 1);

  readonly seconds: number;
  readonly fraction: number;

  constructor(seconds: number, fraction: number) {
    this.seconds = uint32('seconds', seconds);
    this.fraction = uint32('fraction', fraction);
  }

  /** The current wall-clock time, with sub-millisecond resolution. */
  static now(): TimeTag {
    return TimeTag.fromUnixMilliseconds(wallClockMs());
  }

  /** From milliseconds since the Unix epoch (`Date.now()`). */
  static fromUnixMilliseconds(ms: number): TimeTag {
    const [whole, fraction] = splitSeconds(ms / 1000);
    return new TimeTag(wrapSeconds(whole + NTP_UNIX_OFFSET), fraction);
  }

  /** From seconds since the Unix epoch. */
  static fromUnixSeconds(seconds: number): TimeTag {
    const [whole, fraction] = splitSeconds(seconds);
    return new TimeTag(wrapSeconds(whole + NTP_UNIX_OFFSET), fraction);
  }

  /** From a `Date`; an invalid Date throws `OscEncodeError`. */
  static fromDate(date: Date): TimeTag {
    const ms = date.getTime();
    if (Number.isNaN(ms)) {
      throw new OscEncodeError('ERR_OSC_INVALID_VALUE', 'Invalid Date', { value: date });
    }
    return TimeTag.fromUnixMilliseconds(ms);
  }

  /** From nanoseconds since the Unix epoch (for example `process.hrtime`-based clocks). */
  static fromUnixNanoseconds(ns: bigint): TimeTag {
    let whole = ns / NS_PER_S;
    let rest = ns % NS_PER_S;
    if (rest < 0n) {
      rest += NS_PER_S;
      whole -= 1n;
    }
    let fraction = (rest * TWO_32_N + NS_PER_S / 2n) / NS_PER_S;
    if (fraction === TWO_32_N) {
      fraction = 0n;
      whole += 1n;
    }
    return new TimeTag(wrapSeconds(Number((whole + OFFSET_N) % TWO_32_N)), Number(fraction));
  }

  /** From the 64-bit wire value: seconds in the high 32 bits, fraction in the low 32. */
  static fromBigInt(value: bigint): TimeTag {
    const v = BigInt.asUintN(64, value);
    return new TimeTag(Number(v >> 32n), Number(v & 0xffffffffn));
  }

  /** The 64-bit wire value. */
  toBigInt(): bigint {
    return (BigInt(this.seconds) << 32n) | BigInt(this.fraction);
  }

  /** Seconds since 1900-01-01 as a float (about 0.2 µs resolution today). */
  toNtpSeconds(): number {
    return this.seconds + this.fraction / TWO_32;
  }

  /** Seconds since the Unix epoch, as a float. */
  toUnixSeconds(): number {
    return this.seconds - NTP_UNIX_OFFSET + this.fraction / TWO_32;
  }

  /** Milliseconds since the Unix epoch, as a float. */
  toUnixMilliseconds(): number {
    return (this.seconds - NTP_UNIX_OFFSET) * 1000 + (this.fraction / TWO_32) * 1000;
  }

  /** Nanoseconds since the Unix epoch, rounded to the nearest nanosecond. */
  toUnixNanoseconds(): bigint {
    const frac = (BigInt(this.fraction) * NS_PER_S + TWO_32_N / 2n) / TWO_32_N;
    return (BigInt(this.seconds) - OFFSET_N) * NS_PER_S + frac;
  }

  /** The time as a `Date` (millisecond resolution). */
  toDate(): Date {
    return new Date(this.toUnixMilliseconds());
  }

  get isImmediate(): boolean {
    return this.seconds === 0 && this.fraction === 1;
  }

  /** A new timetag `seconds` later (negative: earlier), computed on the 64-bit value. */
  add(seconds: number): TimeTag {
    const [whole, fraction] = splitSeconds(seconds);
    let f = this.fraction + fraction;
    let carry = 0;
    if (f >= TWO_32) {
      f -= TWO_32;
      carry = 1;
    }
    return new TimeTag(wrapSeconds(this.seconds + whole + carry), f);
  }

  /** A new timetag `seconds` earlier, computed on the 64-bit value. */
  subtract(seconds: number): TimeTag {
    return this.add(-seconds);
  }

  /** `this - other` in seconds. */
  diff(other: TimeTag): number {
    return this.seconds - other.seconds + (this.fraction - other.fraction) / TWO_32;
  }

  /** Orders by the 64-bit value: negative, zero or positive, as `Array.prototype.sort` wants. */
  compare(other: TimeTag): number {
    return this.seconds - other.seconds || this.fraction - other.fraction;
  }

  /** Orders two timetags by the 64-bit value: for `array.sort(TimeTag.compare)`. */
  static compare(a: TimeTag, b: TimeTag): number {
    return a.compare(b);
  }

  /** Whether `other` is a TimeTag of the same 64-bit value. */
  equals(other: unknown): boolean {
    return other instanceof TimeTag && other.seconds === this.seconds && other.fraction === this.fraction;
  }

  /** oscdump's format: `%08x.%08x` of seconds and fraction. */
  toString(): string {
    return `${this.seconds.toString(16).padStart(8, '0')}.${this.fraction.toString(16).padStart(8, '0')}`;
  }
}

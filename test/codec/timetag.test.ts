// TimeTag: exact NTP seconds + 2^-32 fractions; Python aiolo's test_timetag ported, with the one
// deliberate difference (aiolo scales fractions by 2^32 - 1, as liblo's lo_timetag_now does; we use
// NTP's 2^32) written down.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NTP_UNIX_OFFSET, OscEncodeError, TimeTag } from '../../src/index.js';

const FRAC = 2 ** 32;

describe('TimeTag', () => {
  test('IMMEDIATE is (0, 1) and is the only immediate timetag', () => {
    assert.equal(TimeTag.IMMEDIATE.seconds, 0);
    assert.equal(TimeTag.IMMEDIATE.fraction, 1);
    assert.ok(TimeTag.IMMEDIATE.isImmediate);
    assert.ok(new TimeTag(0, 1).isImmediate);
    assert.ok(!new TimeTag(0, 0).isImmediate);
    assert.equal(TimeTag.IMMEDIATE.toString(), '00000000.00000001');
  });

  test('NTP_UNIX_OFFSET is JAN_1970 (0x83AA7E80)', () => {
    assert.equal(NTP_UNIX_OFFSET, 0x83aa7e80);
    assert.ok(TimeTag.fromUnixSeconds(0).equals(new TimeTag(0x83aa7e80, 0)));
    assert.ok(TimeTag.fromDate(new Date(0)).equals(new TimeTag(0x83aa7e80, 0)));
  });

  test('arithmetic is exact and returns new timetags (IMMEDIATE is never changed)', () => {
    const tt = TimeTag.IMMEDIATE.add(1);
    assert.ok(tt.equals(new TimeTag(1, 1)));
    assert.ok(TimeTag.IMMEDIATE.equals(new TimeTag(0, 1)));
    assert.ok(TimeTag.IMMEDIATE.add(3).equals(new TimeTag(3, 1)));
    // Python aiolo expects (0, int(0.9 * (2**32 - 1))) here; with NTP's 2^32 the fraction is
    // round(0.9 * 2**32) + 1 (the 1 carried from (3, 1)).
    const back = new TimeTag(3, 1).subtract(2.1);
    assert.equal(back.seconds, 0);
    assert.equal(back.fraction, Math.round(0.9 * FRAC) + 1);
    assert.ok(new TimeTag(5, 0xffffffff).add(2 ** -32).equals(new TimeTag(6, 0)));
    assert.ok(new TimeTag(6, 0).subtract(2 ** -32).equals(new TimeTag(5, 0xffffffff)));
    assert.ok(new TimeTag(0, 0).subtract(1).equals(new TimeTag(0xffffffff, 0)), 'seconds wrap as NTP era 0 does');
    assert.equal(new TimeTag(10, FRAC / 2).diff(new TimeTag(8, FRAC / 4)), 2.25);
  });

  test('comparison orders by the 64-bit value', () => {
    const a = new TimeTag(1, 5);
    const b = new TimeTag(1, 6);
    const c = new TimeTag(2, 0);
    assert.ok(a.compare(b) < 0 && b.compare(a) > 0 && a.compare(new TimeTag(1, 5)) === 0);
    assert.deepEqual([c, a, b].sort(TimeTag.compare), [a, b, c]);
    assert.ok(!a.equals(b) && a.equals(new TimeTag(1, 5)) && !a.equals({ seconds: 1, fraction: 5 }));
  });

  // Python aiolo's dates: EPOCH_UTC, 1905-05-05, 2026-06-06T06:06:06.000006Z
  test('Unix seconds, Dates and nanoseconds convert both ways', () => {
    for (const iso of ['1970-01-01T00:00:00Z', '1905-05-05T05:05:05Z', '2026-06-06T06:06:06.006Z']) {
      const d = new Date(iso);
      const tt = TimeTag.fromDate(d);
      assert.equal(tt.toDate().getTime(), d.getTime(), iso);
      assert.equal(
        TimeTag.fromUnixSeconds(d.getTime() / 1000)
          .toDate()
          .getTime(),
        d.getTime(),
        iso,
      );
    }
    // sub-millisecond: 6 µs survives a round trip through Unix nanoseconds exactly
    const ns = 1780725966000006000n; // 2026-06-06T06:06:06.000006Z
    const tt = TimeTag.fromUnixNanoseconds(ns);
    assert.equal(tt.toUnixNanoseconds(), ns);
    assert.equal(tt.seconds, Number(ns / 1_000_000_000n) + NTP_UNIX_OFFSET);
    assert.ok(Math.abs(tt.toUnixSeconds() - 1780725966.000006) < 1e-6);
    // 1 ns is below a float's resolution but visible in the exact value; 0.1 s is visible everywhere
    assert.ok(!TimeTag.fromUnixNanoseconds(ns + 1n).equals(tt));
    assert.ok(tt.add(0.1).compare(tt) > 0);
    assert.ok(TimeTag.fromUnixNanoseconds(-1n).equals(new TimeTag(NTP_UNIX_OFFSET - 1, 0xffffffff + 1 - 4)));
  });

  test('the 64-bit wire value', () => {
    const tt = new TimeTag(0x01234567, 0x89abcdef);
    assert.equal(tt.toBigInt(), 0x0123456789abcdefn);
    assert.ok(TimeTag.fromBigInt(0x0123456789abcdefn).equals(tt));
    assert.equal(new TimeTag(1, 0x80000000).toNtpSeconds(), 1.5);
  });

  test('now() agrees with Date.now() to within its whole milliseconds (it is calibrated to the wall clock)', () => {
    for (let i = 0; i < 2000; i++) {
      const before = Date.now();
      const now = TimeTag.now().toUnixMilliseconds();
      const after = Date.now();
      // Date.now() floors: the true time is within [before, after + 1); calibration errs by microseconds, 0.2 ms allowed
      assert.ok(now >= before - 0.2 && now < after + 1.2, `${now} outside [${before}, ${after + 1})`);
    }
  });

  test('now() is wall-clock time with sub-millisecond resolution', () => {
    const before = Date.now();
    const now = TimeTag.now();
    const after = Date.now();
    const ms = now.toUnixMilliseconds();
    assert.ok(ms >= before - 5 && ms <= after + 5, `${ms} not within [${before}, ${after}]`);
    // distinct readings a few microseconds apart differ (Date.now() could not tell them apart)
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add(TimeTag.now().toString());
    assert.ok(seen.size > 1);
  });

  test('invalid parts are OscEncodeErrors', () => {
    for (const [s, f] of [
      [-1, 0],
      [0, -1],
      [2 ** 32, 0],
      [0, 2 ** 32],
      [1.5, 0],
      [Number.NaN, 0],
    ] as const) {
      assert.throws(() => new TimeTag(s, f), OscEncodeError);
    }
    assert.throws(() => TimeTag.fromUnixSeconds(Number.POSITIVE_INFINITY), OscEncodeError);
    assert.throws(() => TimeTag.fromDate(new Date(Number.NaN)), OscEncodeError);
  });
});

// aiolo-native's timer (native/src/timer.c), which the bundle scheduler waits with where the addon
// is loaded: it sleeps on a timerfd until `spinMs` before the time asked, turns the loop from there,
// and calls back once, never before the time asked. The scheduler's own tests (scheduling.test.ts)
// run on it too; this file checks the timer's contract and its lifecycle.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { Address, Message, Server, TimeTag } from '../../src/index.js';
import { nativeUdp } from '../../src/transport/native.js';
import { until, within } from '../helpers/async.js';
import { needNative } from '../helpers/native.js';
import { run } from '../helpers/proc.js';
import { seeded } from '../helpers/random.js';

/** The addon's timer, with the spin given per arming (the library's wrapper always uses SPIN_MS). */
interface RawTimer {
  arm(ms: number, spinMs: number): boolean;
  disarm(): void;
  close(): void;
}

function timers(fire: () => void): RawTimer {
  const addon = nativeUdp as NonNullable<typeof nativeUdp>;
  const handle = addon.timerOpen(fire);
  assert.equal(typeof handle, 'object', 'timerOpen');
  return {
    arm: (ms, spinMs) => addon.timerArm(handle as object, ms, spinMs) === 0,
    disarm: () => addon.timerDisarm(handle as object),
    close: () => addon.timerClose(handle as object),
  };
}

/** A timer and a promise of its next call, as the count of calls so far. */
function counted(): { timer: RawTimer; calls: () => number; next: () => Promise<void> } {
  let calls = 0;
  let wake: (() => void) | undefined;
  const timer = timers(() => {
    calls++;
    wake?.();
  });
  return {
    timer,
    calls: () => calls,
    next: () =>
      new Promise<void>((resolve) => {
        wake = resolve;
      }),
  };
}

/** Milliseconds on the monotonic clock the timer uses (performance.now()'s). */
function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

test(
  'fires once per arming, never before the time asked, with or without the spin',
  seeded(async (r, t) => {
    if (!needNative(t)) return;
    const { timer, calls, next } = counted();
    try {
      const late: number[] = [];
      for (let i = 0; i < 40; i++) {
        const ms = r.pick([0, 0.001, r.next() * 0.5, r.next() * 5]);
        const spinMs = r.pick([0, 0.2, 1, 10]);
        const fired = next();
        const target = nowMs() + ms; // read before arm(): the timer's own start is later, not earlier
        assert.equal(timer.arm(ms, spinMs), true);
        await within(5000, `firing ${i}`, fired);
        const at = nowMs();
        assert.ok(at >= target, `arming ${i} (${ms} ms, spin ${spinMs}) fired ${target - at} ms early ${r.replay}`);
        assert.equal(calls(), i + 1, `one call per arming ${r.replay}`);
        late.push(at - target);
      }
      late.sort((a, b) => a - b);
      t.diagnostic(`lateness over 40 armings: p50 ${late[20]?.toFixed(3)} ms, max ${late[39]?.toFixed(3)} ms`);
    } finally {
      timer.close();
    }
  }),
);

test('arming again replaces the earlier time; disarm and close cancel; close is idempotent', async (t) => {
  if (!needNative(t)) return;
  const replaced = counted();
  const disarmed = counted();
  const closed = counted();
  const marker = counted();
  try {
    const start = nowMs();
    replaced.timer.arm(2, 0);
    const fired = replaced.next();
    assert.equal(replaced.timer.arm(40, 1), true);
    disarmed.timer.arm(2, 1);
    disarmed.timer.disarm();
    disarmed.timer.disarm(); // (twice is no error)
    closed.timer.arm(2, 0);
    closed.timer.close();
    closed.timer.close();
    assert.equal(closed.timer.arm(1, 0), false, 'a closed timer cannot be armed');
    await within(5000, 'the re-armed timer', fired);
    assert.ok(nowMs() - start >= 40, 'the first arming was replaced, not kept');
    // the marker, armed after the others were due, fires after every one of them would have
    const markerFired = marker.next();
    marker.timer.arm(5, 1);
    await within(5000, 'the marker', markerFired);
    assert.deepEqual([replaced.calls(), disarmed.calls(), closed.calls()], [1, 0, 0]);
    // a disarmed timer can be armed again
    const again = disarmed.next();
    disarmed.timer.arm(1, 0);
    await within(5000, 'the disarmed timer armed again', again);
    assert.equal(disarmed.calls(), 1);
  } finally {
    for (const c of [replaced, disarmed, closed, marker]) c.timer.close();
  }
});

test('a timer may close itself, or arm itself again, from its own call', async (t) => {
  if (!needNative(t)) return;
  let calls = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const timer: RawTimer = timers(() => {
    calls++;
    if (calls < 3) {
      assert.equal(timer.arm(1, 0.5), true);
    } else {
      timer.close();
      assert.equal(timer.arm(1, 0), false);
      done();
    }
  });
  timer.arm(1, 0.5);
  await within(5000, 'three calls', finished);
  const marker = counted();
  const markerFired = marker.next();
  marker.timer.arm(10, 1);
  await within(5000, 'the marker', markerFired);
  marker.timer.close();
  assert.equal(calls, 3, 'nothing after close');
});

// Each child exits by itself at once, or is held by a timer armed for a minute and killed by
// run()'s deadline (code null): what keeps the process alive is what is measured, not a duration.
for (const [mode, says] of [
  ['armed', 'fired'],
  ['disarmed', 'disarmed'],
  ['closed', 'closed'],
] as const) {
  test(`process lifetime: ${mode === 'armed' ? 'an armed timer keeps the process alive until it fires' : `a ${mode} timer holds nothing`}`, async (t) => {
    if (!needNative(t)) return;
    const ran = await run(
      [process.execPath, '--import', 'tsx', 'test/server/fixtures/precise-timer-alive.ts', mode],
      30_000,
    );
    assert.equal(ran.code, 0, `exit ${ran.code}: ${ran.stderr}`);
    assert.equal(ran.stdout.toString('utf8').trim(), says);
  });
}

test('a server’s schedule holds a timer while something waits, and none once stopped', async (t) => {
  if (!needNative(t)) return;
  const holding = () => (nativeUdp as NonNullable<typeof nativeUdp>).timerHolding();
  const before = holding();
  const server = new Server({ host: '127.0.0.1' });
  await server.start();
  const address = new Address({ url: server.url as string });
  try {
    await address.bundle([new Message('/later')], TimeTag.now().add(60));
    await until(5000, 'the bundle to be scheduled', () => server.eventsPending);
    assert.equal(holding(), before + 1);
  } finally {
    await address.close();
    await server.stop();
  }
  // closed, not only forgotten: a forgotten one would hold the loop until it was collected
  assert.equal(holding(), before);
});

test('the addon refuses what is not its own: a socket handle as a timer, a timer handle as a socket, no function', async (t) => {
  if (!needNative(t)) return;
  const addon = nativeUdp as NonNullable<typeof nativeUdp>;
  const opened = addon.open(false, '127.0.0.1', 0, 0, false);
  assert.ok(Array.isArray(opened), 'open');
  const socket = opened[0];
  const timer = timers(() => {});
  const fds = () => readdirSync('/proc/self/fd').length;
  try {
    const refused = { code: 'ERR_AIOLO_NATIVE' };
    assert.throws(() => addon.timerArm(socket, 1, 0), refused);
    assert.throws(() => addon.timerClose(socket), refused);
    assert.throws(() => addon.send({} as object, new Uint8Array(4), 1, '127.0.0.1'), refused);
    // a timer's handle as a socket's
    const raw = addon.timerOpen(() => {}) as object;
    assert.throws(() => addon.send(raw, new Uint8Array(4), 1, '127.0.0.1'), refused);
    addon.timerClose(raw);
    // a throwing open leaves no descriptor behind
    const before = fds();
    for (let i = 0; i < 20; i++) assert.throws(() => addon.timerOpen(42 as unknown as () => void), refused);
    assert.equal(fds(), before, 'descriptors left by throwing opens');
    // ports outside 0-65535 are refused, not wrapped
    assert.equal(addon.send(socket, new Uint8Array(4), 70_000, '127.0.0.1'), -22);
    assert.equal(addon.send(socket, new Uint8Array(4), -1, '127.0.0.1'), -22);
  } finally {
    timer.close();
    addon.close(socket);
  }
});

test('arming with NaN, a negative or an enormous time: due now, or at the cap, never an overflow to now', async (t) => {
  if (!needNative(t)) return;
  const { timer, calls, next } = counted();
  try {
    for (const ms of [Number.NaN, -5]) {
      const fired = next();
      assert.equal(timer.arm(ms, 0), true);
      await within(5000, `arm(${ms})`, fired);
    }
    // 2^64 ns and more, once wrapped around to a due time in the past: must wait, not fire
    for (const ms of [2 ** 53, 18_446_744_000_000, Number.POSITIVE_INFINITY]) {
      assert.equal(timer.arm(ms, 0), true);
      const marker = counted();
      const markerFired = marker.next();
      marker.timer.arm(20, 1);
      await within(5000, 'the marker', markerFired);
      marker.timer.close();
      assert.equal(calls(), 2, `arm(${ms}) fired`);
    }
  } finally {
    timer.close();
  }
});

// Bundled messages dispatched at their timetag: immediate and past ones at once, in arrival order;
// nested bundles by their own timetag; equal timetags in arrival order, even across packets; never
// early (liblo 0.31 fires up to 10 ms early), with the lateness measured and reported.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, ANY_PATH, Bundle, Message, type Received, Server, TimeTag } from '../../src/index.js';
import { EARLY_WAKE_MS, Scheduler } from '../../src/server/scheduler.js';
import { preciseTimers } from '../../src/transport/native.js';
import { event, take, within } from '../helpers/async.js';
import { needNative } from '../helpers/native.js';

const LOCAL = '127.0.0.1';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

describe('scheduling', () => {
  test('liblo’s measured order (reference A.5), with aiolo’s exact timing', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    const a = new Address({ url: server.url as string });
    try {
      const sub = server.route(ANY_PATH).sub({ incoming: true });
      const t0 = TimeTag.now();
      const at = (s: number) => t0.add(s);
      const m = (p: string) => new Message(p);
      // sent in this order: B@0.6, A+A2@0.3, A3@0.3 (separate packet), past(-5 s), immediate,
      // outer@0.5{inner@0.1, inner-imm}, plain, C@0.2
      await a.bundle([m('/B')], at(0.6));
      await a.bundle([m('/A'), m('/A2')], at(0.3));
      await a.bundle([m('/A3')], at(0.3));
      await a.bundle([m('/past')], at(-5));
      await a.bundle([m('/immediate')]);
      await a.bundle(new Bundle([new Bundle(m('/inner'), at(0.1)), new Bundle(m('/inner-imm')), m('/outer')], at(0.5)));
      await a.send('/plain');
      await a.bundle([m('/C')], at(0.2));
      const got = await take(sub, 11, 5000);
      assert.deepEqual(
        got.map((r) => r.path),
        ['/past', '/immediate', '/inner-imm', '/plain', '/inner', '/C', '/A', '/A2', '/A3', '/outer', '/B'],
      );
      // each carries its bundle's timetag; the plain message carries IMMEDIATE
      const byPath = new Map(got.map((r) => [r.path, r]));
      assert.ok(byPath.get('/plain')?.timetag.isImmediate);
      assert.ok(byPath.get('/B')?.timetag.equals(at(0.6)));
      assert.ok(byPath.get('/inner')?.timetag.equals(at(0.1)));
    } finally {
      await a.close();
      await server.stop();
    }
  });

  // The scheduler waits with setTimeout and turns of the loop, or with aiolo-native's timer where it
  // is loaded (a server's): both are held to the same promise.
  for (const [how, timers] of [
    ['setTimeout and steps', undefined],
    ['aiolo-native’s timer', preciseTimers],
  ] as const) {
    /** Schedules item i at `ahead(i)` seconds from now; resolves with each one's lateness in ms, sorted. */
    const lateness = async (n: number, ahead: (i: number) => number): Promise<number[]> => {
      const late: number[] = [];
      let done!: () => void;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      const scheduler = new Scheduler<number>(
        (_item, timetag) => {
          late.push(TimeTag.now().diff(timetag) * 1000);
          if (late.length === n) done();
        },
        (err) => assert.fail(String(err)),
        timers,
      );
      const start = TimeTag.now();
      for (let i = 0; i < n; i++) scheduler.add(start.add(ahead(i)), i);
      await within(5000, 'all dispatches', finished).finally(() => scheduler.clear());
      return late.sort((x, y) => x - y);
    };

    test(`never early: every dispatch happens at or after its timetag (lateness reported; ${how})`, async (t) => {
      if (how !== 'setTimeout and steps' && !needNative(t)) return;
      const N = 60;
      const late = await lateness(N, (i) => 0.005 + ((i * 37) % 100) / 1000);
      assert.ok((late[0] as number) >= 0, `dispatched ${-(late[0] as number)} ms early`);
      t.diagnostic(
        `lateness over ${N} events 5-105 ms ahead: p50 ${percentile(late, 50).toFixed(3)} ms, p99 ${percentile(late, 99).toFixed(3)} ms, max ${(late[N - 1] as number).toFixed(3)} ms`,
      );
    });

    test(`never early when due within a few milliseconds (${how})`, async (t) => {
      if (how !== 'setTimeout and steps' && !needNative(t)) return;
      // 0-3.9 ms ahead: no timer (or one of 1 ms), then steps; or the native timer's spin alone
      const late = await lateness(40, (i) => ((i * 7) % 40) / 10_000);
      assert.ok((late[0] as number) >= 0, `dispatched ${-(late[0] as number)} ms early`);
    });
  }

  test('a timer is only ever set for whole milliseconds ending EARLY_WAKE_MS before the due time', () => {
    // Node makes a timer under 1 ms one of 1 ms and truncates fractions, so either could fire after
    // a due time less than EARLY_WAKE_MS + 1 ms away: what is that close is stepped instead.
    const real = globalThis.setTimeout;
    for (const aheadMs of [0.5, 1.5, 2.5, 2.99, 3.01, 3.5, 4.2, 10.7, 57.9]) {
      const asked: number[] = [];
      const scheduler = new Scheduler<number>(
        () => {},
        (err) => assert.fail(String(err)),
      );
      const due = TimeTag.now().add(aheadMs / 1000);
      globalThis.setTimeout = ((run: () => void, ms: number) => {
        asked.push(ms);
        return real(run, ms);
      }) as typeof setTimeout;
      try {
        scheduler.add(due, 1);
      } finally {
        globalThis.setTimeout = real;
        scheduler.clear();
      }
      for (const ms of asked) {
        assert.ok(Number.isInteger(ms) && ms >= 1, `${aheadMs} ms ahead: a timer of ${ms} ms`);
        assert.ok(ms <= aheadMs - EARLY_WAKE_MS, `${aheadMs} ms ahead: a timer of ${ms} ms ends too late`);
      }
      // (far enough that no stall between reading the clock and add() makes it a step instead)
      if (aheadMs > 50) assert.equal(asked.length, 1, `${aheadMs} ms ahead: no timer`);
    }
  });

  test('equal timetags keep arrival order, across packets', async () => {
    const order: number[] = [];
    const tt = TimeTag.now().add(0.05);
    let done!: () => void;
    const finished = new Promise<void>((r) => {
      done = r;
    });
    const s = new Scheduler<number>(
      (i) => {
        order.push(i);
        if (order.length === 50) done();
      },
      (err) => assert.fail(String(err)),
    );
    for (let i = 0; i < 50; i++) s.add(i % 2 ? tt : tt.add(0), i);
    await within(3000, 'dispatch', finished);
    assert.deepEqual(
      order,
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  test('queue: false dispatches at once with the timetag attached', async () => {
    const server = new Server({ host: LOCAL, queue: false });
    await server.start();
    const a = new Address({ url: server.url as string });
    try {
      const sub = server.route('/f', 'i').sub({ incoming: true });
      const tt = TimeTag.now().add(3600);
      await a.bundle([Message.typed('/f', 'i', 1)], tt);
      const [m] = await take(sub, 1, 2000);
      assert.ok(m?.timetag.equals(tt));
      assert.equal(server.eventsPending, false);
    } finally {
      await a.close();
      await server.stop();
    }
  });

  test('the schedule is bounded: a full queue and the horizon drop and report', async () => {
    const server = new Server({ host: LOCAL, maxQueued: 2, maxScheduleAhead: 60 });
    await server.start();
    const a = new Address({ url: server.url as string });
    try {
      const soon = TimeTag.now().add(30);
      await a.bundle([new Message('/q', 1), new Message('/q', 2)], soon);
      const full = event<[Received, string]>(server, 'scheduleOverflow');
      await a.bundle([new Message('/q', 3)], soon);
      const [message, reason] = await full;
      assert.equal(reason, 'full');
      assert.deepEqual(message.args, [3]);
      assert.equal(server.stats.queued, 2);
      assert.ok(server.nextEventDelay > 25 && server.nextEventDelay <= 30);
    } finally {
      await a.close();
      await server.stop();
    }
    const far = new Server({ host: LOCAL, maxScheduleAhead: 60 });
    await far.start();
    const b = new Address({ url: far.url as string });
    try {
      const horizon = event<[Received, string]>(far, 'scheduleOverflow');
      await b.bundle([new Message('/q')], TimeTag.now().add(3600));
      assert.equal((await horizon)[1], 'horizon');
      assert.equal(far.stats.queueDropped, 1);
      assert.equal(far.eventsPending, false);
      assert.equal(far.nextEventDelay, 100); // liblo's cap when nothing waits
    } finally {
      await b.close();
      await far.stop();
    }
  });

  test('stop drops what waits in the schedule', async () => {
    const server = new Server({ host: LOCAL });
    await server.start();
    const a = new Address({ url: server.url as string });
    const sub = server.route('/w').sub();
    await a.bundle([new Message('/w')], TimeTag.now().add(10));
    await within(
      2000,
      'the bundle to be queued',
      (async () => {
        while (!server.eventsPending) await new Promise((r) => setImmediate(r));
      })(),
    );
    await a.close();
    await server.stop();
    assert.equal(server.eventsPending, false);
    assert.deepEqual(await take(sub, 1), []); // the subscription ended without it
  });
});

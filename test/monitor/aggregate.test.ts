// The monitor's aggregator on a clock the test drives: rates, the row bound, the log's bound and
// filter, the plot samples' decimation, bundles, and the text of the table and the log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bundle, encode, Message, type ReceivedPacket, TimeTag } from '../../src/index.js';
import {
  Aggregator,
  MAX_LOG_PER_TICK,
  MAX_ROWS,
  MAX_SAMPLES_PER_TICK,
  type ServerCounters,
  TICK_MS,
} from '../../src/monitor/aggregate.js';

const COUNTERS: ServerCounters = {
  packets: 0,
  messages: 0,
  malformed: 0,
  dropped: 0,
  queueDropped: 0,
  kernelDropped: null,
  hangups: 0,
  refused: 0,
  connections: 0,
  servers: [],
  rss: 0,
  heapUsed: 0,
};
const SOURCE = { url: 'osc.udp://127.0.0.1:5000/', proto: 'udp' };
const ARRIVED = TimeTag.fromUnixMilliseconds(1_700_000_000_000);

function packet(p: Message | Bundle): ReceivedPacket {
  return { data: encode(p), packet: p, source: SOURCE, arrived: ARRIVED } as unknown as ReceivedPacket;
}

test('rates are the messages of the last 10 ticks (a second) over the time they really took', () => {
  let now = 1000;
  const agg = new Aggregator(now);
  const page = agg.addClient();
  // 10 ticks of 100 ms, 5 messages in each: 50 in the last second
  let update: ReturnType<Aggregator['tick']> | undefined;
  for (let i = 0; i < 10; i++) {
    for (let k = 0; k < 5; k++) agg.ingest(packet(new Message('/a', k)), now);
    now += TICK_MS;
    update = agg.tick(now, COUNTERS);
  }
  const row = update?.get(page)?.rows.find((r) => r.path === '/a');
  assert.equal(row?.count, 50);
  assert.equal(row?.rate, 50);
  // ticks that came late (200 ms each): the window is the last 10 ticks, by their real times —
  // after 5, it holds 25 of the messages over 1.5 s; after 10, none
  for (let i = 0; i < 5; i++) {
    now += 2 * TICK_MS;
    update = agg.tick(now, COUNTERS);
  }
  assert.equal(update?.get(page)?.rows.find((r) => r.path === '/a')?.rate, 25 / 1.5);
  for (let i = 0; i < 5; i++) {
    now += 2 * TICK_MS;
    update = agg.tick(now, COUNTERS);
  }
  const later = update?.get(page)?.rows.find((r) => r.path === '/a');
  assert.equal(later?.rate, 0);
  assert.equal(later?.count, 50);
});

test('the table keeps MAX_ROWS rows, evicting the least recently seen', () => {
  let now = 0;
  const next = (ms = TICK_MS): number => {
    now += ms;
    return now;
  };
  const agg = new Aggregator(now);
  const page = agg.addClient();
  agg.tick(next(), COUNTERS);
  for (let i = 0; i < MAX_ROWS; i++) agg.ingest(packet(new Message(`/r/${i}`, i)), now);
  agg.tick(next(), COUNTERS);
  agg.ingest(packet(new Message('/r/0', 0)), now); // seen again: no longer the oldest
  agg.ingest(packet(new Message('/new', 1)), now);
  const u = agg.tick(next(), COUNTERS).get(page);
  assert.equal(agg.rows, MAX_ROWS);
  assert.equal(agg.rowsEvicted, 1);
  assert.deepEqual(u?.removed, ['/r/1']);
  assert.equal(u?.counters.rows, MAX_ROWS);
  assert.ok(u?.rows.some((r) => r.path === '/new'));
});

test('the log: the newest MAX_LOG_PER_TICK matching lines, the rest counted; an OSC pattern filters', () => {
  let now = 0;
  const next = (ms = TICK_MS): number => {
    now += ms;
    return now;
  };
  const agg = new Aggregator(now);
  const page = agg.addClient();
  const other = agg.addClient();
  assert.equal(agg.setFilter(page, '/s/{a,b}'), null);
  for (let i = 0; i < MAX_LOG_PER_TICK + 50; i++) agg.ingest(packet(new Message('/s/a', i)), now);
  agg.ingest(packet(new Message('/s/c', 1)), now);
  const updates = agg.tick(next(), COUNTERS);
  const u = updates.get(page);
  assert.equal(u?.log.length, MAX_LOG_PER_TICK);
  assert.equal(u?.logSkipped, 50);
  assert.match(u?.log[0]?.line ?? '', /^[0-9a-f]{8}\.[0-9a-f]{8} \/s\/a i 50$/);
  assert.equal(u?.log[0]?.source, SOURCE.url);
  assert.equal(u?.log[0]?.transport, 'udp');
  assert.ok(u?.log.every((l) => l.line.includes('/s/a')));
  // the other page has no filter: it got /s/c as the newest line
  assert.match(updates.get(other)?.log.at(-1)?.line ?? '', / \/s\/c i 1$/);
  assert.match(agg.setFilter(page, '/a[') ?? '', /./); // not a pattern: refused, said why
});

test('a bundle: each message with its timetag; the row shows the latest arguments as aiolo dump prints them', () => {
  const agg = new Aggregator(0);
  const page = agg.addClient();
  const tt = new TimeTag(0xeeb00000, 0x80000000);
  agg.ingest(packet(new Bundle([new Message('/x', 1, 'two'), new Bundle([new Message('/y', 2.5, true)], tt)], tt)), 0);
  const u = agg.tick(TICK_MS, COUNTERS).get(page);
  const x = u?.rows.find((r) => r.path === '/x');
  assert.deepEqual([x?.typetags, x?.args, x?.source, x?.transport], ['is', '1 "two"', SOURCE.url, 'udp']);
  assert.equal(u?.rows.find((r) => r.path === '/y')?.args, '2.500000 #T');
  assert.deepEqual(
    u?.log.map((l) => l.line),
    ['eeb00000.80000000 /x is 1 "two"', 'eeb00000.80000000 /y fT 2.500000 #T'],
  );
});

test('plot samples: only for watched addresses, at most MAX_SAMPLES_PER_TICK, evenly decimated', () => {
  let now = 0;
  const next = (ms = TICK_MS): number => {
    now += ms;
    return now;
  };
  const agg = new Aggregator(now);
  const page = agg.addClient();
  agg.setWatch(page, ['/p']);
  const n = 10 * MAX_SAMPLES_PER_TICK;
  for (let i = 0; i < n; i++) {
    agg.ingest(packet(new Message('/p', i, 'label', 0.5)), i);
    agg.ingest(packet(new Message('/q', i)), i);
  }
  const s = agg.tick(next(n), COUNTERS).get(page)?.samples;
  assert.deepEqual(Object.keys(s ?? {}), ['/p']);
  const p = s?.['/p'];
  assert.ok(p !== undefined && p.t.length <= MAX_SAMPLES_PER_TICK && p.t.length >= MAX_SAMPLES_PER_TICK / 2);
  assert.equal(p.t.length + p.skipped, n);
  assert.equal(p.v[1]?.[0], null); // a string is no number
  assert.equal(p.v[2]?.[0], 0.5);
  // even: the first series' values step by the same stride from the first sample to the last
  const v = p.v[0] as number[];
  const stride = (v[1] as number) - (v[0] as number);
  assert.ok(v.every((x, i) => x === (v[0] as number) + i * stride));
  assert.ok((v.at(-1) as number) >= n - 2 * stride);
});

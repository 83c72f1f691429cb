// The monitor's state: what it received, reduced to what a page shows, within fixed bounds whatever
// the traffic. Every packet goes through `ingest` (cheap: a map lookup, a few counters); the costly
// work — formatting arguments and log lines, building the JSON — happens once per tick (10 Hz), and
// only for what changed and what a page will show. The clock is passed in, so tests drive it.

import { dumpLine } from '../cli/format.js';
import type { Bundle, Message, Pattern, ReceivedPacket, TimeTag } from '../index.js';
import { compilePattern, TimeTag as TT } from '../index.js';
import type { Counters, Limits, LogLine, MalformedView, RowView, Samples, Update } from './protocol.js';

/** The period of updates to pages, ms. */
export const TICK_MS = 100;
/** Rows in the table (one per address); past it the least recently seen row is evicted (and counted). */
export const MAX_ROWS = 1000;
/** Log lines sent per update; the older matching messages of the same tick are counted, not sent. */
export const MAX_LOG_PER_TICK = 200;
/** Samples sent per plotted address per update (evenly decimated past it). */
export const MAX_SAMPLES_PER_TICK = 128;
/** Addresses one page may plot at once. */
export const MAX_WATCHED = 8;
/** Arguments plotted per address (the first ones). */
export const MAX_SERIES = 8;
/** Pages connected at once. */
export const MAX_CLIENTS = 8;
/** Characters of a row's argument text (longer is cut, with an ellipsis). */
export const MAX_ARGS_TEXT = 256;
/** Characters of a log line. */
export const MAX_LINE_TEXT = 1024;
/** A packet larger than this is formatted when it arrives rather than held until the tick. */
const HOLD_LIMIT = 4096;
/** Rate window: this many ticks (one second). */
const RATE_BUCKETS = 10;
/** Filter results remembered per page (per address), cleared when full. */
const MATCH_CACHE = 4096;

export const LIMITS: Limits = {
  maxRows: MAX_ROWS,
  maxLogPerTick: MAX_LOG_PER_TICK,
  maxSamplesPerTick: MAX_SAMPLES_PER_TICK,
  maxWatched: MAX_WATCHED,
  tickMs: TICK_MS,
};

/** A message as it arrived, held until the tick formats it. */
interface Seen {
  readonly message: Message;
  /** Its bundle's timetag (immediate for a plain message). */
  readonly timetag: TimeTag;
  readonly packet: ReceivedPacket;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function transportOf(source: { readonly url: string; readonly proto: string }): string {
  return /^osc\.([a-z]+):/.exec(source.url)?.[1] ?? source.proto;
}

/** The dump line's arguments only: `aiolo dump`'s text for each, space-separated. */
function argsText(seen: Seen): string {
  const m = seen.message;
  const text = dumpLine(
    { path: '', typetags: m.typetags, args: m.args, timetag: TT.IMMEDIATE, source: seen.packet.source },
    () => seen.packet.arrived,
  ).toString('utf8');
  // `TIMETAG  TYPES ARGS\n`: the timetag is 17 characters, the empty path leaves two spaces
  return cut(
    text
      .slice(19 + m.typetags.length)
      .replace(/^ /, '')
      .replace(/\n$/, ''),
    MAX_ARGS_TEXT,
  );
}

function logLine(seen: Seen): LogLine {
  const m = seen.message;
  const source = seen.packet.source;
  const line = dumpLine(
    { path: m.path, typetags: m.typetags, args: m.args, timetag: seen.timetag, source },
    () => seen.packet.arrived,
  ).toString('utf8');
  return { transport: transportOf(source), source: source.url, line: cut(line.replace(/\n$/, ''), MAX_LINE_TEXT) };
}

function numberAt(m: Message, i: number): number | null {
  const tag = m.typetags[i];
  const v = m.args[i];
  if (tag === 'i' || tag === 'f' || tag === 'd') return v as number;
  if (tag === 'h') return Number(v as bigint);
  return null;
}

function isNumeric(typetags: string): boolean {
  return /[ifdh]/.test(typetags);
}

class Row {
  readonly path: string;
  count = 0;
  /** Messages per tick, the last RATE_BUCKETS ticks (a ring indexed by the tick number). */
  readonly buckets = new Uint32Array(RATE_BUCKETS);
  rate = 0;
  lastMs = 0;
  /** The tick in which it last moved to the end of the LRU order. */
  touched = -1;
  /** The latest message, not formatted yet. */
  pending: Seen | undefined;
  typetags = '';
  args = '';
  source = '';
  transport = '';
  numeric = false;

  constructor(path: string) {
    this.path = path;
  }

  resolve(): void {
    const seen = this.pending;
    if (seen === undefined) return;
    this.pending = undefined;
    this.typetags = seen.message.typetags;
    this.args = argsText(seen);
    this.source = seen.packet.source.url;
    this.transport = transportOf(seen.packet.source);
    this.numeric = isNumeric(this.typetags);
  }

  view(): RowView {
    this.resolve();
    return {
      path: this.path,
      typetags: this.typetags,
      args: this.args,
      source: this.source,
      transport: this.transport,
      count: this.count,
      rate: this.rate,
      last: this.lastMs,
      numeric: this.numeric,
    };
  }
}

/** The samples of one plotted address since the last tick, evenly decimated to MAX_SAMPLES_PER_TICK. */
class SampleBuffer {
  t: number[] = [];
  v: (number | null)[][] = [];
  typetags = '';
  #stride = 1;
  #n = 0;
  skipped = 0;

  push(ms: number, m: Message): void {
    if (this.#n++ % this.#stride !== 0) {
      this.skipped++;
      return;
    }
    if (this.t.length >= MAX_SAMPLES_PER_TICK) {
      // full: keep every other sample, and from now on take one in twice as many
      const keep = (_: unknown, i: number): boolean => i % 2 === 0;
      this.skipped += this.t.length - Math.ceil(this.t.length / 2);
      this.t = this.t.filter(keep);
      this.v = this.v.map((s) => s.filter(keep));
      this.#stride *= 2;
    }
    const k = this.t.length;
    this.t.push(ms);
    const n = Math.min(m.typetags.length, MAX_SERIES);
    for (let i = 0; i < n; i++) {
      let series = this.v[i];
      if (series === undefined) {
        series = new Array<number | null>(k).fill(null);
        this.v[i] = series;
      }
      series.push(numberAt(m, i));
    }
    for (let i = n; i < this.v.length; i++) this.v[i]?.push(null);
    this.typetags = m.typetags;
  }

  take(): Samples | undefined {
    if (this.t.length === 0 && this.skipped === 0) return undefined;
    const s: Samples = { t: this.t, v: this.v, typetags: this.typetags, skipped: this.skipped };
    this.t = [];
    this.v = [];
    this.#stride = 1;
    this.#n = 0;
    this.skipped = 0;
    return s;
  }
}

/** What the aggregator keeps for one connected page. */
export class Client {
  filter: Pattern | null = null;
  filterText = '';
  filterError: string | null = null;
  readonly matches = new Map<string, boolean>();
  /** The newest matching messages of this tick: a ring of MAX_LOG_PER_TICK. */
  readonly log: (Seen | LogLine)[] = [];
  logHead = 0;
  logCount = 0;
  readonly watched = new Map<string, SampleBuffer>();
  /** Whether its next update carries every row. */
  full = true;

  matchesPath(path: string): boolean {
    if (this.filter === null) return true;
    let m = this.matches.get(path);
    if (m === undefined) {
      if (this.matches.size >= MATCH_CACHE) this.matches.clear();
      m = this.filter.matches(path);
      this.matches.set(path, m);
    }
    return m;
  }

  addLog(entry: Seen | LogLine): void {
    if (this.log.length < MAX_LOG_PER_TICK) this.log.push(entry);
    else {
      this.log[this.logHead] = entry;
      this.logHead = (this.logHead + 1) % MAX_LOG_PER_TICK;
    }
    this.logCount++;
  }

  takeLog(): { lines: LogLine[]; skipped: number } {
    const ordered = [...this.log.slice(this.logHead), ...this.log.slice(0, this.logHead)];
    const lines = ordered.map((e) => ('line' in e ? e : logLine(e)));
    const skipped = this.logCount - lines.length;
    this.log.length = 0;
    this.logHead = 0;
    this.logCount = 0;
    return { lines, skipped };
  }
}

/** Counters the aggregator does not keep itself: the servers' (see monitor.ts). */
export type ServerCounters = Omit<Counters, 'rows' | 'rowsEvicted' | 'lastMalformed'>;

export class Aggregator {
  readonly #rows = new Map<string, Row>();
  readonly #dirty = new Set<Row>();
  readonly #removed = new Set<string>();
  readonly #clients = new Set<Client>();
  #tick = 0;
  /** When the last RATE_BUCKETS + 1 ticks ended (the first: when the aggregator was made). */
  readonly #tickTimes: number[];
  #seq = 0;
  rowsEvicted = 0;
  lastMalformed: MalformedView | null = null;

  constructor(nowMs: number = Date.now()) {
    this.#tickTimes = [nowMs];
  }

  get rows(): number {
    return this.#rows.size;
  }

  get clients(): number {
    return this.#clients.size;
  }

  addClient(): Client {
    const c = new Client();
    this.#clients.add(c);
    return c;
  }

  removeClient(c: Client): void {
    this.#clients.delete(c);
  }

  /** Sets a page's filter: an OSC address pattern; empty for everything. Returns the error, if any. */
  setFilter(c: Client, text: string): string | null {
    c.matches.clear();
    c.filterText = text;
    try {
      c.filter = text === '' ? null : compilePattern(text);
      c.filterError = null;
    } catch (err) {
      c.filter = null;
      c.filterError = err instanceof Error ? err.message : String(err);
    }
    return c.filterError;
  }

  /** Sets the addresses a page plots (the first MAX_WATCHED). */
  setWatch(c: Client, paths: readonly string[]): void {
    const wanted = new Set(paths.slice(0, MAX_WATCHED));
    for (const p of c.watched.keys()) if (!wanted.has(p)) c.watched.delete(p);
    for (const p of wanted) if (!c.watched.has(p)) c.watched.set(p, new SampleBuffer());
  }

  /** Takes one packet (each message of a bundle, nested ones too, with its bundle's timetag). */
  ingest(p: ReceivedPacket, nowMs: number): void {
    const packet = p.packet;
    if ('path' in packet) this.#message(packet, TT.IMMEDIATE, p, nowMs);
    else this.#bundle(packet, p, nowMs);
  }

  #bundle(b: Bundle, p: ReceivedPacket, nowMs: number): void {
    for (const e of b.elements) {
      if ('path' in e) this.#message(e, b.timetag, p, nowMs);
      else this.#bundle(e, p, nowMs);
    }
  }

  #message(message: Message, timetag: TimeTag, packet: ReceivedPacket, nowMs: number): void {
    const path = message.path;
    let row = this.#rows.get(path);
    if (row === undefined) {
      if (this.#rows.size >= MAX_ROWS) this.#evict();
      row = new Row(path);
      this.#rows.set(path, row);
      this.#removed.delete(path);
      row.touched = this.#tick;
    } else if (row.touched !== this.#tick) {
      // least recently seen first: moved to the end once per tick, not on every message
      this.#rows.delete(path);
      this.#rows.set(path, row);
      row.touched = this.#tick;
    }
    row.count++;
    row.buckets[this.#tick % RATE_BUCKETS] = (row.buckets[this.#tick % RATE_BUCKETS] as number) + 1;
    row.lastMs = nowMs;
    const seen: Seen = { message, timetag, packet };
    row.pending = seen;
    const big = packet.data.length > HOLD_LIMIT;
    if (big) row.resolve(); // not held until the tick
    this.#dirty.add(row);
    for (const c of this.#clients) {
      if (c.matchesPath(path)) c.addLog(big ? logLine(seen) : seen);
      c.watched.get(path)?.push(nowMs, message);
    }
  }

  #evict(): void {
    const oldest = this.#rows.keys().next();
    if (oldest.done === true) return;
    const row = this.#rows.get(oldest.value) as Row;
    this.#rows.delete(oldest.value);
    this.#dirty.delete(row);
    this.rowsEvicted++;
    if (this.#removed.size < MAX_ROWS) this.#removed.add(oldest.value);
    else for (const c of this.#clients) c.full = true; // too many to list: resend everything
  }

  /** A packet that was not OSC. */
  malformed(error: { readonly code: string; readonly message: string }, source: string, nowMs: number): void {
    this.lastMalformed = { code: error.code, message: error.message, source, time: nowMs };
  }

  /** Ends a tick: rates, then one update per page. */
  tick(nowMs: number, counters: ServerCounters): Map<Client, Update> {
    // the rate over the last RATE_BUCKETS ticks, by the time they really took
    this.#tickTimes.push(nowMs);
    if (this.#tickTimes.length > RATE_BUCKETS + 1) this.#tickTimes.shift();
    const since = this.#tickTimes[0] as number;
    const seconds = (nowMs - since) / 1000;
    const next = (this.#tick + 1) % RATE_BUCKETS;
    for (const row of this.#rows.values()) {
      let sum = 0;
      for (let i = 0; i < RATE_BUCKETS; i++) sum += row.buckets[i] as number;
      const rate = seconds > 0 ? sum / seconds : 0;
      if (rate !== row.rate) {
        row.rate = rate;
        this.#dirty.add(row);
      }
      row.buckets[next] = 0;
    }
    this.#tick++;

    const changed = [...this.#dirty].map((r) => r.view());
    this.#dirty.clear();
    const removed = [...this.#removed];
    this.#removed.clear();
    const all = [...this.#clients].some((c) => c.full) ? [...this.#rows.values()].map((r) => r.view()) : [];
    const full: Counters = {
      ...counters,
      lastMalformed: this.lastMalformed,
      rows: this.#rows.size,
      rowsEvicted: this.rowsEvicted,
    };
    const seq = ++this.#seq;
    const updates = new Map<Client, Update>();
    for (const c of this.#clients) {
      const { lines, skipped } = c.takeLog();
      const samples: Record<string, Samples> = {};
      for (const [path, buffer] of c.watched) {
        const s = buffer.take();
        if (s !== undefined) samples[path] = s;
      }
      updates.set(c, {
        type: 'update',
        seq,
        time: nowMs,
        counters: full,
        rows: c.full ? all : changed,
        removed: c.full ? [] : removed,
        full: c.full,
        log: lines,
        logSkipped: skipped,
        samples,
        filter: c.filterText,
        filterError: c.filterError,
        limits: LIMITS,
      });
      c.full = false;
    }
    return updates;
  }
}

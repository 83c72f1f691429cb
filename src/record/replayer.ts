// replay(): sends a recording's packets again, byte for byte, with their recorded spacing (scaled by
// 1/speed), never early: each send time is computed from the replay's start, waited for with a
// timer that wakes a little early and then stepped to with setImmediate, as the scheduler does.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Address } from '../address/address.js';
import { OscConfigError } from '../transport/errors.js';
import { type PreciseTimer, preciseTimers } from '../transport/native.js';
import { SEND_VALID, type Sender } from '../transport/sender.js';
import { OscRecordingError } from './errors.js';
import { parseHeader, parsePacket, type RecordedPacket, type RecordingHeader } from './format.js';
import { Lateness, type LatenessStats } from './lateness.js';

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** Plays `speed` times faster (2: half the gaps). Default 1. */
  readonly speed?: number | undefined;
  /** Starts again after the last packet, until stopped. */
  readonly loop?: boolean | undefined;
  /** Seconds from the recording's start: packets before are skipped. */
  readonly from?: number | undefined;
  /** Seconds from the recording's start: packets after are skipped. */
  readonly to?: number | undefined;
  /** Sends packets recorded as malformed too, raw (by default they are skipped and counted). */
  readonly malformed?: boolean | undefined;
  /** Stops when aborted, as `stop()` does. */
  readonly signal?: AbortSignal | undefined;
}

/** A replay's counters; `late` in milliseconds. */
export interface ReplayStats {
  /** Packets sent, and their bytes. */
  readonly sent: number;
  readonly bytes: number;
  /** Packets recorded as malformed and not sent (without `malformed: true`). */
  readonly skipped: number;
  /** Passes begun (more than 1 with `loop`). */
  readonly passes: number;
  /** How late each send was, from its due time to the call that sent it. Never negative. */
  readonly late: LatenessStats;
}

/** What {@link replay} returns. */
export interface Replayer extends AsyncDisposable {
  readonly stats: ReplayStats;
  /** The recording's header, once read. */
  readonly header: RecordingHeader | undefined;
  /** Stops before the next send (one under way completes). Idempotent; resolves as `closed` does. */
  stop(): Promise<void>;
  /**
   * Resolves when the replay is over (the end of the recording, or `stop()`); rejects with an
   * `OscRecordingError` for a bad line (naming it), or the error of a send that failed.
   */
  readonly closed: Promise<void>;
}

/**
 * Without aiolo-native: a timer this much early, then setImmediate steps (Node's timers may fire up
 * to ~1 ms early). With it, its precise timer, as the bundle scheduler's (server/scheduler.ts).
 */
const EARLY_WAKE_MS = 2;

/** What a replay reads: a file, or lines (an array can be looped; a one-shot iterable plays once). */
export type RecordingSource = string | Iterable<string> | AsyncIterable<string>;

function lines(source: RecordingSource): AsyncIterable<string> | Iterable<string> {
  if (typeof source !== 'string') return source;
  return (async function* () {
    const input = createReadStream(source);
    const failed = new Promise<never>((_, reject) =>
      input.once('error', (err) =>
        reject(
          new OscRecordingError('ERR_OSC_RECORDING_IO', 0, `cannot read ${source}: ${err.message}`, { cause: err }),
        ),
      ),
    );
    failed.catch(() => undefined);
    const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    const it = rl[Symbol.asyncIterator]();
    try {
      for (;;) {
        const r = await Promise.race([it.next(), failed]);
        if (r.done) return;
        yield r.value;
      }
    } finally {
      rl.close();
      input.destroy();
    }
  })();
}

/** A recording's header and packets, parsed line by line (nothing is held but the current line). */
export async function* readRecording(
  source: RecordingSource,
  onHeader?: (header: RecordingHeader) => void,
): AsyncGenerator<RecordedPacket> {
  let n = 0;
  let header: RecordingHeader | undefined;
  let previous = 0;
  for await (const text of lines(source)) {
    n++;
    if (text.trim() === '') continue;
    if (header === undefined) {
      header = parseHeader(text, n);
      onHeader?.(header);
      continue;
    }
    const p = parsePacket(text, n, previous);
    previous = p.ns;
    yield p;
  }
  if (header === undefined)
    throw new OscRecordingError('ERR_OSC_RECORDING_VERSION', 0, 'empty recording: no header line');
}

function checkNumber(name: string, value: number | undefined, ok: (v: number) => boolean, what: string): void {
  if (value !== undefined && (typeof value !== 'number' || !ok(value)))
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `replay(): ${name} must be ${what}, got ${String(value)}`);
}

class ReplayerImpl implements Replayer {
  header: RecordingHeader | undefined;
  readonly closed: Promise<void>;
  readonly #source: RecordingSource;
  readonly #target: Sender;
  readonly #ownsTarget: boolean;
  readonly #o: ReplayOptions;
  readonly #lateness = new Lateness();
  #sent = 0;
  #bytes = 0;
  #skipped = 0;
  #passes = 0;
  #stopping = false;
  #cancelWait: (() => void) | undefined;
  /** aiolo-native's timer, made at the first wait and closed when the replay ends. */
  #precise: PreciseTimer | undefined;
  /** What the precise timer calls: the current wait's check. */
  #woken: (() => void) | undefined;

  constructor(source: RecordingSource, target: Sender, ownsTarget: boolean, options: ReplayOptions) {
    this.#source = source;
    this.#target = target;
    this.#ownsTarget = ownsTarget;
    this.#o = options;
    options.signal?.addEventListener('abort', this.#abort, { once: true });
    if (options.signal?.aborted) this.#stopping = true;
    this.closed = this.#run();
    this.closed.catch(() => undefined); // (reported to whoever awaits it)
  }

  readonly #abort = (): void => {
    void this.stop().catch(() => undefined);
  };

  get stats(): ReplayStats {
    return {
      sent: this.#sent,
      bytes: this.#bytes,
      skipped: this.#skipped,
      passes: this.#passes,
      late: this.#lateness.stats,
    };
  }

  #preciseTimer(): PreciseTimer | undefined {
    if (preciseTimers === undefined) return undefined;
    this.#precise ??= preciseTimers(() => this.#woken?.());
    return this.#precise;
  }

  /** Resolves at `due` (performance.now() milliseconds) or later, never before; or when stopped. */
  #until(due: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let step: ReturnType<typeof setImmediate> | undefined;
      const done = (): void => {
        this.#cancelWait = undefined;
        this.#woken = undefined;
        this.#precise?.disarm();
        if (timer !== undefined) clearTimeout(timer);
        if (step !== undefined) clearImmediate(step);
        resolve();
      };
      const check = (): void => {
        timer = undefined;
        step = undefined;
        const left = due - performance.now();
        if (left <= 0 || this.#stopping) done();
        else if (this.#preciseTimer()?.arm(left)) this.#woken = check;
        else if (left > EARLY_WAKE_MS) timer = setTimeout(check, left - EARLY_WAKE_MS);
        else step = setImmediate(check);
      };
      this.#cancelWait = done;
      check();
    });
  }

  async #run(): Promise<void> {
    const o = this.#o;
    const speed = o.speed ?? 1;
    const fromNs = (o.from ?? 0) * 1e9;
    const toNs = o.to === undefined ? Number.POSITIVE_INFINITY : o.to * 1e9;
    try {
      // a file is checked whole first: a bad line is reported before anything is sent
      if (typeof this.#source === 'string')
        for await (const _ of readRecording(this.#source)) if (this.#stopping) return;
      let base: number | undefined; // performance.now() at which this pass's first packet is due
      let lastDue: number | undefined;
      while (!this.#stopping) {
        this.#passes++;
        let first: number | undefined;
        let sentThisPass = 0;
        for await (const p of readRecording(this.#source, (h) => {
          this.header = h;
        })) {
          if (this.#stopping) break;
          if (p.ns < fromNs) continue;
          if (p.ns > toNs) break; // (ns never decreases)
          if (p.malformed !== undefined && (o.malformed !== true || p.data.length === 0)) {
            this.#skipped++;
            continue;
          }
          first ??= p.ns;
          let due: number;
          if (base === undefined) {
            // time zero is when the first packet has left: opening the socket or connection for it
            // (a few ms) does not shift the rest
            await this.#target[SEND_VALID](p.data);
            base = due = performance.now();
            this.#lateness.add(0);
          } else {
            due = base + (p.ns - first) / 1e6 / speed;
            await this.#until(due);
            if (this.#stopping) break;
            this.#lateness.add(performance.now() - due);
            // checked when read (format.ts), or malformed and asked for: sent as they are
            await this.#target[SEND_VALID](p.data);
          }
          this.#sent++;
          sentThisPass++;
          this.#bytes += p.data.length;
          lastDue = due;
        }
        if (o.loop !== true || sentThisPass === 0) break;
        base = lastDue; // the next pass begins where this one ended
      }
    } finally {
      this.#precise?.close();
      this.#o.signal?.removeEventListener('abort', this.#abort);
      if (this.#ownsTarget) await (this.#target as Address).close().catch(() => undefined);
    }
  }

  stop(): Promise<void> {
    this.#stopping = true;
    this.#cancelWait?.();
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Replays a recording (a file written by {@link record}, or its lines) to `target` — a Sender (an
 * Address...) or a URL — with the recorded timing. Packets are sent byte for byte: bundles keep
 * their timetags.
 */
export function replay(source: RecordingSource, target: Sender | string, options: ReplayOptions = {}): Replayer {
  checkNumber('speed', options.speed, (v) => Number.isFinite(v) && v > 0, 'a number > 0');
  checkNumber('from', options.from, (v) => Number.isFinite(v) && v >= 0, 'seconds >= 0');
  checkNumber('to', options.to, (v) => v >= (options.from ?? 0), 'seconds >= from');
  const owns = typeof target === 'string';
  const sender = owns ? new Address(target) : target;
  return new ReplayerImpl(source, sender, owns, options);
}

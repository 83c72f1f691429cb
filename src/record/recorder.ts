// record(): writes every packet that arrives at one or more servers to a recording (format.ts), in
// the order it arrived, malformed ones included and marked, with backpressure all the way back.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Address } from '../address/address.js';
import type { OscDecodeError } from '../codec/errors.js';
import { TimeTag } from '../codec/timetag.js';
import type { ReceivedPacket } from '../server/packets.js';
import { Server } from '../server/server.js';
import type { Subscription } from '../server/subscription.js';
import { OscConfigError } from '../transport/errors.js';
import { OscRecordingError } from './errors.js';
import { headerLine, nanosBetween, packetLine } from './format.js';

/** Options of {@link record}. */
export interface RecordOptions {
  /**
   * Packets held while the output is slower than the network (per server), before TCP and WebSocket
   * are paused (nothing lost) or datagrams dropped (counted in `stats.dropped`). Default 1024.
   */
  readonly highWaterMark?: number | undefined;
  /** The same bound in bytes (an estimate of memory held). Default 8 MiB. */
  readonly highWaterBytes?: number | undefined;
  /** Stops recording when aborted, as `stop()` does. */
  readonly signal?: AbortSignal | undefined;
}

/** A recorder's counters. */
export interface RecorderStats {
  /** Valid packets written, and their bytes. */
  readonly packets: number;
  readonly bytes: number;
  /** Malformed packets written (marked). */
  readonly malformed: number;
  /** Packets lost because the output could not keep up (datagrams only: streams are paused instead). */
  readonly dropped: number;
}

/** What {@link record} resolves with. */
export interface Recorder extends AsyncDisposable {
  /** Where it listens (the header's `urls`). */
  readonly urls: readonly string[];
  /** When recording began (the header's `start`). */
  readonly start: TimeTag;
  readonly stats: RecorderStats;
  /**
   * Stops: the servers it started stop (a Server passed in is left running), what was received is
   * written, and a file it opened is closed. Idempotent; resolves as `closed` does.
   */
  stop(): Promise<void>;
  /** Resolves once stopped and everything is written; rejects with `ERR_OSC_RECORDING_IO` if the output failed. */
  readonly closed: Promise<void>;
}

/** Malformed packets held while the output is slow, before they are dropped (counted). */
const MAX_MALFORMED_HELD = 1024;

interface Pending {
  readonly arrived: TimeTag;
  readonly line: () => string;
  readonly malformed: boolean;
  readonly size: number;
}

interface Source {
  readonly server: Server;
  readonly owned: boolean;
  readonly index: number;
  readonly sub: Subscription<ReceivedPacket, null>;
  /** The oldest packet taken from `sub` and not yet written. */
  head: ReceivedPacket | undefined;
  /** A `sub.next()` under way, if any; `inFlight` when it was asked while packets were buffered. */
  waiting: Promise<void> | undefined;
  inFlight: boolean;
  done: boolean;
  onMalformed?: (error: OscDecodeError, source: Address, packet: Uint8Array) => void;
}

/** Stops a server the recorder started; ends its subscription to one it was given (after what it holds). */
function release(s: Source): Promise<void> {
  if (s.owned) return s.server.stop();
  s.sub.unsub();
  return s.sub.closed;
}

class RecorderImpl implements Recorder {
  readonly urls: readonly string[];
  readonly start: TimeTag;
  readonly closed: Promise<void>;
  readonly #sources: Source[];
  readonly #out: Writable;
  readonly #ownsOut: boolean;
  readonly #malformed: Pending[] = [];
  readonly #signal: AbortSignal | undefined;
  #packets = 0;
  #bytes = 0;
  #malformedWritten = 0;
  #malformedDropped = 0;
  #wake: (() => void) | undefined;
  #stopping = false;
  #failure: unknown;
  #stopped: Promise<void> | undefined;

  constructor(sources: Source[], out: Writable, ownsOut: boolean, start: TimeTag, signal: AbortSignal | undefined) {
    this.#sources = sources;
    this.#out = out;
    this.#ownsOut = ownsOut;
    this.start = start;
    this.urls = sources.map((s) => s.server.url as string);
    this.#signal = signal;
    const several = sources.length > 1;
    for (const s of sources) {
      s.onMalformed = (error, source, packet) => {
        if (this.#stopping) return;
        if (this.#malformed.length >= MAX_MALFORMED_HELD) {
          this.#malformedDropped++;
          return;
        }
        const arrived = TimeTag.now();
        const data = packet.slice(); // the transport may reuse its buffer
        this.#malformed.push({
          arrived,
          malformed: true,
          size: data.length,
          line: () =>
            packetLine({
              ns: Math.max(0, nanosBetween(start, arrived)),
              proto: source.proto,
              source: source.url,
              to: several ? s.index : undefined,
              malformed: error.code,
              data,
            }),
        });
        this.#poke();
      };
      s.server.on('malformed', s.onMalformed);
    }
    this.#out.on('error', this.#onOutError);
    signal?.addEventListener('abort', this.#abort, { once: true });
    this.closed = this.#run();
    this.closed.catch(() => undefined); // (reported to whoever awaits it)
  }

  readonly #abort = (): void => {
    void this.stop().catch(() => undefined);
  };

  readonly #onOutError = (err: unknown): void => {
    this.#failure ??= err;
    this.#poke();
    void this.stop().catch(() => undefined);
  };

  get stats(): RecorderStats {
    let dropped = this.#malformedDropped;
    for (const s of this.#sources) dropped += s.sub.dropped;
    return { packets: this.#packets, bytes: this.#bytes, malformed: this.#malformedWritten, dropped };
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #ask(s: Source): void {
    s.inFlight = s.sub.pending > 0;
    s.waiting = s.sub.next().then(
      (r) => {
        s.waiting = undefined;
        s.inFlight = false;
        if (r.done) s.done = true;
        else s.head = r.value;
        this.#poke();
      },
      () => {
        s.waiting = undefined;
        s.done = true;
        this.#poke();
      },
    );
  }

  /**
   * The oldest record known. Every packet that has arrived is visible here: either taken (`head`),
   * or buffered in its subscription (then fetched first), or malformed (held): a source with
   * nothing buffered and a `next()` waiting has nothing older than what will arrive.
   */
  async #oldest(): Promise<Pending | undefined> {
    for (;;) {
      const flying = this.#sources.filter((s) => s.waiting !== undefined && (s.inFlight || s.sub.pending > 0));
      if (flying.length === 0) break;
      await Promise.all(flying.map((s) => s.waiting));
      for (const s of this.#sources) if (s.head === undefined && s.waiting === undefined && !s.done) this.#ask(s);
    }
    let best: Pending | undefined = this.#malformed[0];
    let from: Source | undefined;
    for (const s of this.#sources) {
      const h = s.head;
      if (h !== undefined && (best === undefined || h.arrived.compare(best.arrived) < 0)) {
        from = s;
        best = {
          arrived: h.arrived,
          malformed: false,
          size: h.data.length,
          line: () =>
            packetLine({
              ns: Math.max(0, nanosBetween(this.start, h.arrived)),
              proto: h.source.proto,
              source: h.source.url,
              to: this.#sources.length > 1 ? s.index : undefined,
              malformed: undefined,
              data: h.data,
            }),
        };
      }
    }
    if (best === undefined) return undefined;
    if (from === undefined) this.#malformed.shift();
    else {
      from.head = undefined;
      this.#ask(from);
    }
    return best;
  }

  async #run(): Promise<void> {
    try {
      await this.#write(headerLine(this.start, this.urls));
      for (const s of this.#sources) this.#ask(s);
      for (;;) {
        if (this.#failure !== undefined) break;
        const next = await this.#oldest();
        if (next !== undefined) {
          await this.#write(next.line());
          if (next.malformed) this.#malformedWritten++;
          else {
            this.#packets++;
            this.#bytes += next.size;
          }
          continue;
        }
        if (this.#sources.every((s) => s.done)) break;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      for (const s of this.#sources) if (s.onMalformed) s.server.off('malformed', s.onMalformed);
      this.#signal?.removeEventListener('abort', this.#abort);
      await this.#finish();
    }
    if (this.#failure !== undefined) {
      throw new OscRecordingError('ERR_OSC_RECORDING_IO', 0, `writing the recording failed: ${String(this.#failure)}`, {
        cause: this.#failure,
      });
    }
  }

  #write(line: string): Promise<void> {
    if (this.#failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.#out.write(line)) resolve();
      else {
        // resolve on drain, or when the output fails (the error handler pokes; check again then)
        const done = (): void => {
          this.#out.off('drain', done);
          this.#out.off('error', done);
          this.#out.off('close', done);
          resolve();
        };
        this.#out.on('drain', done);
        this.#out.on('error', done);
        this.#out.on('close', done);
      }
    });
  }

  async #finish(): Promise<void> {
    const out = this.#out;
    await new Promise<void>((resolve) => {
      if (out.destroyed || this.#failure !== undefined) resolve();
      else if (this.#ownsOut) out.end(() => resolve());
      else out.write('', () => resolve());
    });
    out.off('error', this.#onOutError);
    if (this.#ownsOut && this.#failure !== undefined) out.destroy();
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      // a server stopping ends its packets after what they hold: all of it is written
      await Promise.allSettled(this.#sources.map((s) => release(s)));
      this.#poke();
      await this.closed;
    })();
    return this.#stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Records every packet arriving at `from` — a URL to listen on (any transport: `osc.udp://:9000`,
 * `osc.tcp://`, `osc.unix://`, `osc.ws://`), a running Server, or several of them — to `to`: a file
 * path (created or truncated) or a Writable (left open). Resolves once listening.
 */
export async function record(
  from: string | Server | readonly (string | Server)[],
  to: string | Writable,
  options: RecordOptions = {},
): Promise<Recorder> {
  const list = typeof from === 'string' || from instanceof Server ? [from] : [...from];
  if (list.length === 0)
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'record() needs a URL or a Server to listen on');
  for (const s of list) {
    if (s instanceof Server && !s.running)
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'record() takes a Server that is running: start() it first');
  }
  const subOptions = {
    highWaterMark: options.highWaterMark ?? 1024,
    ...(options.highWaterBytes === undefined ? {} : { highWaterBytes: options.highWaterBytes }),
    // TCP and WebSocket wait for a slow output (lossless); datagrams that find the buffer full are
    // dropped and counted: the kernel cannot hold a UDP sender back
    overflow: 'pause' as const,
  };
  const start = TimeTag.now();
  const sources: Source[] = list.map((s, index) => {
    const server = typeof s === 'string' ? new Server(s) : s;
    // subscribed before it starts: nothing that arrives while it binds is missed
    const sub = server.packets(subOptions);
    return {
      server,
      owned: typeof s === 'string',
      index,
      sub,
      head: undefined,
      waiting: undefined,
      inFlight: false,
      done: false,
    };
  });
  const releaseAll = () => Promise.allSettled(sources.map((s) => release(s)));
  let out: Writable;
  try {
    await Promise.all(sources.map((s) => s.server.start()));
    if (typeof to === 'string') {
      const file = createWriteStream(to);
      await new Promise<void>((resolve, reject) => {
        file.once('open', () => resolve());
        file.once('error', (err) =>
          reject(
            new OscRecordingError('ERR_OSC_RECORDING_IO', 0, `cannot write ${to}: ${err.message}`, { cause: err }),
          ),
        );
      });
      out = file;
    } else {
      out = to;
    }
  } catch (err) {
    await releaseAll();
    throw err;
  }
  const recorder = new RecorderImpl(sources, out, typeof to === 'string', start, options.signal);
  if (options.signal?.aborted) void recorder.stop().catch(() => undefined);
  return recorder;
}

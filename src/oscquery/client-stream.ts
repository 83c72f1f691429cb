// The client's side of OSCQuery's WebSocket: one connection per stream (`listen()` or
// `changes()`), an async iterator over what it brings, a bounded queue in between.
//
// A server is not trusted: a frame over `maxPayload` closes the connection (ws does that, 1009)
// and ends the iteration with ERR_OSC_QUERY_TOO_LARGE after what was queued; a binary frame that
// is not OSC or a text frame that is not a command is counted in `stats.malformed`, handed to
// `onProblem`, and skipped; a slow consumer loses the oldest items (counted in `stats.dropped`),
// never memory. The WebSocket is closed when the iteration ends, however it ends.
import WebSocket from 'ws';
import { DEFAULT_MAX_PACKET_SIZE } from '../codec/decode.js';
import type { OscError } from '../codec/errors.js';
import { OscConfigError, OscTimeoutError } from '../transport/errors.js';
import { OscQueryError } from './errors.js';

/** Counters of one stream. */
export interface StreamStats {
  /** Items queued for the consumer (values, or change events). */
  readonly received: number;
  /** Items discarded because the consumer fell `highWaterMark` / `highWaterBytes` behind (oldest first). */
  readonly dropped: number;
  /** Frames that were neither OSC nor a command (reported to `onProblem`). */
  readonly malformed: number;
  /** Well-formed frames this stream has no use for (values of paths not listened to, other commands). */
  readonly ignored: number;
  /** Items waiting for the consumer. */
  readonly pending: number;
}

/** Options of `listen()` and `changes()`. */
export interface StreamOptions {
  /** Ends the stream (quietly, as `break` does) when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Items buffered for a slow consumer; past it the oldest is dropped. Default 1024. */
  readonly highWaterMark?: number | undefined;
  /** Bytes of frames buffered (whichever limit comes first). Default 8 MiB. */
  readonly highWaterBytes?: number | undefined;
  /**
   * Largest WebSocket message accepted; a larger one closes the connection and ends the stream with
   * `ERR_OSC_QUERY_TOO_LARGE`. Default 1 MiB, aiolo's `maxPacketSize`.
   */
  readonly maxPayload?: number | undefined;
  /** Milliseconds to wait for the WebSocket to open. Default 5000. */
  readonly timeout?: number | undefined;
  /** Told about each malformed frame (the stream goes on). Must not throw; if it does, that is ignored. */
  readonly onProblem?: ((error: OscError) => void) | undefined;
}

/**
 * An open stream: `for await` it; `break`, `close()`, the signal or `await using` end it and
 * close the WebSocket.
 */
export interface RemoteStream<T> extends AsyncIterableIterator<T>, AsyncDisposable {
  readonly stats: StreamStats;
  /** Resolves once the WebSocket is open and the stream's commands (LISTEN) are sent; rejects as the iteration would. */
  readonly opened: Promise<void>;
  /** Ends the stream, discarding what is queued; resolves when the WebSocket is closed. */
  close(): Promise<void>;
}

export const DEFAULT_STREAM_HIGH_WATER_MARK = 1024;
export const DEFAULT_STREAM_HIGH_WATER_BYTES = 8 * 1024 * 1024;
export const DEFAULT_STREAM_TIMEOUT = 5000;
/** How long a closing handshake may take before the socket is destroyed. */
const CLOSE_GRACE = 1000;

/** What a stream does with its connection: sends on open and on close, turns frames into items. */
export interface StreamHooks<T> {
  /** After the connection opens (send LISTEN here). */
  open(send: (text: string) => void): void;
  /** Before the connection closes on the consumer's side (send IGNORE here). */
  closing(send: (text: string) => void): void;
  /** A text frame: items to queue, or a problem (malformed), or nothing (ignored). */
  text(text: string): readonly T[] | OscError;
  /** A binary frame: likewise. */
  binary(bytes: Uint8Array): readonly T[] | OscError;
  /** Runs before an item is handed to the consumer (`changes({ follow: true })` refreshes here). */
  beforeYield?: ((item: T) => Promise<void>) | undefined;
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < 1)
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `${name} must be a positive integer, got ${n}`);
  return n;
}

export class WsStream<T> implements RemoteStream<T> {
  readonly opened: Promise<void>;
  readonly #url: string;
  readonly #hooks: StreamHooks<T>;
  readonly #ws: WebSocket;
  readonly #hwm: number;
  readonly #hwb: number;
  readonly #maxPayload: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onProblem: ((error: OscError) => void) | undefined;
  readonly #items: { item: T; size: number }[] = [];
  #head = 0;
  #bytes = 0;
  #received = 0;
  #dropped = 0;
  #malformed = 0;
  #ignored = 0;
  /** No more input: the connection closed (what is queued is still delivered). */
  #ended = false;
  /** The consumer stopped: nothing more is delivered. */
  #stopped = false;
  #error: Error | undefined;
  #wasOpen = false;
  #wake: (() => void) | undefined;
  #changed: Promise<void> | undefined;
  #openTimer: NodeJS.Timeout | undefined;
  #resolveOpened!: () => void;
  #rejectOpened!: (err: Error) => void;
  readonly #socketClosed: Promise<void>;
  readonly #abort = (): void => {
    void this.close();
  };

  constructor(url: string, hooks: StreamHooks<T>, options: StreamOptions = {}) {
    this.#url = url;
    this.#hooks = hooks;
    this.#hwm = positiveInt('highWaterMark', options.highWaterMark, DEFAULT_STREAM_HIGH_WATER_MARK);
    this.#hwb = positiveInt('highWaterBytes', options.highWaterBytes, DEFAULT_STREAM_HIGH_WATER_BYTES);
    this.#maxPayload = positiveInt('maxPayload', options.maxPayload, DEFAULT_MAX_PACKET_SIZE);
    const timeout = positiveInt('timeout', options.timeout, DEFAULT_STREAM_TIMEOUT);
    this.#signal = options.signal;
    this.#onProblem = options.onProblem;
    this.opened = new Promise<void>((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    this.opened.catch(() => {}); // the iteration reports the same error; nobody need await this

    const ws = new WebSocket(url, { maxPayload: this.#maxPayload, perMessageDeflate: false });
    this.#ws = ws;
    ws.binaryType = 'nodebuffer';
    this.#socketClosed = new Promise((resolve) => ws.once('close', () => resolve()));
    this.#openTimer = setTimeout(() => {
      this.#fail(new OscTimeoutError(`WebSocket ${url} did not open within ${timeout} ms`, timeout));
      ws.terminate();
    }, timeout);
    ws.on('open', () => {
      this.#wasOpen = true;
      clearTimeout(this.#openTimer);
      if (this.#stopped) return;
      try {
        this.#hooks.open((text) => ws.send(text));
      } catch (err) {
        this.#fail(err as Error);
        ws.terminate();
        return;
      }
      this.#resolveOpened();
    });
    ws.on('message', (data: Buffer, binary: boolean) => this.#onMessage(data, binary));
    ws.on('error', (err: Error & { code?: string }) => this.#onError(err));
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(code, reason.toString('utf8')));

    if (this.#signal?.aborted) void this.close();
    else this.#signal?.addEventListener('abort', this.#abort, { once: true });
  }

  get stats(): StreamStats {
    return {
      received: this.#received,
      dropped: this.#dropped,
      malformed: this.#malformed,
      ignored: this.#ignored,
      pending: this.#items.length - this.#head,
    };
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    this.#changed = undefined;
    wake?.();
  }

  #problem(error: OscError): void {
    this.#malformed++;
    try {
      this.#onProblem?.(error);
    } catch {
      // a throwing callback must not break the connection's event handler
    }
  }

  #onMessage(data: Buffer, binary: boolean): void {
    if (this.#stopped || this.#ended) return;
    let out: readonly T[] | OscError;
    try {
      out = binary ? this.#hooks.binary(data) : this.#hooks.text(data.toString('utf8'));
    } catch (err) {
      out = new OscQueryError('ERR_OSC_QUERY_INVALID', `a frame from ${this.#url} could not be read`, { cause: err });
    }
    if (!Array.isArray(out)) {
      this.#problem(out as OscError);
      return;
    }
    if (out.length === 0) {
      this.#ignored++;
      return;
    }
    const size = Math.max(1, Math.ceil(data.byteLength / out.length));
    for (const item of out) this.#push(item as T, size);
    this.#notify();
  }

  #push(item: T, size: number): void {
    while (
      this.#items.length - this.#head > 0 &&
      (this.#items.length - this.#head >= this.#hwm || this.#bytes + size > this.#hwb)
    ) {
      const old = this.#items[this.#head++];
      this.#bytes -= old?.size ?? 0;
      this.#dropped++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    this.#items.push({ item, size });
    this.#bytes += size;
    this.#received++;
  }

  #onError(err: Error & { code?: string }): void {
    if (this.#stopped) return;
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.#fail(
        new OscQueryError(
          'ERR_OSC_QUERY_TOO_LARGE',
          `${this.#url} sent a message over maxPayload ${this.#maxPayload}`,
          {
            cause: err,
            url: this.#url,
          },
        ),
      );
      return;
    }
    if (!this.#wasOpen) {
      const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
      this.#fail(
        status !== undefined
          ? new OscQueryError(
              'ERR_OSC_QUERY_HTTP',
              `${this.#url}: no WebSocket there (HTTP ${status}); does the server support LISTEN?`,
              { cause: err, url: this.#url, status: Number(status) },
            )
          : new OscQueryError('ERR_OSC_QUERY_CONNECT', `cannot open WebSocket ${this.#url}: ${err.message}`, {
              cause: err,
              url: this.#url,
            }),
      );
      return;
    }
    this.#fail(
      new OscQueryError('ERR_OSC_QUERY_STREAM', `WebSocket ${this.#url} failed: ${err.message}`, {
        cause: err,
        url: this.#url,
      }),
    );
  }

  #onClose(code: number, reason: string): void {
    clearTimeout(this.#openTimer);
    this.#signal?.removeEventListener('abort', this.#abort);
    if (!this.#stopped && this.#error === undefined && code !== 1000 && code !== 1001 && code !== 1005) {
      this.#error = new OscQueryError(
        'ERR_OSC_QUERY_STREAM',
        `WebSocket ${this.#url} closed (${code}${reason === '' ? '' : ` ${reason}`})`,
        { url: this.#url },
      );
    }
    this.#rejectOpened(this.#error ?? new OscQueryError('ERR_OSC_QUERY_STREAM', `WebSocket ${this.#url} closed`));
    this.#ended = true;
    this.#notify();
  }

  /** Records the first error; the connection is closing (ws closes it after its errors). */
  #fail(error: Error): void {
    this.#error ??= error;
    this.#rejectOpened(error);
    this.#notify();
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#stopped) return { value: undefined, done: true };
      if (this.#head < this.#items.length) {
        const entry = this.#items[this.#head] as { item: T; size: number };
        this.#items[this.#head++] = undefined as never;
        this.#bytes -= entry.size;
        if (this.#hooks.beforeYield !== undefined) {
          try {
            await this.#hooks.beforeYield(entry.item);
          } catch (err) {
            await this.close();
            throw err;
          }
        }
        return { value: entry.item, done: false };
      }
      if (this.#error !== undefined) {
        const err = this.#error;
        await this.close();
        throw err;
      }
      if (this.#ended) {
        await this.close();
        return { value: undefined, done: true };
      }
      this.#changed ??= new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      await this.#changed;
    }
  }

  async return(): Promise<IteratorResult<T>> {
    await this.close();
    return { value: undefined, done: true };
  }

  async close(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      clearTimeout(this.#openTimer);
      this.#signal?.removeEventListener('abort', this.#abort);
      this.#items.length = 0;
      this.#head = 0;
      this.#bytes = 0;
      this.#rejectOpened(new OscQueryError('ERR_OSC_QUERY_STREAM', `stream from ${this.#url} closed before it opened`));
      const ws = this.#ws;
      if (ws.readyState === WebSocket.OPEN) {
        try {
          this.#hooks.closing((text) => ws.send(text));
        } catch {
          // the socket is going away anyway
        }
        ws.close(1000);
      } else if (ws.readyState === WebSocket.CONNECTING) {
        ws.terminate();
      }
      this.#notify();
    }
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    // a peer that never answers the closing handshake is cut off after CLOSE_GRACE
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#socketClosed,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.#ws.terminate();
          resolve();
        }, CLOSE_GRACE);
      }),
    ]);
    clearTimeout(timer);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

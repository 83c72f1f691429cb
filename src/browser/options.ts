// A Client's options, checked and resolved once at construction, with every default applied.
// The dispatch limits are the Server's, with the same defaults (src/server/defaults.ts).
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PACKET_SIZE } from '../codec/decode.js';
import { OscConfigError } from '../codec/errors.js';
import {
  DEFAULT_MAX_QUEUED,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_SCHEDULE_AHEAD,
  DEFAULT_PATTERN_STEPS,
  type DispatchOptions,
} from '../server/defaults.js';
import { checkOptionNames } from '../transport/options.js';
import type { WebSocketConstructor } from './websocket.js';

/** As Node's `DEFAULT_MAX_WRITE_BUFFER` of TCP connections: 4 MiB. */
export const DEFAULT_MAX_WRITE_BUFFER = 4 * 1024 * 1024;
/**
 * Bytes of sends held while the client is not connected: 1 MiB, about 10 seconds of a busy
 * controller (a hundred 100-byte messages a second) and well under what a page may hold. Longer
 * outages should not replay minutes of stale fader moves when the connection comes back.
 */
export const DEFAULT_MAX_SEND_QUEUE_BYTES = 1024 * 1024;
/** How long `request()` waits for a reply unless told otherwise, in milliseconds (as `Address`). */
export const DEFAULT_REQUEST_TIMEOUT = 5000;

/** How a Client reconnects: exponential backoff with jitter, forever until `close()`. */
export interface ReconnectOptions {
  /** Milliseconds before the first attempt after a drop. Default 250. */
  readonly initialDelay?: number | undefined;
  /** The delay doubles after each failed attempt up to this many milliseconds. Default 10 000. */
  readonly maxDelay?: number | undefined;
  /** Each delay is shortened by up to this fraction, at random (0 to 1). Default 0.5. */
  readonly jitter?: number | undefined;
  /**
   * Milliseconds a connection must stay open for the delay to start again from `initialDelay`
   * when it drops; a server that accepts and drops at once is retried ever more slowly. Default 5000.
   */
  readonly minUptime?: number | undefined;
}

/** Options of `new Client(url, options)`. */
export interface ClientOptions extends DispatchOptions {
  /** The WebSocket class. Default `globalThis.WebSocket` (the browser's); in Node, `ws`'s. */
  readonly WebSocket?: WebSocketConstructor | undefined;
  /** WebSocket subprotocols to offer. */
  readonly protocols?: string | readonly string[] | undefined;
  /** Closes the client when aborted. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Reconnect after the connection drops or cannot be made: `true` (default, with the defaults of
   * {@link ReconnectOptions}), the backoff's options, or `false`: the first connection that ends
   * (or fails) closes the client.
   */
  readonly reconnect?: boolean | ReconnectOptions | undefined;
  /**
   * Bytes of sends held while not connected, sent in order on (re)connection; a send past it
   * rejects with `SendError` `ERR_OSC_WRITE_BUFFER_FULL`. Default 1 MiB.
   */
  readonly maxSendQueueBytes?: number | undefined;
  /**
   * Bytes the WebSocket may have buffered (`bufferedAmount`, not yet written to the network); a
   * send past it rejects with `SendError` `ERR_OSC_WRITE_BUFFER_FULL`. One packet is always
   * accepted into an empty buffer. Default 4 MiB, as a TCP connection in Node.
   */
  readonly maxWriteBuffer?: number | undefined;
}

const CLIENT_OPTIONS = [
  'WebSocket',
  'protocols',
  'signal',
  'reconnect',
  'maxSendQueueBytes',
  'maxWriteBuffer',
  'queue',
  'coerce',
  'maxPacketSize',
  'maxDepth',
  'extendedTypes',
  'maxQueued',
  'maxQueuedBytes',
  'maxPatternSteps',
  'maxScheduleAhead',
] as const satisfies readonly (keyof ClientOptions)[];
// (a compile error here names an option missing from the list above)
const _everyOption: readonly (typeof CLIENT_OPTIONS)[number][] = [] as (keyof ClientOptions)[];

const RECONNECT_OPTIONS = ['initialDelay', 'maxDelay', 'jitter', 'minUptime'] as const;

/** The backoff, resolved; `undefined` when the client does not reconnect. */
export interface Backoff {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly jitter: number;
  readonly minUptime: number;
}

/**
 * A Client's options, resolved: the dispatch core's limits (`DispatchLimits`, not imported here
 * so that the published declarations of this entry never lead to the Node server's) and the
 * connection's.
 */
export interface ClientConfig {
  readonly WebSocket: WebSocketConstructor;
  readonly protocols: string[] | undefined;
  readonly signal: AbortSignal | undefined;
  readonly backoff: Backoff | undefined;
  readonly maxSendQueueBytes: number;
  readonly maxWriteBuffer: number;
  readonly queue: boolean;
  readonly coerce: boolean;
  readonly maxPacketSize: number;
  readonly maxDepth: number;
  readonly extendedTypes: boolean;
  readonly maxQueued: number;
  readonly maxQueuedBytes: number;
  readonly maxScheduleAhead: number;
  readonly maxPatternSteps: number;
}

function count(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `${name} is a number of at least ${min}, got ${String(value)}`);
  }
  return value;
}

function backoff(option: ClientOptions['reconnect']): Backoff | undefined {
  if (option === false) return undefined;
  const o: ReconnectOptions = option === undefined || option === true ? {} : option;
  if (typeof o !== 'object' || o === null) {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      'reconnect is true, false, or { initialDelay, maxDelay, jitter, minUptime }',
    );
  }
  checkOptionNames('reconnect', o, RECONNECT_OPTIONS);
  const initialDelay = count('reconnect.initialDelay', o.initialDelay, 250);
  const maxDelay = count('reconnect.maxDelay', o.maxDelay, Math.max(10_000, initialDelay));
  if (maxDelay < initialDelay || maxDelay > 2 ** 31 - 1) {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      'reconnect.maxDelay is at least initialDelay, and a timer can hold it',
    );
  }
  const jitter = count('reconnect.jitter', o.jitter, 0.5, 0);
  if (jitter > 1) throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `reconnect.jitter is from 0 to 1, got ${jitter}`);
  return { initialDelay, maxDelay, jitter, minUptime: count('reconnect.minUptime', o.minUptime, 5000, 0) };
}

/** Checks a Client's options and resolves them. Throws OscConfigError. */
export function configure(options: ClientOptions): ClientConfig {
  if (typeof options !== 'object' || options === null) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'new Client(url, { ...options })');
  }
  checkOptionNames('Client', options, CLIENT_OPTIONS);
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof WebSocket !== 'function') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      "there is no WebSocket here: pass { WebSocket } (in Node, import { Client } from 'aiolo' uses the ws package)",
    );
  }
  const protocols = options.protocols;
  if (options.signal !== undefined && !(typeof options.signal === 'object' && 'aborted' in options.signal)) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'signal is an AbortSignal');
  }
  return {
    WebSocket,
    protocols: protocols === undefined ? undefined : typeof protocols === 'string' ? [protocols] : [...protocols],
    signal: options.signal,
    backoff: backoff(options.reconnect),
    maxSendQueueBytes: count('maxSendQueueBytes', options.maxSendQueueBytes, DEFAULT_MAX_SEND_QUEUE_BYTES, 0),
    maxWriteBuffer: count('maxWriteBuffer', options.maxWriteBuffer, DEFAULT_MAX_WRITE_BUFFER),
    queue: options.queue ?? true,
    coerce: options.coerce ?? true,
    maxPacketSize: count('maxPacketSize', options.maxPacketSize, DEFAULT_MAX_PACKET_SIZE),
    maxDepth: count('maxDepth', options.maxDepth, DEFAULT_MAX_DEPTH),
    extendedTypes: options.extendedTypes ?? true,
    maxQueued: count('maxQueued', options.maxQueued, DEFAULT_MAX_QUEUED, 0),
    maxQueuedBytes: count('maxQueuedBytes', options.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES, 0),
    maxPatternSteps: count('maxPatternSteps', options.maxPatternSteps, DEFAULT_PATTERN_STEPS),
    maxScheduleAhead: count('maxScheduleAhead', options.maxScheduleAhead, DEFAULT_MAX_SCHEDULE_AHEAD, 0),
  };
}

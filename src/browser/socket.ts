// One WebSocket at a time to one URL, made again after it drops: exponential backoff with
// jitter, forever until close() (or once, without a backoff). It knows nothing of OSC: it hands
// its owner binary and text frames, and says when a connection opens and closes.
import { debug } from '../server/log.js';
import { SendError } from '../transport/errors.js';
import type { Backoff } from './options.js';
import {
  CLOSED,
  type CloseEventLike,
  type MessageEventLike,
  OPEN,
  type WebSocketConstructor,
  type WebSocketLike,
} from './websocket.js';

/** Where a client's connection is: connecting the first time, open, waiting to reconnect (or reconnecting), closed for good. */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** How a connection that had opened ended: the WebSocket's close event. */
export interface CloseInfo {
  /** The WebSocket close code (1000 normal, 1001 going away, 1006 dropped without a close frame...). */
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** What the socket tells its owner. */
export interface SocketHost {
  opened(): void;
  /** A connection that had opened closed; `retryIn` is the delay before the next attempt, if any. */
  closed(info: CloseInfo, retryIn: number | undefined): void;
  /** An attempt that never opened failed; `retryIn` as above. */
  failed(retryIn: number | undefined, error: unknown): void;
  binary(packet: Uint8Array): void;
  text(text: string): void;
  /** The socket will not connect again (no backoff, and a connection ended). */
  ended(): void;
}

export class ReconnectingSocket {
  readonly url: string;
  readonly #WebSocket: WebSocketConstructor;
  readonly #protocols: string[] | undefined;
  readonly #backoff: Backoff | undefined;
  readonly #host: SocketHost;
  #state: ClientState = 'connecting';
  #ws: WebSocketLike | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Attempts since the last connection that stayed up `minUptime`. */
  #attempt = 0;
  #openedAt = 0;
  /** Connections opened so far. */
  opens = 0;
  /** Resolves when the last WebSocket has closed, after close(). */
  #gone: Promise<CloseInfo | undefined> | undefined;

  constructor(
    url: string,
    WebSocket: WebSocketConstructor,
    protocols: string[] | undefined,
    backoff: Backoff | undefined,
    host: SocketHost,
  ) {
    this.url = url;
    this.#WebSocket = WebSocket;
    this.#protocols = protocols;
    this.#backoff = backoff;
    this.#host = host;
  }

  get state(): ClientState {
    return this.#state;
  }

  /** Bytes the open WebSocket has not yet written; 0 when there is none. */
  get bufferedAmount(): number {
    return this.#ws?.readyState === OPEN ? this.#ws.bufferedAmount : 0;
  }

  /** Makes the first connection. */
  start(): void {
    this.#connect();
  }

  /** Hands bytes to the open WebSocket (the owner checks `state` first); throws what it throws. */
  send(packet: Uint8Array): void {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== OPEN) throw new SendError('ERR_OSC_CLOSED', 'the WebSocket is not open');
    ws.send(packet as never);
  }

  /**
   * Stops reconnecting and closes the WebSocket; resolves once it has closed, with how the
   * connection ended if one was open (undefined otherwise). Idempotent.
   */
  close(): Promise<CloseInfo | undefined> {
    if (this.#gone !== undefined) return this.#gone;
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws === undefined || ws.readyState === CLOSED) {
      if (ws !== undefined) detach(ws);
      this.#gone = Promise.resolve(undefined);
      return this.#gone;
    }
    this.#gone = new Promise<CloseInfo | undefined>((resolve) => {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onerror = () => {}; // (ws, in Node, throws an 'error' nobody listens to)
      ws.onclose = (event: CloseEventLike) => {
        detach(ws);
        resolve(wasOpen ? { code: event.code, reason: event.reason, wasClean: event.wasClean } : undefined);
      };
    });
    try {
      ws.close(1000);
    } catch (err) {
      debug('closing the WebSocket failed: %s', String(err));
      detach(ws);
      this.#gone = Promise.resolve(undefined);
    }
    return this.#gone;
  }

  #connect(): void {
    this.#timer = undefined;
    let ws: WebSocketLike;
    try {
      ws = new this.#WebSocket(this.url, this.#protocols);
      ws.binaryType = 'arraybuffer';
    } catch (err) {
      // a URL the WebSocket class refuses, or a page's security policy: retried like a refused connection
      debug('cannot make a WebSocket to %s: %s', this.url, String(err));
      this.#failed(err);
      return;
    }
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      opened = true;
      this.opens++;
      this.#openedAt = Date.now();
      this.#state = 'open';
      this.#host.opened();
    };
    ws.onmessage = (event: MessageEventLike) => {
      if (this.#ws !== ws) return;
      const data = event.data;
      if (data instanceof ArrayBuffer) this.#host.binary(new Uint8Array(data));
      else if (ArrayBuffer.isView(data))
        this.#host.binary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else if (typeof data === 'string') this.#host.text(data);
      else this.#host.text(''); // a Blob: binaryType was changed from 'arraybuffer' by someone else
    };
    ws.onerror = () => {
      // a close event follows every error event (WHATWG), which is where the state changes
    };
    ws.onclose = (event: CloseEventLike) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      detach(ws);
      if (opened) this.#closed({ code: event.code, reason: event.reason, wasClean: event.wasClean });
      else this.#failed(new Error(`WebSocket closed before it opened (code ${event.code})`));
    };
  }

  #closed(info: CloseInfo): void {
    const b = this.#backoff;
    if (b !== undefined && Date.now() - this.#openedAt >= b.minUptime) this.#attempt = 0;
    const retryIn = this.#retry();
    this.#host.closed(info, retryIn);
    if (retryIn === undefined) this.#host.ended();
  }

  #failed(error: unknown): void {
    const retryIn = this.#retry();
    this.#host.failed(retryIn, error);
    if (retryIn === undefined) this.#host.ended();
  }

  /** Schedules the next attempt; returns its delay, or undefined when there will be none. */
  #retry(): number | undefined {
    const b = this.#backoff;
    if (b === undefined || this.#state === 'closed') {
      this.#state = 'closed';
      return undefined;
    }
    const nominal = Math.min(b.maxDelay, b.initialDelay * 2 ** Math.min(this.#attempt, 30));
    const delay = Math.round(nominal * (1 - b.jitter * Math.random()));
    this.#attempt++;
    this.#state = 'reconnecting';
    this.#timer = setTimeout(() => this.#connect(), delay);
    return delay;
  }
}

function detach(ws: WebSocketLike): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  // (onerror stays a no-op: ws, in Node, may still report an error and throws one nobody listens to)
  ws.onerror = () => {};
}

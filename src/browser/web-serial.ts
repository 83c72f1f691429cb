// A board on Web Serial (Chrome, Edge) as a Client's connection: a WebSocket-shaped adapter that
// speaks SLIP over a serial port as CNMAT's SLIPEncodedSerial does (END before and after each
// packet), so the Client's routes, sends, send queue and reconnection work for a board as they do
// for a WebSocket. It is not tested in a real browser here (headless chromium has no serial
// ports); test/browser/web-serial.test.ts drives it in Node with a port made of web streams.

import { DEFAULT_MAX_PACKET_SIZE } from '../codec/decode.js';
import { OscConfigError } from '../codec/errors.js';
import { SendError } from '../transport/errors.js';
import { FramingError, SlipDecoder, slipEncodeDoubleEnd } from '../transport/framing.js';
import { Client } from './client.js';
import type { ClientOptions } from './options.js';
import type { WebSocketConstructor, WebSocketLike } from './websocket.js';

/** What a Web Serial port has that the adapter uses (`navigator.serial.requestPort()` gives one). */
export interface SerialPortLike {
  open(options: {
    baudRate: number;
    dataBits?: number;
    stopBits?: number;
    parity?: string;
    flowControl?: string;
  }): Promise<void>;
  close(): Promise<void>;
  readonly readable: {
    getReader(): {
      read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
      cancel(): Promise<void>;
      releaseLock(): void;
    };
  } | null;
  readonly writable: {
    getWriter(): { write(chunk: Uint8Array): Promise<void>; close(): Promise<void>; releaseLock(): void };
  } | null;
}

/** Options of {@link webSerialClient}: a Client's, and the line settings. */
export interface WebSerialOptions extends Omit<ClientOptions, 'WebSocket' | 'protocols'> {
  /** Default 115200, as CNMAT's examples (USB CDC boards ignore it). */
  readonly baudRate?: number | undefined;
  readonly dataBits?: 7 | 8 | undefined;
  readonly stopBits?: 1 | 2 | undefined;
  readonly parity?: 'none' | 'even' | 'odd' | undefined;
}

/**
 * A Client talking to a board over Web Serial: `webSerialClient(await navigator.serial.requestPort())`.
 * Routes, `send`, `request` and the rest as for a WebSocket Client; when the port fails or the board
 * is unplugged the client opens the port again with its backoff. Garbage and frames cut short by a
 * board's reset are reported as `'malformed'`, and the next frame is read.
 */
export function webSerialClient(port: SerialPortLike, options: WebSerialOptions = {}): Client {
  const { baudRate = 115200, dataBits, stopBits, parity, ...client } = options;
  if (!Number.isInteger(baudRate) || baudRate <= 0) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `baudRate is a positive integer, got ${baudRate}`);
  }
  const line = {
    baudRate,
    ...(dataBits === undefined ? {} : { dataBits }),
    ...(stopBits === undefined ? {} : { stopBits }),
    ...(parity === undefined ? {} : { parity }),
  };
  const maxFrame = client.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  // (a Client needs a WebSocket URL; this one names what it is, and is never dialled)
  return new Client('ws://web-serial/', { ...client, WebSocket: serialSocket(port, line, maxFrame) });
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** A WebSocket-shaped class over one serial port: each instance opens it, reads SLIP frames, closes it. */
function serialSocket(
  port: SerialPortLike,
  line: Parameters<SerialPortLike['open']>[0],
  maxFrame: number,
): WebSocketConstructor {
  return class SerialSocket implements WebSocketLike {
    binaryType = 'arraybuffer';
    bufferedAmount = 0;
    readyState = CONNECTING;
    onopen: ((event: never) => unknown) | null = null;
    onmessage: ((event: never) => unknown) | null = null;
    onclose: ((event: never) => unknown) | null = null;
    onerror: ((event: never) => unknown) | null = null;
    #reader: ReturnType<NonNullable<SerialPortLike['readable']>['getReader']> | undefined;
    #writer: ReturnType<NonNullable<SerialPortLike['writable']>['getWriter']> | undefined;
    // resync: a board that resets or babbles must not end the line (as src/transport/serial.ts)
    readonly #decoder = new SlipDecoder(maxFrame, { resync: true });

    constructor(_url: string) {
      void this.#open();
    }

    #emit(handler: ((event: never) => unknown) | null, event: unknown): void {
      handler?.(event as never);
    }

    async #open(): Promise<void> {
      try {
        await port.open(line);
        if (port.readable === null || port.writable === null) {
          throw new SendError('ERR_OSC_CLOSED', 'the serial port opened without streams');
        }
        this.#reader = port.readable.getReader();
        this.#writer = port.writable.getWriter();
      } catch (err) {
        this.#end(1006, String(err), false);
        return;
      }
      if (this.readyState !== CONNECTING) return; // closed meanwhile
      this.readyState = OPEN;
      this.#emit(this.onopen, {});
      await this.#read();
    }

    async #read(): Promise<void> {
      const reader = this.#reader;
      try {
        while (reader !== undefined && this.readyState === OPEN) {
          const { done, value } = await reader.read();
          if (done) break;
          if (value === undefined || value.length === 0) continue;
          this.#decoder.push(value);
          for (let frame = this.#decoder.next(); frame !== undefined; frame = this.#decoder.next()) {
            // a frame over maxFrame is reported as a text message (which the Client calls malformed)
            if (frame instanceof FramingError) this.#emit(this.onmessage, { data: '' });
            else if (frame.length > 0) this.#emit(this.onmessage, { data: frame.slice() });
          }
        }
        this.#end(1006, 'the port closed', false);
      } catch (err) {
        this.#end(1006, String(err), false); // unplugged: the Client reopens it with its backoff
      }
    }

    send(data: never): void {
      const packet = data as Uint8Array;
      if (this.readyState !== OPEN || this.#writer === undefined) {
        throw new SendError('ERR_OSC_CLOSED', 'the serial port is not open');
      }
      const bytes = slipEncodeDoubleEnd(packet);
      this.bufferedAmount += bytes.length;
      this.#writer.write(bytes).then(
        () => {
          this.bufferedAmount -= bytes.length;
        },
        (err: unknown) => this.#end(1006, String(err), false),
      );
    }

    close(): void {
      this.#end(1000, 'closed', true);
    }

    #end(code: number, reason: string, wasClean: boolean): void {
      if (this.readyState === CLOSED) return;
      this.readyState = CLOSED;
      const reader = this.#reader;
      const writer = this.#writer;
      this.#reader = undefined;
      this.#writer = undefined;
      void (async () => {
        // the locks go before the port can close (Web Serial refuses to close a locked port)
        await reader?.cancel().catch(() => {});
        reader?.releaseLock();
        await writer?.close().catch(() => {});
        writer?.releaseLock();
        await port.close().catch(() => {});
        this.#emit(this.onclose, { code, reason, wasClean });
      })();
    }
  };
}

// The far side of a Client in tests: a plain `ws` WebSocketServer on 127.0.0.1 that the test
// controls — which connections it accepts, what it sends, what it received — released by
// `await using` (or close()), which also ends every connection it accepted.
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { decode } from '../../src/codec/decode.js';
import { Message } from '../../src/codec/message.js';
import { within } from '../helpers/async.js';

/** One accepted connection: what it received, in order, and a way to wait for more. */
export class Peer {
  readonly socket: WebSocket;
  readonly received: Uint8Array[] = [];
  readonly closed: Promise<void>;
  #wake: (() => void) | undefined;

  constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data, isBinary) => {
      if (isBinary) this.received.push(new Uint8Array(data as Buffer));
      this.#wake?.();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** Waits until `n` binary frames have arrived; returns them decoded as messages. */
  async messages(n: number, ms = 5000): Promise<Message[]> {
    await within(
      ms,
      `${n} frame(s) at the far side`,
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.received.length >= n) {
            this.#wake = undefined;
            resolve();
          }
        };
        this.#wake = check;
        check();
      }),
    );
    return this.received.slice(0, n).map((bytes) => {
      const m = decode(bytes);
      if (!(m instanceof Message)) throw new Error('expected a message');
      return m;
    });
  }

  send(bytes: Uint8Array | string): void {
    this.socket.send(bytes);
  }
}

export class FarSide implements AsyncDisposable {
  readonly wss: WebSocketServer;
  readonly port: number;
  /** Whether upgrades are accepted; refused ones get HTTP 503 and the client retries. */
  accepting = true;
  readonly peers: Peer[] = [];
  #wake: (() => void) | undefined;

  private constructor(wss: WebSocketServer) {
    this.wss = wss;
    this.port = (wss.address() as AddressInfo).port;
    wss.on('connection', (socket) => {
      this.peers.push(new Peer(socket));
      this.#wake?.();
    });
  }

  /** Listens on 127.0.0.1 at `port` (0: any free one). */
  static async listen(port = 0): Promise<FarSide> {
    let side: FarSide | undefined;
    const wss: WebSocketServer = await new Promise((resolve, reject) => {
      const s = new WebSocketServer({
        host: '127.0.0.1',
        port,
        verifyClient: (_info, done) => done(side?.accepting ?? true, 503),
      });
      s.once('listening', () => resolve(s));
      s.once('error', reject);
    });
    side = new FarSide(wss);
    return side;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** The `n`th connection accepted (1-based), once it is. */
  async peer(n = 1, ms = 5000): Promise<Peer> {
    await within(
      ms,
      `connection ${n} at the far side`,
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.peers.length >= n) {
            this.#wake = undefined;
            resolve();
          }
        };
        this.#wake = check;
        check();
      }),
    );
    return this.peers[n - 1] as Peer;
  }

  /** Stops listening and ends every connection at once. */
  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

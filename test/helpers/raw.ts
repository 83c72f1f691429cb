// A raw TCP peer for framing tests: writes exactly the bytes given and collects what comes back.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

export class RawTcp {
  readonly socket: Socket;
  #received: Buffer[] = [];
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.#received.push(chunk);
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawTcp> {
    const socket = connect({ port, host, noDelay: true });
    await once(socket, 'connect');
    return new RawTcp(socket);
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  get received(): Buffer {
    return Buffer.concat(this.#received);
  }

  /** Waits until at least `n` bytes have arrived (or the connection closed). */
  async waitFor(n: number): Promise<Buffer> {
    while (this.received.length < n && !this.socket.destroyed && !this.socket.readableEnded) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.received;
  }

  async closed(): Promise<void> {
    if (this.socket.destroyed) return;
    await once(this.socket, 'close');
  }

  close(): void {
    this.socket.destroy();
  }
}

// Sends made while the client is not connected: held in order, bounded in bytes, sent when a
// connection opens, rejected (never dropped in silence) when the bound is reached or the client closes.
import { SendError } from '../transport/errors.js';

interface Held {
  readonly packet: Uint8Array;
  readonly resolve: (bytes: number) => void;
  readonly reject: (err: unknown) => void;
}

export class Outbox {
  readonly #max: number;
  #held: Held[] = [];
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  get size(): number {
    return this.#held.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Holds a copy of `packet` until `flush`; rejects at once if it would cross the bound. */
  hold(packet: Uint8Array): Promise<number> {
    if (this.#bytes + packet.length > this.#max) {
      return Promise.reject(
        new SendError(
          'ERR_OSC_WRITE_BUFFER_FULL',
          `not connected, and ${this.#bytes} bytes of sends already wait (maxSendQueueBytes ${this.#max}): ` +
            `this ${packet.length}-byte packet is not sent`,
        ),
      );
    }
    return new Promise<number>((resolve, reject) => {
      // a copy: the caller may reuse its bytes (packet()) before the connection comes
      this.#held.push({ packet: packet.slice(), resolve, reject });
      this.#bytes += packet.length;
    });
  }

  /**
   * Sends what is held, in order, through `send` (which returns the bytes sent or throws): each
   * send's promise settles with it. Stops (keeping the rest) if `canSend()` turns false.
   */
  flush(send: (packet: Uint8Array) => number, canSend: () => boolean): void {
    while (this.#held.length > 0 && canSend()) {
      const next = this.#held.shift() as Held;
      this.#bytes -= next.packet.length;
      try {
        next.resolve(send(next.packet));
      } catch (err) {
        next.reject(err);
      }
    }
  }

  /** Rejects everything held with `error`. */
  rejectAll(error: unknown): void {
    const held = this.#held;
    this.#held = [];
    this.#bytes = 0;
    for (const h of held) h.reject(error);
  }
}

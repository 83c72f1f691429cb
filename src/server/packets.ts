import type { Bundle } from '../codec/bundle.js';
import type { Message } from '../codec/message.js';
import type { TimeTag } from '../codec/timetag.js';
import { SEND_VALID, type Sender } from '../transport/sender.js';
import type { Arrival, Holdable } from './delivery.js';
import type { SubscribeOptions, Subscription } from './subscription.js';

/** A packet as a server received it: what `server.packets()` yields. */
export interface ReceivedPacket {
  /** The packet's bytes, exactly as they arrived (a copy of its own). */
  readonly data: Uint8Array;
  /** The same, decoded. */
  readonly packet: Message | Bundle;
  /** Replies to the sender over the same transport, as a message's `source` does. */
  readonly source: Sender;
  /** When the server read it (`TimeTag.now()`): for a bundle, before its time. */
  readonly arrived: TimeTag;
}

/** Options of `server.packets()` and `server.forward()`: a subscription's. */
export type PacketsOptions = Omit<SubscribeOptions, 'incoming'>;

/** What one packet record keeps alive apart from its bytes (the record, the decoded packet): an estimate. */
const RECORD = 256;

/** @internal */
export class PacketRecord implements ReceivedPacket, Arrival {
  readonly data: Uint8Array;
  readonly packet: Message | Bundle;
  readonly arrived: TimeTag;
  readonly holdable: Holdable | undefined;
  readonly seq: number;
  readonly #makeSource: () => Sender;
  #source: Sender | undefined;

  constructor(
    data: Uint8Array,
    packet: Message | Bundle,
    arrived: TimeTag,
    makeSource: () => Sender,
    holdable: Holdable | undefined,
    seq: number,
  ) {
    this.data = data;
    this.packet = packet;
    this.arrived = arrived;
    this.#makeSource = makeSource;
    this.holdable = holdable;
    this.seq = seq;
  }

  get source(): Sender {
    this.#source ??= this.#makeSource();
    return this.#source;
  }

  /** The bytes, twice (decoded args hold about as much again), and the records. */
  get bytes(): number {
    return RECORD + 2 * this.data.length;
  }
}

/** What `server.forward()` returns: call it (or `using` it) to stop forwarding. */
export interface ForwardDisposer extends Disposable {
  (): void;
  /** Resolves when forwarding has stopped and the last send has settled. */
  readonly closed: Promise<void>;
  /** The packets subscription that feeds it (for `pending`, `dropped`). */
  readonly subscription: Subscription<ReceivedPacket, null>;
}

/** @internal Sends what a packets subscription yields to a target, in order. */
export class Forwarding {
  readonly disposer: ForwardDisposer;

  constructor(
    sub: Subscription<ReceivedPacket, null>,
    target: Sender,
    report: (error: unknown, packet: ReceivedPacket) => void,
  ) {
    const run = async (): Promise<void> => {
      for await (const received of sub) {
        try {
          // the server decoded it already: sent as it is, not decoded again as packet() would
          await target[SEND_VALID](received.data);
        } catch (err) {
          report(err, received);
        }
      }
    };
    const closed = run().catch(() => undefined);
    const disposer = (() => {
      void sub.return();
    }) as ForwardDisposer & { closed: Promise<void>; subscription: Subscription<ReceivedPacket, null> };
    disposer.closed = closed;
    disposer.subscription = sub;
    disposer[Symbol.dispose] = disposer;
    this.disposer = disposer;
  }
}

// What sees a server's traffic besides its routes: `packets()` subscriptions, which get every valid
// packet as it arrives, and the watchers of requests (`address.request` from an address sending
// from the server), which get the messages dispatched at a path.

import type { Bundle } from '../codec/bundle.js';
import type { Message } from '../codec/message.js';
import { TimeTag } from '../codec/timetag.js';
import type { Dispatched } from '../transport/link.js';
import type { Sender } from '../transport/sender.js';
import type { Holdable } from './delivery.js';
import { PacketRecord, type PacketsOptions, type ReceivedPacket } from './packets.js';
import type { Subscription } from './subscription.js';
import { SubscriptionImpl } from './subscription-impl.js';

export type Watcher = (message: Dispatched) => boolean;

/** Watchers by the path they wait at. The server reads it directly (`size`, `get`) on its hot path. */
export class Watchers extends Map<string, Set<Watcher>> {
  /** Shows `watcher` the messages dispatched at `path` until the returned function is called. */
  watch(path: string, watcher: Watcher): () => void {
    let set = this.get(path);
    if (set === undefined) {
      set = new Set();
      this.set(path, set);
    }
    set.add(watcher);
    return () => {
      const current = this.get(path);
      if (current?.delete(watcher) && current.size === 0) this.delete(path);
    };
  }
}

/** The subscriptions of `server.packets()`. */
export class PacketTaps {
  readonly #subs = new Set<SubscriptionImpl<ReceivedPacket, null>>();
  readonly #onDrop: (sub: Subscription<unknown>, dropped: number) => void;

  constructor(onDrop: (sub: Subscription<unknown>, dropped: number) => void) {
    this.#onDrop = onDrop;
  }

  get size(): number {
    return this.#subs.size;
  }

  subscribe(options: PacketsOptions): Subscription<ReceivedPacket, null> {
    const sub = new SubscriptionImpl<ReceivedPacket, null>(null, options, (s) => this.#subs.delete(s), this.#onDrop);
    if (!sub.done) this.#subs.add(sub);
    return sub;
  }

  /** Hands a packet to every subscription: its own copy of the bytes, and its reply address on demand. */
  push(
    data: Uint8Array,
    decoded: Message | Bundle,
    makeSource: () => Sender,
    holdable: Holdable | undefined,
    seq: number,
  ): void {
    const record = new PacketRecord(
      new Uint8Array(data), // a copy: a TCP frame is a view into a read that may be reused (Buffer.slice would not copy)
      decoded,
      TimeTag.now(),
      makeSource,
      holdable,
      seq,
    );
    for (const sub of this.#subs) sub.push(record, record);
  }

  /** Ends every subscription (the server stopped), after what each has buffered. */
  end(): void {
    for (const sub of [...this.#subs]) sub.end();
  }
}

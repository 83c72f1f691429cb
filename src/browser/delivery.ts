// A message a Client received, on its way to routes: the record the dispatch core hands to
// subscriptions and request watchers. Its `source` is the client itself (replies go back on its
// connection); its byte estimate is worked out on the first subscription that buffers it.
import type { Message } from '../codec/message.js';
import type { TimeTag } from '../codec/timetag.js';
import type { OscArg } from '../codec/values.js';
import { messageBytes } from '../server/bytes.js';
import type { Delivery } from '../server/delivery.js';
import type { Dispatched } from '../transport/link.js';
import type { Sender } from '../transport/sender.js';

export class ClientDelivery implements Delivery, Dispatched {
  readonly path: string;
  readonly typetags: string;
  readonly args: readonly OscArg[];
  readonly timetag: TimeTag;
  readonly seq: number;
  readonly source: Sender;
  /** A browser's WebSocket cannot stop reading: `overflow: 'pause'` discards the newest, as over UDP. */
  readonly holdable = undefined;
  readonly connection = undefined;
  #bytes = -1;

  constructor(message: Message, timetag: TimeTag, source: Sender, seq: number) {
    this.path = message.path;
    this.typetags = message.typetags;
    this.args = message.args;
    this.timetag = timetag;
    this.source = source;
    this.seq = seq;
  }

  get bytes(): number {
    if (this.#bytes < 0) this.#bytes = messageBytes(this.path, this.typetags, this.args);
    return this.#bytes;
  }
}

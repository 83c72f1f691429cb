// Where a received message came from, and the reply address (`source`) made from that on demand.
import { Address } from '../address/address.js';
import { REPLY_SINK } from '../address/options.js';
import type { Message } from '../codec/message.js';
import type { TimeTag } from '../codec/timetag.js';
import type { OscArg } from '../codec/values.js';
import type { DatagramPort, Peer } from '../transport/datagram.js';
import { SendError } from '../transport/errors.js';
import type { Dispatched, Link, Sink } from '../transport/link.js';
import { sendUdp } from '../transport/udp.js';
import type { UnixServer } from '../transport/unix.js';
import { bracketHost } from '../transport/url.js';
import { messageBytes } from './bytes.js';
import type { Delivery, Holdable } from './delivery.js';

/** Where a packet came from: enough to reply over the same transport. */
export type Origin =
  | { readonly kind: 'udp'; readonly from: Peer }
  | { readonly kind: 'link'; readonly link: Link }
  | { readonly kind: 'unix'; readonly from: string | null };

/**
 * What reply addresses need of their server: the socket of its datagram transport, while it runs
 * (read at each send: it changes when the server restarts, and is gone once it stops). A reply
 * over a connection (TCP, WebSocket) needs only the connection.
 */
export interface ReplyContext {
  readonly udp: () => DatagramPort | undefined;
  readonly unix: () => UnixServer | undefined;
}

/** The reply address of a message from `origin`. */
export function sourceFor(context: ReplyContext, origin: Origin): Address {
  return new Address({ [REPLY_SINK]: sinkFor(context, origin) });
}

function stopped(): Promise<never> {
  return Promise.reject(new SendError('ERR_OSC_CLOSED', 'the server this reply goes from has stopped'));
}

/** Where replies to `origin` are written: the server's own socket, or the connection it came on. */
export function sinkFor(context: ReplyContext, origin: Origin): Sink {
  switch (origin.kind) {
    case 'udp': {
      const { address, port } = origin.from;
      return {
        url: `osc.udp://${bracketHost(address)}:${port}/`,
        proto: 'udp',
        send: (packet) => {
          const socket = context.udp();
          return socket === undefined ? stopped() : sendUdp(socket, packet, port, address);
        },
      };
    }
    case 'link': {
      const link = origin.link;
      return { url: link.url, proto: link.proto, send: (packet) => link.write(packet) };
    }
    default: {
      const to = origin.from;
      if (to === null) {
        return {
          url: 'osc.unix://',
          proto: 'unix',
          send: () =>
            Promise.reject(
              new SendError(
                'ERR_OSC_NO_REPLY_PATH',
                'a message from an unbound Unix socket has no reply path (as in liblo)',
              ),
            ),
        };
      }
      return {
        url: `osc.unix://${to}`,
        proto: 'unix',
        send: (packet) => {
          const server = context.unix();
          return server === undefined ? stopped() : server.sendTo(packet, to);
        },
      };
    }
  }
}

/**
 * A message on its way to routes. It is made once per message that reaches anything (on the hot
 * path), so what only some consumers need is worked out lazily: its reply address on the first
 * read of `source`, its byte estimate on the first subscription that buffers it.
 */
export class ServerDelivery implements Delivery, Dispatched {
  readonly path: string;
  readonly typetags: string;
  readonly args: readonly OscArg[];
  readonly timetag: TimeTag;
  readonly seq: number;
  readonly holdable: Holdable | undefined;
  readonly connection: Link | undefined;
  readonly #context: ReplyContext;
  readonly #origin: Origin;
  #source: Address | undefined;
  #bytes = -1;

  constructor(context: ReplyContext, message: Message, timetag: TimeTag, origin: Origin, seq: number) {
    this.path = message.path;
    this.typetags = message.typetags;
    this.args = message.args;
    this.timetag = timetag;
    this.seq = seq;
    this.holdable = origin.kind === 'link' ? origin.link : undefined;
    this.connection = origin.kind === 'link' ? origin.link : undefined;
    this.#context = context;
    this.#origin = origin;
  }

  get source(): Address {
    this.#source ??= sourceFor(this.#context, this.#origin);
    return this.#source;
  }

  /** Worked out once, on the first subscription that buffers it. */
  get bytes(): number {
    if (this.#bytes < 0) this.#bytes = messageBytes(this.path, this.typetags, this.args);
    return this.#bytes;
  }
}

import type { Received } from '../address/reply.js';

/**
 * @internal The one internal record of a received message, from the server's dispatch to a
 * route's subscriptions: made once per message (on its first matching route), shared by every
 * route and subscription it reaches. What users see is the public {@link Received} part, or an
 * `Incoming` record that adds the route (and that route's converted args).
 */
export interface Delivery extends Received {
  /** Arrival order across every server in the process, for `merge`. */
  readonly seq: number;
  /** The connection it came from, if it can be paused (`overflow: 'pause'`). */
  readonly holdable: Holdable | undefined;
  /** What the message keeps alive while buffered; read only when a subscription buffers it. */
  readonly bytes: number;
}

/**
 * @internal The part of a {@link Delivery} a subscription reads: all a `server.packets()` record
 * (which is not a message) needs to have.
 */
export type Arrival = Pick<Delivery, 'seq' | 'holdable' | 'bytes'>;

/** @internal A transport that can stop reading for a while: a TCP connection. */
export interface Holdable {
  hold(holder: unknown): void;
  release(holder: unknown): void;
}

// What every receiver reports, a Server and a browser's Client alike: the counters their `stats`
// extend, and the events of what the dispatch met. No Node imports: the browser entry uses it.
import type { Incoming, Received } from './route.js';
import type { Subscription } from './subscription.js';

/** The counters of what a receiver (a server, a browser's connection) got and did with it. */
export interface DispatchStats {
  /** Packets received (datagrams, TCP frames). */
  packets: number;
  /** Messages decoded from them (each message of a bundle counts). */
  messages: number;
  /** Messages handed to at least one consumer: a subscription, a handler, a `next()` or a request. */
  dispatched: number;
  malformed: number;
  /** Messages no route took. */
  unmatched: number;
  /**
   * Messages that reached routes none of which had a subscription, handler, `next()` or request
   * waiting: taken by the routing and consumed by nobody (not counted in `dispatched`).
   */
  unconsumed: number;
  /** Errors thrown or rejected by `route.on()` handlers. */
  handlerErrors: number;
  /** Messages held for their timetag right now. */
  queued: number;
  /** What they keep alive, in bytes (the estimate `maxQueuedBytes` limits). */
  queuedBytes: number;
  /** Bundled messages dropped because the queue was full or they were timed too far ahead. */
  queueDropped: number;
  /** Messages subscriptions discarded because their consumers fell behind. */
  overflowed: number;
}

/** The counters of a receiver that has received nothing. */
export function emptyDispatchStats(): DispatchStats {
  return {
    packets: 0,
    messages: 0,
    dispatched: 0,
    malformed: 0,
    unmatched: 0,
    unconsumed: 0,
    handlerErrors: 0,
    queued: 0,
    queuedBytes: 0,
    queueDropped: 0,
    overflowed: 0,
  };
}

/** The events of the dispatch, a Server's and a Client's alike (each adds its own). */
export interface DispatchEvents {
  /** A message no route took. */
  unmatched: [message: Received];
  /** A `route.on()` handler without `onError` threw or rejected; the handler goes on receiving. */
  handlerError: [error: unknown, message: Incoming];
  /** A subscription discarded messages (its consumer fell `highWaterMark` behind). */
  overflow: [subscription: Subscription<unknown>, dropped: number];
  /** A bundled message was dropped: the schedule was full, or it was timed too far ahead. */
  scheduleOverflow: [message: Received, reason: 'full' | 'horizon'];
}

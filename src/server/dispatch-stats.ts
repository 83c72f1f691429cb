// The counters every receiver keeps: a Server's `stats` extend them, and so do a browser Client's.

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

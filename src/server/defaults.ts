// The dispatch's options and their defaults, shared by a Server (options.ts) and a browser's
// Client (src/browser/options.ts): no Node imports, so the browser entry can import them.

/**
 * Steps of pattern matching one message may take against all the routes (see MatchBudget): about
 * half a millisecond once V8 has compiled the matcher, ~10 ms the first time. A typical pattern
 * costs ~130 steps a route, so this serves patterns against ~4,000 routes.
 */
export const DEFAULT_PATTERN_STEPS = 1 << 19;
/** Bundled messages waiting for their time: 65536 small ones, a busy show's worth of cues. */
export const DEFAULT_MAX_QUEUED = 65536;
/** 65536 messages of 512 bytes: the count governs small messages, this the big ones. */
export const DEFAULT_MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/** How far ahead a bundle may be timed, in seconds: a day. */
export const DEFAULT_MAX_SCHEDULE_AHEAD = 86400;

/** The options of what every receiver does with what arrives: a Server's and a Client's. */
export interface DispatchOptions {
  /** Dispatch bundled messages at their timetag (default true); false dispatches at once, timetag attached. */
  readonly queue?: boolean | undefined;
  /** liblo's coercion between i h f d, and between s S, to reach a route's typespec. Default true. */
  readonly coerce?: boolean | undefined;
  /**
   * Largest packet (a UDP datagram, a TCP frame, a WebSocket message) accepted; a larger one is
   * reported as malformed. Default 1 MiB (UDP cannot exceed 65507).
   */
  readonly maxPacketSize?: number | undefined;
  /** Deepest bundle nesting accepted. Default 32. */
  readonly maxDepth?: number | undefined;
  /** Accept `r` and arrays, which liblo rejects. Default true. */
  readonly extendedTypes?: boolean | undefined;
  /** Bundled messages waiting for their time; more are dropped and reported. Default 65536. */
  readonly maxQueued?: number | undefined;
  /**
   * Work that matching one incoming address pattern against the routes may take, in steps (a
   * character compared; see the README). A costlier pattern is rejected and reported as malformed
   * (`ERR_OSC_PATTERN_TOO_COSTLY`). Default 524,288: about half a millisecond, enough for a typical
   * pattern against ~4,000 routes.
   */
  readonly maxPatternSteps?: number | undefined;
  /** Messages timed further ahead than this (seconds) are dropped and reported. Default 86400. */
  readonly maxScheduleAhead?: number | undefined;
  /**
   * Bytes of bundled messages waiting for their time (an estimate of the memory they keep alive,
   * see the README); more are dropped and reported like `maxQueued`. Default 32 MiB.
   */
  readonly maxQueuedBytes?: number | undefined;
}

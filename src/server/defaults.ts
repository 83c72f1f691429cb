// The dispatch limits' defaults, shared by a Server (options.ts) and a browser's Client
// (src/browser/options.ts): no Node imports, so the browser entry can import them.

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

// The debug log and warnings of the dispatch core, which also runs in browsers: Node's
// `util.debuglog('aiolo')` (NODE_DEBUG=aiolo) and process warnings when Node installs them
// (server.ts does), the console's warning otherwise, and no debug log.

type Log = (format: string, ...args: unknown[]) => void;

let debugLog: Log = () => {};

/** @internal Installs Node's debug log (server.ts, which imports node:util). */
export function setDebugLog(log: Log): void {
  debugLog = log;
}

/** @internal Logs to `NODE_DEBUG=aiolo` in Node; nothing in a browser. */
export function debug(format: string, ...args: unknown[]): void {
  debugLog(format, ...args);
}

/** @internal A process warning in Node (`code` as given), the console's warning in a browser. */
export function warn(message: string, code: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: { code: string }) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { code });
  else console.warn(`${code}: ${message}`);
}

/**
 * @internal An error from a user's listener surfaces as an uncaught exception, as it would from any
 * event emitter, but only after the dispatcher has finished with the packet: its state stays whole.
 */
export function rethrowLater(err: unknown): void {
  debug('a listener threw: %s', String(err));
  queueMicrotask(() => {
    throw err;
  });
}

import { OscAbortError, OscConfigError, OscTimeoutError } from './errors.js';

/** How long a one-shot wait may take. */
export interface WaitOptions {
  /** Milliseconds to wait before rejecting with `OscTimeoutError` (`ERR_OSC_TIMEOUT`). */
  readonly timeout?: number | undefined;
  /** Rejects with `OscAbortError` (`ERR_OSC_ABORTED`, the signal's reason as `cause`) when aborted. */
  readonly signal?: AbortSignal | undefined;
}

/** Checks a timeout option: a positive number of milliseconds a timer can hold, or undefined. */
export function checkTimeout(timeout: unknown): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== 'number' || !(timeout > 0) || timeout > 2 ** 31 - 1) {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `timeout is a number of milliseconds from 1 to 2147483647, got ${String(timeout)}`,
    );
  }
  return timeout;
}

/**
 * Settles with `promise`, or rejects when the timeout runs out or the signal aborts, whichever
 * comes first; `cleanup` runs once, whichever way it ends. `what` names the wait in the errors.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  options: WaitOptions,
  what: string,
  cleanup: () => void,
): Promise<T> {
  const timeout = checkTimeout(options.timeout);
  const signal = options.signal;
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cleanup();
      return true;
    };
    const onAbort = (): void => {
      if (finish()) reject(new OscAbortError(`${what}: aborted`, { cause: signal?.reason }));
    };
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        if (finish()) reject(new OscTimeoutError(`${what}: no answer within ${timeout} ms`, timeout));
      }, timeout);
    }
    promise.then(
      (value) => {
        if (finish()) resolve(value);
      },
      (err: unknown) => {
        if (finish()) reject(err);
      },
    );
  });
}

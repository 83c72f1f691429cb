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
 * A wait's limits while armed: a timer for `timeout` ms and a listener on `signal`. The first to
 * fire hands `expire` its error (`OscTimeoutError` or `OscAbortError`, `what()` naming the wait);
 * `disarm()` releases both. A signal already aborted expires at once, inside `arm()`.
 */
export class Deadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  arm(
    timeout: number | undefined,
    signal: AbortSignal | undefined,
    what: () => string,
    expire: (err: Error) => void,
  ): void {
    if (signal !== undefined) {
      const onAbort = () => expire(new OscAbortError(`${what()}: aborted`, { cause: signal.reason }));
      if (signal.aborted) {
        onAbort();
        return;
      }
      this.#signal = signal;
      this.#onAbort = onAbort;
      signal.addEventListener('abort', onAbort, { once: true });
    }
    if (timeout !== undefined) {
      this.#timer = setTimeout(
        () => expire(new OscTimeoutError(`${what()}: no answer within ${timeout} ms`, timeout)),
        timeout,
      );
    }
  }

  disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
    this.#signal = undefined;
  }
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
  return new Promise<T>((resolve, reject) => {
    const deadline = new Deadline();
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      deadline.disarm();
      cleanup();
      return true;
    };
    deadline.arm(
      timeout,
      options.signal,
      () => what,
      (err) => {
        if (finish()) reject(err);
      },
    );
    if (done) return; // (aborted already)
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

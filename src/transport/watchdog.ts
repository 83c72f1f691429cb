// What the limits of a connection need besides its bytes: a timer for writes that stop completing
// (`writeTimeout`), one for silence (`idleTimeout`), and the SendError a write gets once the link
// has failed. Shared by StreamLink (TCP) and WsLink (WebSocket).
import { type ConnectionError, type ConnectionErrorCode, SendError } from './errors.js';

/** What a watchdog reads of its link, and how it closes it. */
export interface Watched {
  readonly closed: boolean;
  /** A consumer holds its reading: its silence is ours, not the peer's. */
  readonly held: boolean;
  /** The order of its last activity (see nextActivity). */
  readonly lastActive: number;
  /** Bytes written and not yet taken by the kernel (WebSocket: a write not yet completed counts). */
  waiting(): number;
  hangup(code: ConnectionErrorCode, message: string): void;
}

export class Watchdog {
  readonly #link: Watched;
  readonly #writeTimeout: number;
  readonly #idleTimeout: number;
  /** Writes completed so far; the write check compares it with what it saw last. */
  #completed = 0;
  #completedSeen = 0;
  #lastActiveSeen = 0;
  #writeTimer: ReturnType<typeof setTimeout> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /** Starts watching for silence at once when `idleTimeout` > 0 (0 turns either timeout off). */
  constructor(link: Watched, writeTimeout: number, idleTimeout: number) {
    this.#link = link;
    this.#writeTimeout = writeTimeout;
    this.#idleTimeout = idleTimeout;
    if (idleTimeout > 0 && !link.closed) {
      this.#lastActiveSeen = link.lastActive;
      this.#idleTimer = setTimeout(this.#checkIdle, idleTimeout);
      this.#idleTimer.unref?.();
    }
  }

  /** A write completed. */
  completed(): void {
    this.#completed++;
  }

  /** Writes are waiting: they must keep completing. */
  watchWrites(): void {
    if (this.#writeTimeout <= 0 || this.#writeTimer !== undefined || this.#link.closed) return;
    this.#completedSeen = this.#completed;
    this.#writeTimer = setTimeout(this.#checkWrites, this.#writeTimeout);
    this.#writeTimer.unref?.();
  }

  /** The link closed: no more checks. */
  stop(): void {
    clearTimeout(this.#writeTimer);
    clearTimeout(this.#idleTimer);
    this.#writeTimer = undefined;
    this.#idleTimer = undefined;
  }

  readonly #checkWrites = (): void => {
    this.#writeTimer = undefined;
    const link = this.#link;
    if (link.closed || link.waiting() === 0) return;
    if (this.#completed !== this.#completedSeen) {
      this.watchWrites(); // progress: watch the next stretch
      return;
    }
    link.hangup(
      'ERR_OSC_WRITE_TIMEOUT',
      `no write completed for ${this.#writeTimeout} ms (${link.waiting()} bytes waiting): the peer is not reading`,
    );
  };

  // Runs every idleTimeout: a link with no activity since the last run (and not held by a
  // consumer, whose silence is ours) is closed. So a silent connection closes between one and two
  // idleTimeouts after its last byte, without a clock read per read.
  readonly #checkIdle = (): void => {
    const link = this.#link;
    if (link.closed) return;
    if (link.lastActive !== this.#lastActiveSeen || link.held || link.waiting() > 0) {
      this.#lastActiveSeen = link.lastActive;
      this.#idleTimer?.refresh();
      return;
    }
    this.#idleTimer = undefined;
    link.hangup('ERR_OSC_IDLE_TIMEOUT', `nothing was received for idleTimeout (${this.#idleTimeout} ms)`);
  };
}

/**
 * The SendError of a write on a link: after the link closed itself for a limit (`failure`), the
 * limit's code when it was the peer not reading, else ERR_OSC_CLOSED; after the connection closed,
 * ERR_OSC_CLOSED; otherwise the system's failure.
 */
export function sendErrorFor(
  failure: ConnectionError | undefined,
  closed: boolean,
  peer: string,
  err: Error | null | undefined,
): SendError {
  if (failure !== undefined) {
    const code =
      failure.code === 'ERR_OSC_WRITE_BUFFER_FULL' || failure.code === 'ERR_OSC_WRITE_TIMEOUT'
        ? failure.code
        : 'ERR_OSC_CLOSED';
    return new SendError(code, `not sent: ${failure.message}`, { cause: failure });
  }
  const cause = err ?? undefined;
  if (closed)
    return new SendError('ERR_OSC_CLOSED', `the connection to ${peer} closed before this was sent`, { cause });
  return new SendError('ERR_OSC_SEND_FAILED', `sending to ${peer} failed: ${err?.message}`, { cause });
}

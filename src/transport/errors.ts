import { OscError } from '../codec/errors.js';

// (OscConfigError is the codec's: its functions throw it too. Re-exported so the layers above
// import every error they throw from here.)
export { type ConfigErrorCode, OscConfigError } from '../codec/errors.js';

/** The `code` of a `StartError`: why a server could not start. */
export type StartErrorCode =
  | 'ERR_OSC_ADDRESS_IN_USE'
  | 'ERR_OSC_UNKNOWN_PROTOCOL'
  | 'ERR_OSC_UNIX_UNAVAILABLE'
  | 'ERR_OSC_SERIAL_UNAVAILABLE'
  | 'ERR_OSC_START_FAILED';

/** A server could not start: the port is taken, the socket path unusable, the device absent, the scheme unknown... */
export class StartError extends OscError {
  override readonly name = 'StartError';
  declare readonly code: StartErrorCode;
  constructor(code: StartErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** The `code` of a `SendError`: why a packet could not be sent. */
export type SendErrorCode =
  | 'ERR_OSC_SEND_FAILED'
  | 'ERR_OSC_PACKET_TOO_LARGE'
  | 'ERR_OSC_NO_REPLY_PATH'
  | 'ERR_OSC_CLOSED'
  | 'ERR_OSC_UNKNOWN_PROTOCOL'
  | 'ERR_OSC_UNIX_UNAVAILABLE'
  | 'ERR_OSC_SERIAL_UNAVAILABLE'
  | 'ERR_OSC_WRITE_BUFFER_FULL'
  | 'ERR_OSC_WRITE_TIMEOUT';

/** What a send failed on, in the terms of the operating system (Node's system errors). */
export interface SystemErrorDetail {
  /** The system error number, negative as libuv reports it (`-111`); `util.getSystemErrorName` names it. */
  readonly errno?: number | undefined;
  /** The system call that failed (`'connect'`, `'send'`, `'getaddrinfo'`). */
  readonly syscall?: string | undefined;
}

/**
 * A packet could not be sent. `cause` holds the socket error, when there is one; `errno` and
 * `syscall` say what the system refused (taken from `cause` when it is a Node system error), so
 * callers match on them, not on the message.
 */
export class SendError extends OscError {
  override readonly name = 'SendError';
  declare readonly code: SendErrorCode;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  constructor(code: SendErrorCode, message: string, options?: ErrorOptions & SystemErrorDetail) {
    super(code, message, options);
    const cause = options?.cause as { errno?: unknown; syscall?: unknown } | null | undefined;
    const errno = options?.errno ?? cause?.errno;
    const syscall = options?.syscall ?? cause?.syscall;
    this.errno = typeof errno === 'number' ? errno : undefined;
    this.syscall = typeof syscall === 'string' ? syscall : undefined;
  }
}

/** A wait (`address.request`, `route.next`) got no answer within its `timeout`. */
export class OscTimeoutError extends OscError {
  override readonly name = 'OscTimeoutError';
  declare readonly code: 'ERR_OSC_TIMEOUT';
  /** The timeout that ran out, in milliseconds. */
  readonly timeout: number;
  constructor(message: string, timeout: number) {
    super('ERR_OSC_TIMEOUT', message);
    this.timeout = timeout;
  }
}

/** A wait was ended by its `AbortSignal`; `cause` is the signal's reason. */
export class OscAbortError extends OscError {
  override readonly name = 'OscAbortError';
  declare readonly code: 'ERR_OSC_ABORTED';
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_OSC_ABORTED', message, options);
  }
}

/** A wait ended because what it waited on closed: the address, or every server of the route stopped. */
export class OscClosedError extends OscError {
  override readonly name = 'OscClosedError';
  declare readonly code: 'ERR_OSC_CLOSED';
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_OSC_CLOSED', message, options);
  }
}

/** The `code` of a `ConnectionError`: why a connection was closed. */
export type ConnectionErrorCode =
  | 'ERR_OSC_WRITE_BUFFER_FULL'
  | 'ERR_OSC_WRITE_TIMEOUT'
  | 'ERR_OSC_IDLE_TIMEOUT'
  | 'ERR_OSC_EVICTED'
  | 'ERR_OSC_READ_BUFFER_FULL'
  /** A WebSocket peer broke the protocol (a bad opcode, an unmasked frame, invalid UTF-8...). */
  | 'ERR_OSC_PROTOCOL_ERROR';

/**
 * Why aiolo closed a TCP connection itself: the peer broke one of the limits that keep a server's
 * memory and connections bounded (a server reports it with `'hangup'`).
 */
export class ConnectionError extends OscError {
  override readonly name = 'ConnectionError';
  declare readonly code: ConnectionErrorCode;
  /** The peer, as `host:port`. */
  readonly peer: string;
  constructor(code: ConnectionErrorCode, peer: string, message: string) {
    super(code, message);
    this.peer = peer;
  }
}

/** Names by the rule `Osc` + condition + `Error` for the classes above with older names: the same classes. */
export { ConnectionError as OscConnectionError, SendError as OscSendError, StartError as OscStartError };

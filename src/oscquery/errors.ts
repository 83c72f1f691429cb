// Errors of the OSCQuery client: one class, one stable code per condition. Timeouts and aborts
// are the transport layer's OscTimeoutError and OscAbortError, as everywhere else in aiolo.
import { OscError } from '../codec/errors.js';

/** The `code` of an {@link OscQueryError}. */
export type OscQueryErrorCode =
  /** The server answered with a status other than 2xx (`status` says which). */
  | 'ERR_OSC_QUERY_HTTP'
  /** The HTTP request or the WebSocket could not be made: refused, reset, unknown host (`cause`). */
  | 'ERR_OSC_QUERY_CONNECT'
  /** The body is not JSON, or not shaped as OSCQuery says (a node that is not an object...). */
  | 'ERR_OSC_QUERY_INVALID'
  /** A body, a WebSocket frame or a namespace larger than its limit (`maxBodySize`, `maxNodes`, `maxPayload`). */
  | 'ERR_OSC_QUERY_TOO_LARGE'
  /** `CONTENTS` nested deeper than `maxDepth`. */
  | 'ERR_OSC_QUERY_TOO_DEEP'
  /** `target(path)` or `address()` for something the namespace does not have. */
  | 'ERR_OSC_QUERY_NOT_FOUND'
  /** `target(path, typespec)` whose expected typespec differs from the node's `TYPE`. */
  | 'ERR_OSC_QUERY_TYPE_MISMATCH'
  /** The WebSocket closed or failed while a stream was open. */
  | 'ERR_OSC_QUERY_STREAM'
  /** Something this client or the server does not support (a service name, LISTEN switched off). */
  | 'ERR_OSC_QUERY_NOT_SUPPORTED';

/** An OSCQuery request or stream that failed; `url` is what was asked, `status` the HTTP status if any. */
export class OscQueryError extends OscError {
  override readonly name = 'OscQueryError';
  declare readonly code: OscQueryErrorCode;
  readonly url: string | undefined;
  readonly status: number | undefined;

  constructor(
    code: OscQueryErrorCode,
    message: string,
    options?: ErrorOptions & { url?: string | undefined; status?: number | undefined },
  ) {
    super(code, message, options);
    this.url = options?.url;
    this.status = options?.status;
  }
}

import type { ConfigErrorCode, DecodeErrorCode, EncodeErrorCode, OscPatternError } from '../codec/errors.js';
import { OscError } from '../codec/errors.js';
import type {
  ConnectionErrorCode,
  OscAbortError,
  OscClosedError,
  OscTimeoutError,
  SendErrorCode,
  StartErrorCode,
} from '../transport/errors.js';
import type { FramingErrorCode } from '../transport/framing.js';

/** The codes of {@link RouteError}. */
export type RouteErrorCode = 'ERR_OSC_INVALID_ROUTE' | 'ERR_OSC_NOT_ROUTED';

/** A route that cannot be registered or removed (a pattern path, a route that is not there...). */
export class RouteError extends OscError {
  override readonly name = 'RouteError';
  declare readonly code: RouteErrorCode;
  constructor(code: RouteErrorCode, message: string) {
    super(code, message);
  }
}

/** A subscription with `overflow: 'error'` fell behind by more than its `highWaterMark` or `highWaterBytes`. */
export class OscOverflowError extends OscError {
  override readonly name = 'OscOverflowError';
  declare readonly code: 'ERR_OSC_OVERFLOW';
  readonly dropped: number;
  constructor(limit: string, dropped: number) {
    super('ERR_OSC_OVERFLOW', `subscription fell more than ${limit} behind; ${dropped} dropped`);
    this.dropped = dropped;
  }
}

/** {@link RouteError} by the naming rule (`Osc` + condition + `Error`): the same class. */
export { RouteError as OscRouteError };

/**
 * Every `code` an {@link OscError} from aiolo can carry: switch on `err.code` over this union.
 * (Defined here, in the highest layer with errors of its own, because it gathers every layer's.)
 */
export type OscErrorCode =
  | DecodeErrorCode
  | EncodeErrorCode
  | ConfigErrorCode
  | OscPatternError['code']
  | StartErrorCode
  | SendErrorCode
  | ConnectionErrorCode
  | FramingErrorCode
  | OscTimeoutError['code']
  | OscAbortError['code']
  | OscClosedError['code']
  | RouteErrorCode
  | OscOverflowError['code'];

import { OscError } from '../codec/errors.js';

/** A route that cannot be registered or removed (a pattern path, a route that is not there...). */
export class RouteError extends OscError {
  override readonly name = 'RouteError';
  declare readonly code: 'ERR_OSC_INVALID_ROUTE' | 'ERR_OSC_NOT_ROUTED';
  constructor(code: 'ERR_OSC_INVALID_ROUTE' | 'ERR_OSC_NOT_ROUTED', message: string) {
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

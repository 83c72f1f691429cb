// Compile-time tests of the error family (never executed): OscErrorCode is the union of every
// class's codes, each class's `code` is one of them, and the Osc-prefixed names are the same classes.
import type {
  ConnectionError,
  OscAbortError,
  OscClosedError,
  OscConfigError,
  OscConnectionError,
  OscDecodeError,
  OscEncodeError,
  OscError,
  OscErrorCode,
  OscOverflowError,
  OscPatternError,
  OscRouteError,
  OscSendError,
  OscStartError,
  OscTimeoutError,
  RouteError,
  SendError,
  StartError,
} from '../../src/index.js';
import type { FramingError } from '../../src/transport/framing.js';
import { type Equal, expect } from './expect.js';

type Codes =
  | OscDecodeError['code']
  | OscEncodeError['code']
  | OscPatternError['code']
  | OscConfigError['code']
  | StartError['code']
  | SendError['code']
  | ConnectionError['code']
  | FramingError['code']
  | OscTimeoutError['code']
  | OscAbortError['code']
  | OscClosedError['code']
  | RouteError['code']
  | OscOverflowError['code'];

// every class's codes are in the union, and the union holds nothing else
expect<Equal<OscErrorCode, Codes>>();
// a few codes by name, so that a removed code fails here
expect<Equal<Extract<OscErrorCode, 'ERR_OSC_TRUNCATED'>, 'ERR_OSC_TRUNCATED'>>();
expect<Equal<Extract<OscErrorCode, 'ERR_OSC_BUFFER_TOO_SMALL'>, 'ERR_OSC_BUFFER_TOO_SMALL'>>();
expect<Equal<Extract<OscErrorCode, 'ERR_OSC_INVALID_ARG_TYPE'>, 'ERR_OSC_INVALID_ARG_TYPE'>>();
// @ts-expect-error: not a code
const notACode: OscErrorCode = 'ERR_OSC_NO_SUCH_THING';

// every code is a string, and every member of the family is an OscError
expect<Equal<OscErrorCode extends string ? true : false, true>>();
expect<Equal<FramingError extends OscError ? true : false, true>>();

// the names by the rule are the same classes
expect<Equal<typeof OscStartError, typeof StartError>>();
expect<Equal<typeof OscSendError, typeof SendError>>();
expect<Equal<typeof OscRouteError, typeof RouteError>>();
expect<Equal<typeof OscConnectionError, typeof ConnectionError>>();

// SendError's system detail
declare const sent: SendError;
expect<Equal<typeof sent.errno, number | undefined>>();
expect<Equal<typeof sent.syscall, string | undefined>>();

function byCode(err: OscError & { code: OscErrorCode }): string {
  switch (err.code) {
    case 'ERR_OSC_TIMEOUT':
      return 'timeout';
    default:
      return err.code;
  }
}

export { byCode, notACode };

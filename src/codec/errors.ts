/**
 * Every error aiolo throws or reports is an {@link OscError} with a stable string `code`,
 * so callers can branch on `err.code` instead of parsing messages. The codes, all together, are the
 * union `OscErrorCode` (exported by `aiolo`).
 *
 * Naming rule: an error class is `Osc` + the condition + `Error` (`OscDecodeError`,
 * `OscTimeoutError`). The four older names of the endpoint API (`StartError`, `SendError`,
 * `RouteError`, `ConnectionError`) stay as they are, for compatibility, and are also exported under
 * the rule's names (`OscStartError`...): the same classes, so `instanceof` and `err.name` agree.
 */
export class OscError extends Error {
  override readonly name: string = 'OscError';
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Why a packet could not be decoded. Each code names one rule of `lo_message_deserialise` /
 * `lo_validate_bundle` (liblo 0.31), or one of aiolo's own limits.
 */
export type DecodeErrorCode =
  | 'ERR_OSC_EMPTY_PACKET'
  | 'ERR_OSC_INVALID_PATH'
  | 'ERR_OSC_NO_TYPETAGS'
  | 'ERR_OSC_INVALID_TYPETAGS'
  | 'ERR_OSC_MISSING_COMMA'
  | 'ERR_OSC_UNKNOWN_TYPETAG'
  | 'ERR_OSC_INVALID_ARGUMENT'
  | 'ERR_OSC_TRAILING_BYTES'
  | 'ERR_OSC_INVALID_BUNDLE'
  | 'ERR_OSC_TOO_DEEP'
  | 'ERR_OSC_TOO_LARGE'
  | 'ERR_OSC_PATTERN_TOO_COSTLY'
  | 'ERR_OSC_TRUNCATED'
  | 'ERR_OSC_TEXT_FRAME';

/**
 * liblo's error number for the same condition (`lo/lo_errors.h`), as `lo_message_deserialise`
 * reports it. aiolo's own limits map to `LO_TOOBIG` (9905).
 */
export const LIBLO_ERROR_NUMBERS: Readonly<Record<DecodeErrorCode, number>> = {
  ERR_OSC_EMPTY_PACKET: 9911, // LO_ESIZE
  ERR_OSC_INVALID_PATH: 9908, // LO_EINVALIDPATH
  ERR_OSC_NO_TYPETAGS: 9902, // LO_ENOTYPE
  ERR_OSC_INVALID_TYPETAGS: 9909, // LO_EINVALIDTYPE
  ERR_OSC_MISSING_COMMA: 9910, // LO_EBADTYPE
  ERR_OSC_UNKNOWN_TYPETAG: 9912, // LO_EINVALIDARG
  ERR_OSC_INVALID_ARGUMENT: 9912, // LO_EINVALIDARG
  ERR_OSC_TRAILING_BYTES: 9911, // LO_ESIZE
  ERR_OSC_INVALID_BUNDLE: 9911, // LO_ESIZE (what lo_validate_bundle returns for bad sizes)
  ERR_OSC_TOO_DEEP: 9905, // LO_TOOBIG
  ERR_OSC_TOO_LARGE: 9905, // LO_TOOBIG
  ERR_OSC_PATTERN_TOO_COSTLY: 9905, // LO_TOOBIG (liblo has no such limit)
  ERR_OSC_TRUNCATED: 9911, // LO_ESIZE: a TCP frame shorter than announced (liblo drops it unreported)
  ERR_OSC_TEXT_FRAME: 9908, // LO_EINVALIDPATH: a WebSocket text frame is not a packet (liblo has no WebSocket)
};

/** A packet that is not valid OSC. `offset` is the byte where the problem was found. */
export class OscDecodeError extends OscError {
  override readonly name = 'OscDecodeError';
  declare readonly code: DecodeErrorCode;
  readonly offset: number;
  /** liblo's error number for the same condition, for tools that print liblo-style reports. */
  readonly libloCode: number;

  constructor(code: DecodeErrorCode, offset: number, message: string) {
    super(code, `${message} (at byte ${offset})`);
    this.offset = offset;
    this.libloCode = LIBLO_ERROR_NUMBERS[code];
  }
}

/** The `code` of an `OscEncodeError`: why a value could not be encoded. */
export type EncodeErrorCode =
  | 'ERR_OSC_BUFFER_TOO_SMALL'
  | 'ERR_OSC_ARG_TYPE'
  | 'ERR_OSC_ARG_COUNT'
  | 'ERR_OSC_INVALID_TYPESPEC'
  | 'ERR_OSC_INVALID_PATH'
  | 'ERR_OSC_INVALID_VALUE'
  | 'ERR_OSC_BUNDLE_CYCLE';

/** A value or packet that cannot be encoded as asked. */
export class OscEncodeError extends OscError {
  override readonly name = 'OscEncodeError';
  declare readonly code: EncodeErrorCode;
  /** Position of the offending argument, when one argument is to blame. */
  readonly argIndex: number | undefined;
  /** The typetag the argument was to be encoded as, when known. */
  readonly typetag: string | undefined;
  readonly value: unknown;

  constructor(
    code: EncodeErrorCode,
    message: string,
    detail: { argIndex?: number; typetag?: string; value?: unknown } = {},
  ) {
    super(code, message);
    this.argIndex = detail.argIndex;
    this.typetag = detail.typetag;
    this.value = detail.value;
  }
}

/** The codes of {@link OscConfigError}. */
export type ConfigErrorCode = 'ERR_OSC_INVALID_URL' | 'ERR_OSC_INVALID_OPTIONS' | 'ERR_OSC_INVALID_ARG_TYPE';

/**
 * Bad constructor options, URLs or function arguments: a programming error, thrown synchronously.
 * (It lives in the codec, the lowest layer, because the codec's own functions throw it too.)
 */
export class OscConfigError extends OscError {
  override readonly name = 'OscConfigError';
  declare readonly code: ConfigErrorCode;
  constructor(code: ConfigErrorCode, message: string) {
    super(code, message);
  }
}

/** An address pattern that cannot be compiled (an unclosed `[` or `{`, a nested `{`...). */
export class OscPatternError extends OscError {
  override readonly name = 'OscPatternError';
  declare readonly code: 'ERR_OSC_INVALID_PATTERN';
  readonly pattern: string;
  readonly position: number;

  constructor(pattern: string, position: number, message: string) {
    super('ERR_OSC_INVALID_PATTERN', `${message} at position ${position} of ${JSON.stringify(pattern)}`);
    this.pattern = pattern;
    this.position = position;
  }
}

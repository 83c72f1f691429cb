// aiolo/codec: OSC values, typespecs, messages, bundles, timetags, encode/decode and address
// patterns. No Node.js imports: usable in a browser bundle.

export { Bundle, type BundleElement } from './bundle.js';
export { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PACKET_SIZE, type DecodeOptions, decode } from './decode.js';
export { encode, encodedSize, encodeInto, encodeMessage } from './encode.js';
export {
  type ConfigErrorCode,
  type DecodeErrorCode,
  type EncodeErrorCode,
  LIBLO_ERROR_NUMBERS,
  OscConfigError,
  OscDecodeError,
  OscEncodeError,
  OscError,
  OscPatternError,
} from './errors.js';
export { type LibloReport, libloReport } from './libloreport.js';
export { double, float, int32, int64, Marked, type NumericTypetag } from './marks.js';
export {
  ARGS,
  type ArgsTarget,
  type InferredArg,
  Message,
  type MessageTarget,
  type SendArgs,
  type TargetArgs,
  type TypedPath,
} from './message.js';
export { compilePattern, isPattern, matchPattern, Pattern, routePathProblem } from './pattern.js';
export { NTP_UNIX_OFFSET, TimeTag } from './timetag.js';
export {
  ANY_ARGS,
  type AnyArgs,
  type ArgsOf,
  inferTypetag,
  inferTypetags,
  NO_ARGS,
  type Typespec,
  type Typetag,
  type TypetagValues,
  typespecString,
} from './typespec.js';
export { Char, INFINITUM, type Infinitum, Midi, type OscArg, OscSymbol, Rgba } from './values.js';

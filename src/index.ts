// The public API of aiolo. Everything exported is listed here by name. Implementation classes
// (RouteImpl, SubscriptionImpl) are not: users get the Route and Subscription interfaces, and
// test/types/declarations.test.ts fails if an internal member shows in the published types.

export { Address, type AddressOptions, type AddressTarget, DEFAULT_REQUEST_TIMEOUT } from './address/address.js';
export { MultiCast, MultiCastAddress, type MultiCastMember, type MultiCastOptions } from './address/multicast.js';
export type { ReplyArgs, ReplyAt, RequestOptions } from './address/reply.js';
export {
  type Bridge,
  type BridgeCloseReason,
  type BridgedPacket,
  type BridgeEvents,
  type BridgeLoss,
  type BridgeLossReason,
  type BridgeOptions,
  type BridgeStats,
  bridge,
} from './bridge/bridge.js';
export type { ListenerDisposer } from './browser/emitter.js';
export type { MessageEventLike, WebSocketConstructor, WebSocketLike } from './browser/websocket.js';
export {
  Client,
  type ClientEvents,
  type ClientOptions,
  type ClientState,
  type ClientStats,
  type CloseInfo,
  type ReconnectOptions,
} from './client-node.js';
export {
  ANY_ARGS,
  type AnyArgs,
  ARGS,
  type ArgsOf,
  type ArgsTarget,
  Bundle,
  type BundleElement,
  Char,
  compilePattern,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_PACKET_SIZE,
  type DecodeErrorCode,
  type DecodeOptions,
  decode,
  double,
  type EncodeErrorCode,
  encode,
  encodedSize,
  encodeInto,
  encodeMessage,
  float,
  INFINITUM,
  type InferredArg,
  type Infinitum,
  inferTypetag,
  inferTypetags,
  int32,
  int64,
  isPattern,
  LIBLO_ERROR_NUMBERS,
  type LibloReport,
  libloReport,
  Marked,
  Message,
  type MessageTarget,
  Midi,
  matchPattern,
  NO_ARGS,
  NTP_UNIX_OFFSET,
  type NumericTypetag,
  type OscArg,
  OscDecodeError,
  OscEncodeError,
  OscError,
  OscPatternError,
  OscSymbol,
  Pattern,
  Rgba,
  routePathProblem,
  type SendArgs,
  type TargetArgs,
  TimeTag,
  type TypedPath,
  type Typespec,
  type Typetag,
  type TypetagValues,
  typespecString,
} from './codec/index.js';
export { type Advertisement, type AdvertiseOptions, advertise } from './oscquery/advertise.js';
export {
  type BrowseEvent,
  type BrowseOptions,
  type Browser,
  type BrowseStats,
  browse,
  type DiscoveredService,
} from './oscquery/browse.js';
export {
  type ChangesOptions,
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_MAX_NODES,
  DEFAULT_MAX_TREE_DEPTH,
  DEFAULT_QUERY_TIMEOUT,
  type NamespaceChange,
  type QueryOptions,
  queryNamespace,
  type RemoteAddressOptions,
  type RemoteNamespace,
  type StreamedValue,
} from './oscquery/client.js';
export type { RemoteStream, StreamOptions, StreamStats } from './oscquery/client-stream.js';
export { OscQueryError, type OscQueryErrorCode } from './oscquery/errors.js';
export { type DiscoveryErrorCode, OscDiscoveryError } from './oscquery/mdns-errors.js';
export { type OscQueryOptions, OscQueryServer } from './oscquery/server.js';
export { SERVICE_TYPES, type ServiceType } from './oscquery/service-types.js';
export type { Access, HostInfo, RangeEntry, RemoteNode, RemoteRange } from './oscquery/tree.js';
export {
  type LatenessStats,
  OscRecordingError,
  RECORDING_VERSION,
  type RecordedPacket,
  type Recorder,
  type RecorderStats,
  type RecordingErrorCode,
  type RecordingHeader,
  type RecordingSource,
  type RecordOptions,
  type Replayer,
  type ReplayOptions,
  type ReplayStats,
  readRecording,
  record,
  replay,
} from './record/index.js';
export type { DispatchOptions } from './server/defaults.js';
export type { DispatchEvents, DispatchStats } from './server/dispatch-report.js';
export {
  type OscErrorCode,
  OscOverflowError,
  OscRouteError,
  RouteError,
  type RouteErrorCode,
} from './server/errors.js';
export type { ServerEvents, ServerStats } from './server/events.js';
export { type Merged, merge } from './server/merge.js';
export type { ServerOptions } from './server/options.js';
export type { ForwardDisposer, PacketsOptions, ReceivedPacket } from './server/packets.js';
export {
  ANY_PATH,
  type AnyPath,
  type ArgRange,
  type ClipMode,
  type HandlerDisposer,
  type HandlerOptions,
  type Incoming,
  type NextOptions,
  type Received,
  Route,
  type RouteConstructor,
  type RouteInfo,
} from './server/route.js';
export { Server, type Started } from './server/server.js';
export {
  DEFAULT_HIGH_WATER_MARK,
  type OverflowPolicy,
  type SubscribeOptions,
  type Subscription,
} from './server/subscription.js';
export type { WaitOptions } from './transport/deadline.js';
export {
  ConnectionError,
  type ConnectionErrorCode,
  OscAbortError,
  OscClosedError,
  OscConfigError,
  OscConnectionError,
  OscSendError,
  OscStartError,
  OscTimeoutError,
  SendError,
  type SendErrorCode,
  StartError,
  type StartErrorCode,
  type SystemErrorDetail,
} from './transport/errors.js';
export type { FramingErrorCode } from './transport/framing.js';
export { udpPath } from './transport/native.js';
// a type only: what `server.forward()` sends to (an Address, a MultiCastAddress); not a base class to extend
export type { Sender } from './transport/sender.js';
export { formatUrl, type ParsedUrl, type Proto, parseUrl } from './transport/url.js';

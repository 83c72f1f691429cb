// aiolo/browser: the browser entry. A `Client` speaking OSC over a WebSocket (one packet per
// binary frame), with the routes, subscriptions and sending of the Node entry, and the codec.
// No Node imports anywhere below it (biome's noNodejsModules, and test/browser/entry.test.ts
// bundles it for the browser). What it exports is the Node-free part of `aiolo`, by name.

export type { ReplyArgs, ReplyAt, RequestOptions } from '../address/reply.js';
export * from '../codec/index.js';
export type { DispatchOptions } from '../server/defaults.js';
export type { DispatchEvents, DispatchStats } from '../server/dispatch-report.js';
export {
  type OscErrorCode,
  OscOverflowError,
  OscRouteError,
  RouteError,
  type RouteErrorCode,
} from '../server/errors.js';
export { type Merged, merge } from '../server/merge.js';
export type { PacketsOptions, ReceivedPacket } from '../server/packets.js';
export {
  ANY_PATH,
  type AnyPath,
  type HandlerDisposer,
  type HandlerOptions,
  type Incoming,
  type NextOptions,
  type Received,
  Route,
  type RouteConstructor,
} from '../server/route.js';
export {
  DEFAULT_HIGH_WATER_MARK,
  type OverflowPolicy,
  type SubscribeOptions,
  type Subscription,
} from '../server/subscription.js';
export type { WaitOptions } from '../transport/deadline.js';
export {
  OscAbortError,
  OscClosedError,
  OscSendError,
  OscTimeoutError,
  SendError,
  type SendErrorCode,
  type SystemErrorDetail,
} from '../transport/errors.js';
// a type only: what a message's `source` is (here, the Client itself); not a base class to extend
export type { Sender } from '../transport/sender.js';
export { Client, type ClientEvents, type ClientStats } from './client.js';
export type { ListenerDisposer } from './emitter.js';
export {
  type ClientOptions,
  DEFAULT_MAX_SEND_QUEUE_BYTES,
  DEFAULT_REQUEST_TIMEOUT,
  type ReconnectOptions,
} from './options.js';
export type { ClientState, CloseInfo } from './socket.js';
export { type SerialPortLike, type WebSerialOptions, webSerialClient } from './web-serial.js';
export type { MessageEventLike, WebSocketConstructor, WebSocketLike } from './websocket.js';

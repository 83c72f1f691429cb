// The public face of a route: what users call. The implementation (delivery to subscriptions, the
// servers it is routed on) is RouteImpl in route-impl.ts, not exported from the package.
import type { Received } from '../address/reply.js';
import type { ARGS, ArgsTarget } from '../codec/message.js';
import type { Pattern } from '../codec/pattern.js';
import type { AnyArgs, ArgsOf, Typespec } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';
import type { WaitOptions } from '../transport/deadline.js';
import type { AnyPath } from './any-path.js';
import { RouteImpl } from './route-impl.js';
import type { RouteInfo } from './route-info.js';
import type { SubscribeOptions, Subscription } from './subscription.js';

export type { Received } from '../address/reply.js';
export { ANY_PATH, type AnyPath } from './any-path.js';
export type { ArgRange, ClipMode, RouteInfo } from './route-info.js';

/** Options of {@link Route.next}: a timeout, a signal, and whether to resolve with the `Incoming` record. */
export interface NextOptions extends WaitOptions {
  /** Resolve with the {@link Incoming} record instead of the bare args. */
  readonly incoming?: boolean | undefined;
}

/** Options of {@link Route.on}: a subscription's, and where a handler's errors go. */
export interface HandlerOptions<A extends readonly OscArg[] = readonly OscArg[]>
  extends Omit<SubscribeOptions, 'incoming'> {
  /**
   * Called with what a handler threw or rejected with (and the message it was handling). Without
   * it, the error goes to the `'handlerError'` event of the servers the route is on.
   */
  readonly onError?: ((error: unknown, message: Incoming<A>) => void) | undefined;
}

/**
 * What {@link Route.on} returns: call it (or `using` it) to stop the handler at once, discarding
 * what is buffered. `closed` resolves when the handler has stopped and its last call has finished.
 */
export interface HandlerDisposer extends Disposable {
  (): void;
  /** Resolves when the handler has stopped and its last call has finished. */
  readonly closed: Promise<void>;
  /** The subscription feeding the handler (for `pending`, `dropped`). */
  readonly subscription: Subscription<unknown>;
}

/** What a subscription with `incoming: true` yields: a received message and the route it matched. */
export interface Incoming<A extends readonly OscArg[] = readonly OscArg[]> extends Received<A> {
  /** The route it matched; `args` and `typetags` are converted to that route's typespec. */
  readonly route: Route<A>;
}

/**
 * A path and a typespec to receive at, and the subscriptions that receive there. Make one with
 * `server.route(path, typespec)`, or `new Route(...)` and `server.route(route)` to share it between
 * servers (every server it is routed on delivers to its subscriptions). `Route<[bigint, number, Midi]>`
 * is the route of typespec `'hdm'`.
 */
export interface Route<A extends readonly OscArg[] = readonly OscArg[]> extends ArgsTarget<A> {
  /** The argument types, at compile time only (what `address.send(route, ...)` checks against). */
  readonly [ARGS]: A;
  /** The literal path (or, for `server.match()`, the pattern), or {@link ANY_PATH}. */
  readonly path: string | AnyPath;
  /** The typespec it was made with. */
  readonly typespec: Typespec;
  /** The typespec as a typetag string, or null for ANY_ARGS. */
  readonly typetags: string | null;
  /**
   * For a route made by `server.match()`: its compiled pattern, matched against the literal paths
   * that arrive. Undefined for literal routes.
   */
  readonly pattern: Pattern | undefined;
  /** Subscriptions currently receiving. */
  readonly subscriptions: number;
  /** What it says about itself to peers that ask (OSCQuery): range, description, unit... */
  readonly info: RouteInfo;

  /** Subscribe to what this route receives. With `incoming: true`, the items are {@link Incoming} records. */
  sub(options: SubscribeOptions & { readonly incoming: true }): Subscription<Incoming<A>, Route<A>>;
  /** Subscribe to what this route receives: its args, typed by the route's typespec. */
  sub(options?: SubscribeOptions & { readonly incoming?: false | undefined }): Subscription<A, Route<A>>;

  /**
   * The next message this route receives: its args, or with `incoming: true` its {@link Incoming}
   * record. Rejects with `OscTimeoutError` (`ERR_OSC_TIMEOUT`) after `timeout` ms, `OscAbortError`
   * (`ERR_OSC_ABORTED`) when `signal` aborts, `OscClosedError` (`ERR_OSC_CLOSED`) when every server
   * the route is on stops first. Nothing is buffered: a message that came before the call is not it.
   */
  next(options: NextOptions & { readonly incoming: true }): Promise<Incoming<A>>;
  /** The args of the next message this route receives (rejections as above). */
  next(options?: NextOptions & { readonly incoming?: false | undefined }): Promise<A>;

  /**
   * Calls `handler(args, incoming)` for each message, as a subscription would yield them (the same
   * options: `highWaterMark`, `overflow`, `signal`...): one call at a time, in arrival order; a
   * handler's promise is awaited before the next call. What a handler throws or rejects with goes
   * to `onError`, or else to the servers' `'handlerError'` event, and the handler goes on
   * receiving. Returns a disposer: calling it (or `using`) stops the handler.
   */
  on(handler: (args: A, message: Incoming<A>) => unknown, options?: HandlerOptions<A>): HandlerDisposer;

  /** `Route("/foo", "hdm")`, for messages and logs. */
  toString(): string;
}

/** The Route class, typed so that `new Route(path, typespec)` computes its argument types. */
export interface RouteConstructor {
  /** `new Route('/foo', 'hdm')` is a `Route<[bigint, number, Midi]>`; without a typespec, any arguments. */
  new <T extends Typespec = AnyArgs>(path: string | AnyPath, typespec?: T, info?: RouteInfo): Route<ArgsOf<T>>;
  readonly prototype: Route;
}

/** Makes a route to share between servers: `server.route(new Route('/foo', 'hdm'))`. */
export const Route = RouteImpl as RouteConstructor;

import { debuglog } from 'node:util';
import type { Address } from '../address/address.js';
import type { Received } from '../address/reply.js';
import { ARGS } from '../codec/message.js';
import { compilePattern, isPattern, type Pattern, pathSegments, routePathProblem } from '../codec/pattern.js';
import type { TimeTag } from '../codec/timetag.js';
import { ANY_ARGS, type AnyArgs, type ArgsOf, type Typespec, typespecString } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';
import { checkTimeout, type WaitOptions, withDeadline } from '../transport/deadline.js';
import { OscClosedError } from '../transport/errors.js';
import { RouteError } from './errors.js';
import { type Arrival, type SubscribeOptions, Subscription, type SubscriptionSink } from './subscription.js';

const debug = debuglog('aiolo');

/** @internal Marks a route made by `server.match()`: its path is a pattern matched against incoming paths. */
export const PATTERN_ROUTE: unique symbol = Symbol('aiolo.patternRoute');

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
  readonly closed: Promise<void>;
  /** The subscription feeding the handler (for `pending`, `dropped`). */
  readonly subscription: Subscription<unknown>;
}

/** Routes registered at ANY_PATH receive every message, whatever its path. */
export const ANY_PATH: unique symbol = Symbol.for('aiolo.ANY_PATH');
export type AnyPath = typeof ANY_PATH;

export type { Received } from '../address/reply.js';

/** What a subscription with `incoming: true` yields: a received message and the route it matched. */
export interface Incoming<A extends readonly OscArg[] = readonly OscArg[]> extends Received<A> {
  readonly route: Route<A>;
}

/** @internal How a server hands a message to a route. */
export interface Delivery extends Arrival {
  readonly path: string;
  readonly typetags: string;
  readonly args: readonly OscArg[];
  readonly timetag: TimeTag;
  readonly source: Address;
}

class IncomingRecord<A extends readonly OscArg[]> implements Incoming<A> {
  readonly route: Route<A>;
  readonly #delivery: Delivery;
  readonly args: A;
  readonly typetags: string;
  constructor(route: Route<A>, delivery: Delivery, args: A, typetags: string) {
    this.route = route;
    this.#delivery = delivery;
    this.args = args;
    this.typetags = typetags;
  }
  get path(): string {
    return this.#delivery.path;
  }
  get timetag(): TimeTag {
    return this.#delivery.timetag;
  }
  get source(): Address {
    return this.#delivery.source;
  }
}

/**
 * A path and a typespec to receive at, and the subscriptions that receive there. Make one with
 * `server.route(path, typespec)`, or `new Route(...)` and `server.route(route)` to share it between
 * servers (every server it is routed on delivers to its subscriptions).
 */
class RouteClass<A extends readonly OscArg[] = readonly OscArg[]> {
  declare readonly [ARGS]: A;
  readonly path: string | AnyPath;
  readonly typespec: Typespec;
  /** The typespec as a typetag string, or null for ANY_ARGS. */
  readonly typetags: string | null;
  /** The path split into segments, for pattern matching; empty for ANY_PATH. */
  readonly segments: readonly string[];
  /**
   * For a route made by `server.match()`: its compiled pattern, matched against the literal paths
   * that arrive. Undefined for literal routes.
   */
  readonly pattern: Pattern | undefined;
  readonly #subs = new Set<SubscriptionSink>();
  readonly #servers = new Set<object>();
  /** @internal Set by servers: reports messages a subscription dropped. */
  readonly dropListeners = new Set<(sub: Subscription<unknown>, dropped: number) => void>();
  /** @internal Set by servers: reports what a handler threw; returns whether a user listened. */
  readonly errorListeners = new Set<(error: unknown, message: Incoming) => boolean>();

  constructor(path: string | AnyPath, typespec: Typespec = ANY_ARGS, kind?: typeof PATTERN_ROUTE) {
    let pattern: Pattern | undefined;
    if (kind === PATTERN_ROUTE) {
      if (typeof path !== 'string' || path.charCodeAt(0) !== 0x2f || path.includes('\0')) {
        throw new RouteError('ERR_OSC_INVALID_ROUTE', `a pattern route's pattern starts with "/": ${String(path)}`);
      }
      try {
        pattern = compilePattern(path);
      } catch (err) {
        throw new RouteError('ERR_OSC_INVALID_ROUTE', (err as Error).message);
      }
    } else if (path !== ANY_PATH) {
      const problem = routePathProblem(path);
      if (problem !== undefined) {
        const hint =
          typeof path === 'string' && isPattern(path)
            ? `; server.match(${JSON.stringify(path)}) receives every message whose path matches it`
            : '';
        throw new RouteError('ERR_OSC_INVALID_ROUTE', problem + hint);
      }
    }
    this.pattern = pattern;
    try {
      this.typetags = typespecString(typespec);
    } catch (err) {
      throw new RouteError('ERR_OSC_INVALID_ROUTE', (err as Error).message);
    }
    this.path = path;
    this.typespec = typespec;
    this.segments = path === ANY_PATH ? [] : pathSegments(path);
  }

  /** Subscribe to what this route receives. With `incoming: true`, the items are {@link Incoming} records. */
  sub(options: SubscribeOptions & { readonly incoming: true }): Subscription<Incoming<A>, Route<A>>;
  sub(options?: SubscribeOptions & { readonly incoming?: false | undefined }): Subscription<A, Route<A>>;
  sub(options: SubscribeOptions = {}): Subscription<A | Incoming<A>, Route<A>> {
    const sub = new Subscription<A | Incoming<A>, Route<A>>(
      this,
      options,
      (s) => this.#subs.delete(s),
      (s, dropped) => {
        for (const listener of this.dropListeners) listener(s, dropped);
      },
    );
    if (!sub.done) this.#subs.add(sub);
    return sub;
  }

  /** Subscriptions currently receiving. */
  get subscriptions(): number {
    return this.#subs.size;
  }

  /**
   * @internal Hands a message (already converted to this route's typetags) to every subscription;
   * returns whether there was any.
   */
  deliver(delivery: Delivery, args: readonly OscArg[], typetags: string): boolean {
    if (this.#subs.size === 0) return false;
    let record: IncomingRecord<A> | undefined;
    for (const sub of this.#subs) {
      if (sub.incoming) {
        record ??= new IncomingRecord(this, delivery, args as A, typetags);
        sub.push(record as never, delivery);
      } else {
        sub.push(args as never, delivery);
      }
    }
    return true;
  }

  /** @internal A server this route is routed on started (true) or stopped/unrouted (false). */
  serving(server: object, running: boolean): void {
    if (running) {
      this.#servers.add(server);
      return;
    }
    if (!this.#servers.delete(server) || this.#servers.size > 0) return;
    // no server delivers here any more: end every subscription after what it has buffered
    for (const sub of [...this.#subs]) sub.end();
  }

  /**
   * The next message this route receives: its args, or with `incoming: true` its {@link Incoming}
   * record. Rejects with `OscTimeoutError` (`ERR_OSC_TIMEOUT`) after `timeout` ms, `OscAbortError`
   * (`ERR_OSC_ABORTED`) when `signal` aborts, `OscClosedError` (`ERR_OSC_CLOSED`) when every server
   * the route is on stops first. Nothing is buffered: a message that came before the call is not it.
   */
  next(options: NextOptions & { readonly incoming: true }): Promise<Incoming<A>>;
  next(options?: NextOptions & { readonly incoming?: false | undefined }): Promise<A>;
  next(options: NextOptions = {}): Promise<A | Incoming<A>> {
    try {
      checkTimeout(options.timeout);
    } catch (err) {
      return Promise.reject(err);
    }
    const once = new OneShot<A | Incoming<A>>(options.incoming === true, (s) => this.#subs.delete(s), String(this));
    this.#subs.add(once);
    return withDeadline(once.promise, options, `${this}.next()`, () => once.end());
  }

  /**
   * Calls `handler(args, incoming)` for each message, as a subscription would yield them (the same
   * options: `highWaterMark`, `overflow`, `signal`...): one call at a time, in arrival order; a
   * handler's promise is awaited before the next call. What a handler throws or rejects with goes
   * to `onError`, or else to the servers' `'handlerError'` event, and the handler goes on
   * receiving. Returns a disposer: calling it (or `using`) stops the handler.
   */
  on(handler: (args: A, message: Incoming<A>) => unknown, options: HandlerOptions<A> = {}): HandlerDisposer {
    const { onError, ...subscribe } = options;
    const sub = this.sub({ ...subscribe, incoming: true });
    let warned = false;
    const report = (error: unknown, message: Incoming<A>): void => {
      let listened = false;
      try {
        if (onError !== undefined) {
          onError(error, message);
          return;
        }
        for (const listener of this.errorListeners) listened = listener(error, message as Incoming) || listened;
      } catch (err) {
        debug('an error handler threw: %s', String(err));
        return;
      }
      debug('a handler of %s threw: %s', String(this), String(error));
      if (!listened && !warned) {
        warned = true; // once per handler: a failing handler at a thousand messages a second must not flood
        process.emitWarning(
          `a handler of ${this} threw (${String(error)}); listen to the server's 'handlerError' event or pass onError`,
          { code: 'AIOLO_HANDLER_ERROR' },
        );
      }
    };
    const run = async (): Promise<void> => {
      try {
        for await (const message of sub) {
          try {
            const result = handler(message.args, message);
            if (isThenable(result)) await result;
          } catch (err) {
            report(err, message);
          }
        }
      } catch (err) {
        // overflow: 'error' ends the iteration with OscOverflowError
        debug('a handler of %s stopped: %s', String(this), String(err));
      }
    };
    const closed = run();
    const disposer = (() => {
      void sub.return();
    }) as HandlerDisposer & { closed: Promise<void>; subscription: Subscription<unknown> };
    disposer.closed = closed;
    disposer.subscription = sub as Subscription<unknown>;
    disposer[Symbol.dispose] = disposer;
    return disposer;
  }

  toString(): string {
    const p = this.path === ANY_PATH ? 'ANY_PATH' : JSON.stringify(this.path);
    const t = this.typetags === null ? 'ANY_ARGS' : JSON.stringify(this.typetags);
    return `Route(${p}, ${t})`;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** What `route.next()` waits with: a sink that takes one message, then leaves. */
class OneShot<T> implements SubscriptionSink {
  readonly incoming: boolean;
  readonly promise: Promise<T>;
  #done = false;
  #resolve!: (value: T) => void;
  #reject!: (err: unknown) => void;
  readonly #leave: (sink: SubscriptionSink) => void;
  readonly #what: string;

  constructor(incoming: boolean, leave: (sink: SubscriptionSink) => void, what: string) {
    this.incoming = incoming;
    this.#leave = leave;
    this.#what = what;
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get done(): boolean {
    return this.#done;
  }

  push(item: never): void {
    if (this.#done) return;
    this.#done = true;
    this.#leave(this);
    this.#resolve(item as T);
  }

  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#leave(this);
    this.#reject(new OscClosedError(`${this.#what}: no server delivers to the route any more`));
  }
}

/** A route whose subscriptions yield `A`: `Route<[bigint, number, Midi]>` for typespec `'hdm'`. */
export type Route<A extends readonly OscArg[] = readonly OscArg[]> = RouteClass<A>;

interface RouteConstructor {
  /** `new Route('/foo', 'hdm')` is a `Route<[bigint, number, Midi]>`; without a typespec, any arguments. */
  new <T extends Typespec = AnyArgs>(path: string | AnyPath, typespec?: T): RouteClass<ArgsOf<T>>;
  readonly prototype: RouteClass;
}

/** The Route class, typed so that `new Route(path, typespec)` computes its argument types. */
export const Route = RouteClass as RouteConstructor;

/** @internal A route whose path is a pattern matched against incoming literal paths (`server.match`). */
export function patternRoute(pattern: string, typespec: Typespec | undefined): Route {
  return new RouteClass(pattern, typespec, PATTERN_ROUTE);
}

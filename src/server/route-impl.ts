// The implementation of a Route: what a server hands messages to, and what makes a route's
// subscriptions. Not exported from the package: users see the Route interface (route.ts).
import { ARGS } from '../codec/message.js';
import { compilePattern, isPattern, type Pattern, pathSegments, routePathProblem } from '../codec/pattern.js';
import type { TimeTag } from '../codec/timetag.js';
import { ANY_ARGS, type Typespec, typespecString } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';
import { checkTimeout, withDeadline } from '../transport/deadline.js';
import { OscClosedError } from '../transport/errors.js';
import type { Sender } from '../transport/sender.js';
import { ANY_PATH, type AnyPath } from './any-path.js';
import type { Arrival, Delivery } from './delivery.js';
import { RouteError } from './errors.js';
import { debug, warn } from './log.js';
import type { HandlerDisposer, HandlerOptions, Incoming, NextOptions, Route } from './route.js';
import type { RouteInfo } from './route-info.js';
import type { SubscribeOptions, Subscription } from './subscription.js';
import { type Sink, SubscriptionImpl } from './subscription-impl.js';

/** @internal Marks a route made by `server.match()`: its path is a pattern matched against incoming paths. */
export const PATTERN_ROUTE: unique symbol = Symbol('aiolo.patternRoute');

/**
 * What a route hands its subscribers: bare args to some, `Incoming` records to others (and to
 * `next()`'s one-shot waiters, either). `incoming` tells which, so no cast is needed.
 */
type RouteSink<A extends readonly OscArg[]> = Sink<A, false> | Sink<Incoming<A>, true>;

/**
 * The public record of a message as one route received it: the route's converted args and
 * typetags, the rest read from the shared {@link Delivery} (made once per message, for every
 * route), so that the reply address is still made only if someone asks for it.
 */
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
  get source(): Sender {
    return this.#delivery.source;
  }
}

/**
 * @internal The implementation of {@link Route}; what servers hold and deliver to. A route may be
 * on several servers at once (`server.route(route)`): every one of them delivers to its subscriptions.
 */
export class RouteImpl<A extends readonly OscArg[] = readonly OscArg[]> implements Route<A> {
  declare readonly [ARGS]: A;
  readonly path: string | AnyPath;
  readonly typespec: Typespec;
  readonly typetags: string | null;
  /** The path split into segments, for pattern matching; empty for ANY_PATH. */
  readonly segments: readonly string[];
  readonly pattern: Pattern | undefined;
  /** Set when made, and by `server.route(path, typespec, info)` again. */
  info: RouteInfo;
  readonly #subs = new Set<RouteSink<A>>();
  readonly #servers = new Set<object>();
  /** Set by servers: reports messages a subscription dropped. */
  readonly dropListeners = new Set<(sub: Subscription<unknown>, dropped: number) => void>();
  /** Set by servers: reports what a handler threw; returns whether a user listened. */
  readonly errorListeners = new Set<(error: unknown, message: Incoming) => boolean>();

  constructor(
    path: string | AnyPath,
    typespec: Typespec = ANY_ARGS,
    info: RouteInfo = {},
    kind?: typeof PATTERN_ROUTE,
  ) {
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
    this.info = info;
    try {
      this.typetags = typespecString(typespec);
    } catch (err) {
      throw new RouteError('ERR_OSC_INVALID_ROUTE', (err as Error).message);
    }
    this.path = path;
    this.typespec = typespec;
    this.segments = path === ANY_PATH ? [] : pathSegments(path);
  }

  sub(options: SubscribeOptions & { readonly incoming: true }): Subscription<Incoming<A>, Route<A>>;
  sub(options?: SubscribeOptions & { readonly incoming?: false | undefined }): Subscription<A, Route<A>>;
  sub(options: SubscribeOptions = {}): Subscription<A | Incoming<A>, Route<A>> {
    return options.incoming === true
      ? this.#add(new SubscriptionImpl<Incoming<A>, Route<A>, true>(this, options, this.#leave, this.#dropped))
      : this.#add(new SubscriptionImpl<A, Route<A>, false>(this, options, this.#leave, this.#dropped));
  }

  #add<S extends RouteSink<A>>(sink: S): S {
    if (!sink.done) this.#subs.add(sink);
    return sink;
  }

  readonly #leave = (sink: RouteSink<A>): void => {
    this.#subs.delete(sink);
  };

  readonly #dropped = (sub: Subscription<unknown>, dropped: number): void => {
    for (const listener of this.dropListeners) listener(sub, dropped);
  };

  get subscriptions(): number {
    return this.#subs.size;
  }

  /**
   * Hands a message (already converted to this route's typetags by the server) to every
   * subscription; returns whether there was any. Bare args go as they are (to a waiting consumer
   * without buffering); one `Incoming` record is made for all the subscriptions that want one.
   */
  deliver(delivery: Delivery, args: A, typetags: string): boolean {
    if (this.#subs.size === 0) return false;
    let record: IncomingRecord<A> | undefined;
    for (const sub of this.#subs) {
      if (sub.incoming) {
        record ??= new IncomingRecord(this, delivery, args, typetags);
        sub.push(record, delivery);
      } else {
        sub.push(args, delivery);
      }
    }
    return true;
  }

  /** A server this route is routed on started (true) or stopped/unrouted (false). */
  serving(server: object, running: boolean): void {
    if (running) {
      this.#servers.add(server);
      return;
    }
    if (!this.#servers.delete(server) || this.#servers.size > 0) return;
    // no server delivers here any more: end every subscription after what it has buffered
    for (const sub of [...this.#subs]) sub.end();
  }

  next(options: NextOptions & { readonly incoming: true }): Promise<Incoming<A>>;
  next(options?: NextOptions & { readonly incoming?: false | undefined }): Promise<A>;
  next(options: NextOptions = {}): Promise<A | Incoming<A>> {
    try {
      checkTimeout(options.timeout);
    } catch (err) {
      return Promise.reject(err);
    }
    const what = String(this);
    const once =
      options.incoming === true
        ? this.#add(new OneShot<Incoming<A>, true>(true, this.#leave, what))
        : this.#add(new OneShot<A, false>(false, this.#leave, what));
    return withDeadline<A | Incoming<A>>(once.promise, options, `${what}.next()`, () => once.end());
  }

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
        warn(
          `a handler of ${this} threw (${String(error)}); listen to the server's 'handlerError' event or pass onError`,
          'AIOLO_HANDLER_ERROR',
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
class OneShot<T, I extends boolean> implements Sink<T, I> {
  readonly incoming: I;
  readonly promise: Promise<T>;
  #done = false;
  #resolve!: (value: T) => void;
  #reject!: (err: unknown) => void;
  readonly #leave: (sink: OneShot<T, I>) => void;
  readonly #what: string;

  constructor(incoming: I, leave: (sink: OneShot<T, I>) => void, what: string) {
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

  push(item: T, _from: Arrival): void {
    if (this.#done) return;
    this.#done = true;
    this.#leave(this);
    this.#resolve(item);
  }

  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#leave(this);
    this.#reject(new OscClosedError(`${this.#what}: no server delivers to the route any more`));
  }
}

/** @internal A route whose path is a pattern matched against incoming literal paths (`server.match`). */
export function patternRoute(pattern: string, typespec: Typespec | undefined, info?: RouteInfo): RouteImpl {
  return new RouteImpl(pattern, typespec, info, PATTERN_ROUTE);
}

import type { Address } from '../address/address.js';
import { ARGS } from '../codec/message.js';
import { pathSegments, routePathProblem } from '../codec/pattern.js';
import type { TimeTag } from '../codec/timetag.js';
import { ANY_ARGS, type AnyArgs, type ArgsOf, type Typespec, typespecString } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';
import { RouteError } from './errors.js';
import { type Arrival, type SubscribeOptions, Subscription, type SubscriptionSink } from './subscription.js';

/** Routes registered at ANY_PATH receive every message, whatever its path. */
export const ANY_PATH: unique symbol = Symbol.for('aiolo.ANY_PATH');
export type AnyPath = typeof ANY_PATH;

/** A message as it arrived: the path sent (perhaps a pattern), its typetags and args, its timetag, and who sent it. */
export interface Received<A extends readonly OscArg[] = readonly OscArg[]> {
  readonly path: string;
  readonly typetags: string;
  readonly args: A;
  /** The bundle's timetag for bundled messages; {@link TimeTag.IMMEDIATE} for plain ones. */
  readonly timetag: TimeTag;
  /** Replies to the sender over the same transport: the same TCP connection, or from the server's UDP port. */
  readonly source: Address;
}

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
  readonly #subs = new Set<SubscriptionSink>();
  readonly #servers = new Set<object>();
  /** @internal Set by servers: reports messages a subscription dropped. */
  readonly dropListeners = new Set<(sub: Subscription<unknown>, dropped: number) => void>();

  constructor(path: string | AnyPath, typespec: Typespec = ANY_ARGS) {
    if (path !== ANY_PATH) {
      const problem = routePathProblem(path);
      if (problem !== undefined) throw new RouteError('ERR_OSC_INVALID_ROUTE', problem);
    }
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

  /** @internal Hands a message (already converted to this route's typetags) to every subscription. */
  deliver(delivery: Delivery, args: readonly OscArg[], typetags: string): void {
    let record: IncomingRecord<A> | undefined;
    for (const sub of this.#subs) {
      if (sub.incoming) {
        record ??= new IncomingRecord(this, delivery, args as A, typetags);
        sub.push(record as never, delivery);
      } else {
        sub.push(args as never, delivery);
      }
    }
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

  toString(): string {
    const p = this.path === ANY_PATH ? 'ANY_PATH' : JSON.stringify(this.path);
    const t = this.typetags === null ? 'ANY_ARGS' : JSON.stringify(this.typetags);
    return `Route(${p}, ${t})`;
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

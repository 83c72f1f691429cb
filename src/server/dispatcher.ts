// The dispatch core of a server, and of a browser's connection: the routing table, the timetag
// schedule, and what is done with each packet — decoded, tapped, dispatched or scheduled, each
// message offered to the routes it matches. No Node imports: the browser entry runs it as it is.
// Where packets come from and how a reply goes back is the owner's (an `Origin` it defines).
import { Bundle } from '../codec/bundle.js';
import { type DecodeOptions, decode } from '../codec/decode.js';
import { OscDecodeError } from '../codec/errors.js';
import type { Message } from '../codec/message.js';
import { isPattern } from '../codec/pattern.js';
import { TimeTag } from '../codec/timetag.js';
import { type AnyArgs, type ArgsOf, type Typespec, typespecString } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';
import type { Dispatched } from '../transport/link.js';
import type { PreciseTimers } from '../transport/native.js';
import type { Sender } from '../transport/sender.js';
import { messageBytes } from './bytes.js';
import { canCoerce, coerceArgs } from './coerce.js';
import type { Delivery, Holdable } from './delivery.js';
import type { DispatchStats } from './dispatch-report.js';
import { RouteError } from './errors.js';
import { debug, rethrowLater } from './log.js';
import type { PacketsOptions, ReceivedPacket } from './packets.js';
import { type AnyPath, type Incoming, type Received, Route } from './route.js';
import { patternRoute, RouteImpl } from './route-impl.js';
import type { RouteInfo } from './route-info.js';
import { RouteTable } from './routing.js';
import { Scheduler } from './scheduler.js';
import type { Subscription } from './subscription.js';
import { PacketTaps, type Watcher, Watchers } from './taps.js';

// Arrival order across every dispatcher in the process, so that merge() can interleave routes of
// different servers as their messages came.
let seq = 0;
function nextSeq(): number {
  return seq++;
}

/** Limits of the dispatch (a server's options, resolved). */
export interface DispatchLimits extends DecodeOptions {
  readonly queue: boolean;
  readonly coerce: boolean;
  readonly maxQueued: number;
  readonly maxQueuedBytes: number;
  /** Seconds ahead a bundle may be timed. */
  readonly maxScheduleAhead: number;
  readonly maxPatternSteps: number;
}

/** What a dispatcher asks of its owner: where replies go, and its events. */
export interface DispatchHost<O> {
  /** The record of a message from `origin`: its reply address made on first use. */
  delivery(message: Message, timetag: TimeTag, origin: O, seq: number): Delivery & Dispatched;
  /** The reply address of a packet from `origin`. */
  source(origin: O): Sender;
  /** What can stop reading for a while (`overflow: 'pause'`): the connection a packet came on. */
  holdable(origin: O): Holdable | undefined;
  /**
   * Whether a message from `origin` whose path ends in `/` and that no route took is answered with
   * the names under it (liblo's namespace enumeration, which liblo does over UDP only).
   */
  enumerates(origin: O): boolean;
  /** Whether anyone listens for `event` (a record is made only then). */
  listens(event: 'unmatched' | 'scheduleOverflow'): boolean;
  malformed(error: OscDecodeError, origin: O, packet: Uint8Array): void;
  unmatched(message: Received): void;
  scheduleOverflow(message: Received, reason: 'full' | 'horizon'): void;
  overflow(sub: Subscription<unknown>, dropped: number): void;
  /** A handler threw; returns whether a user listened. */
  handlerError(error: unknown, message: Incoming): boolean;
}

interface Scheduled<O> {
  readonly message: Message;
  readonly origin: O;
  readonly bytes: number;
}

export class Dispatcher<O> {
  readonly #routes = new RouteTable();
  readonly stats: DispatchStats;
  readonly #limits: DispatchLimits;
  readonly #host: DispatchHost<O>;
  readonly #scheduler: Scheduler<Scheduled<O>>;
  readonly #onDrop = (sub: Subscription<unknown>, dropped: number): void => {
    this.stats.overflowed++;
    this.#host.overflow(sub, dropped);
  };
  readonly #onHandlerError = (error: unknown, message: Incoming): boolean => {
    this.stats.handlerErrors++;
    return this.#host.handlerError(error, message);
  };
  /** What waits for a reply at a path (`address.request` sending from the owner). */
  readonly #watchers = new Watchers();
  readonly #taps = new PacketTaps(this.#onDrop);
  /** Whether the message being dispatched reached a consumer. */
  #consumed = false;
  /**
   * Whether what arrives is dispatched: the owner sets it from the moment its transport can
   * receive (before `start()` resolves) until it stops.
   */
  accepting = false;
  #serving = false;

  /** `timers`: what the schedule waits with, where finer than setTimeout (a server's, in Node). */
  constructor(limits: DispatchLimits, stats: DispatchStats, host: DispatchHost<O>, timers?: PreciseTimers) {
    this.#limits = limits;
    this.stats = stats;
    this.#host = host;
    this.#scheduler = new Scheduler(
      (item, timetag) => {
        this.stats.queued = this.#scheduler.pending;
        this.stats.queuedBytes -= item.bytes;
        this.#dispatch(item.message, timetag, item.origin);
      },
      rethrowLater,
      timers,
    );
  }

  /** The routes registered, in registration order. */
  get routes(): readonly Route<readonly OscArg[]>[] {
    return [...this.#routes.all];
  }

  get pending(): number {
    return this.#scheduler.pending;
  }

  /** Seconds until the next bundled message is due (0 if overdue; 100 at most, and when none is). */
  get nextEventDelay(): number {
    return this.#scheduler.nextDelay();
  }

  // ---- routes

  /** Routes registered so far (an added route makes it grow: how an owner tells a new one). */
  get size(): number {
    return this.#routes.all.size;
  }

  route(
    target: string | AnyPath | Route<readonly OscArg[]>,
    typespec?: Typespec,
    info?: RouteInfo,
  ): Route<readonly OscArg[]> {
    let route: RouteImpl;
    if (target instanceof Route) {
      if (typespec !== undefined) throw new RouteError('ERR_OSC_INVALID_ROUTE', 'a Route has its own typespec');
      route = target as RouteImpl; // Route is RouteImpl's public face: every Route is a RouteImpl
    } else {
      const candidate = new RouteImpl(target, typespec, info);
      const existing = this.#routes.find(candidate.path, candidate.typetags);
      if (existing !== undefined) {
        if (info !== undefined) existing.info = info; // the latest description wins
        return existing;
      }
      route = candidate;
    }
    if (!this.#routes.add(route)) return route;
    route.dropListeners.add(this.#onDrop);
    route.errorListeners.add(this.#onHandlerError);
    if (this.#serving) route.serving(this, true);
    return route;
  }

  match<T extends Typespec = AnyArgs>(pattern: string, typespec?: T, info?: RouteInfo): Route<ArgsOf<T>>;
  match(pattern: string, typespec?: Typespec, info?: RouteInfo): Route {
    const candidate = patternRoute(pattern, typespec, info);
    const existing = this.#routes.find(pattern, candidate.typetags, true);
    if (existing !== undefined && info !== undefined) existing.info = info;
    return existing ?? this.route(candidate);
  }

  unroute(target: Route<readonly OscArg[]> | string | AnyPath, typespec?: Typespec): Route<readonly OscArg[]> {
    const route =
      target instanceof Route
        ? this.#routes.all.has(target as RouteImpl)
          ? (target as RouteImpl)
          : undefined
        : this.#routes.find(target, typespec === undefined ? null : typespecString(typespec));
    if (route === undefined) throw new RouteError('ERR_OSC_NOT_ROUTED', `${String(target)} is not routed here`);
    this.#routes.remove(route);
    route.dropListeners.delete(this.#onDrop);
    route.errorListeners.delete(this.#onHandlerError);
    route.serving(this, false);
    return route;
  }

  /** Shows `watcher` each message dispatched at `path` until the returned function is called. */
  watch(path: string, watcher: Watcher): () => void {
    return this.#watchers.watch(path, watcher);
  }

  packets(options: PacketsOptions): Subscription<ReceivedPacket, null> {
    return this.#taps.subscribe(options);
  }

  // ---- lifecycle

  /** The owner started, or stopped: the schedule is dropped, and subscriptions end after what they hold. */
  serving(running: boolean): void {
    this.#serving = running;
    if (!running) {
      this.#scheduler.clear();
      this.stats.queued = 0;
      this.stats.queuedBytes = 0;
    }
    for (const route of this.#routes.all) route.serving(this, running);
    if (!running) this.#taps.end();
  }

  // ---- receiving

  /** Every packet comes in here: decoded, then dispatched or scheduled. Never throws. */
  packet(packet: Uint8Array, origin: O): void {
    if (!this.accepting) return;
    this.stats.packets++;
    if (packet.length === 0) return; // liblo ignores empty datagrams too
    let decoded: Message | Bundle;
    try {
      decoded = decode(packet, this.#limits);
    } catch (err) {
      if (err instanceof OscDecodeError) this.malformed(err, origin, packet);
      else debug('unexpected decode failure: %s', String(err)); // never thrown, by the decoder's contract
      return;
    }
    if (this.#taps.size > 0) {
      this.#taps.push(packet, decoded, () => this.#host.source(origin), this.#host.holdable(origin), nextSeq());
    }
    try {
      // the clock is read only when a bundle or a waiting schedule needs it
      const now = decoded instanceof Bundle || this.#scheduler.pending > 0 ? TimeTag.now() : undefined;
      // what became due before this packet arrived goes first, even if the timer has not fired yet
      if (now !== undefined && this.#scheduler.pending > 0) this.#scheduler.runDue(now);
      if (decoded instanceof Bundle) this.#bundle(decoded, origin, now as TimeTag);
      else this.#dispatch(decoded, TimeTag.IMMEDIATE, origin);
    } catch (err) {
      // a user's 'unmatched' or 'overflow' listener threw: keep serving
      rethrowLater(err);
    }
  }

  /** A packet (or frame) that is not valid OSC: counted, and reported by the owner. */
  malformed(error: OscDecodeError, origin: O, packet: Uint8Array): void {
    this.stats.malformed++;
    debug('malformed packet: %s', error.message);
    try {
      this.#host.malformed(error, origin, packet);
    } catch (err) {
      rethrowLater(err);
    }
  }

  // ---- scheduling

  #bundle(bundle: Bundle, origin: O, now: TimeTag): void {
    const tt = bundle.timetag;
    const immediate = tt.isImmediate || tt.compare(now) <= 0 || !this.#limits.queue;
    for (const element of bundle.elements) {
      if (element instanceof Bundle) {
        this.#bundle(element, origin, now); // a nested bundle keeps its own timetag
      } else if (immediate) {
        this.#dispatch(element, tt, origin);
      } else {
        this.#schedule(element, tt, origin, now);
      }
    }
  }

  #schedule(message: Message, timetag: TimeTag, origin: O, now: TimeTag): void {
    const c = this.#limits;
    const bytes = messageBytes(message.path, message.typetags, message.args);
    const reason =
      this.#scheduler.pending >= c.maxQueued || this.stats.queuedBytes + bytes > c.maxQueuedBytes
        ? 'full'
        : timetag.diff(now) > c.maxScheduleAhead
          ? 'horizon'
          : undefined;
    if (reason !== undefined) {
      this.stats.messages++;
      this.stats.queueDropped++;
      if (this.#host.listens('scheduleOverflow')) {
        this.#host.scheduleOverflow(this.#host.delivery(message, timetag, origin, nextSeq()), reason);
      }
      return;
    }
    // the reply path is fixed now: liblo 0.31 resolves it at dispatch, from whoever sent last
    this.#scheduler.add(timetag, { message, origin, bytes });
    this.stats.queued = this.#scheduler.pending;
    this.stats.queuedBytes += bytes;
  }

  // ---- dispatch

  #dispatch(message: Message, timetag: TimeTag, origin: O): void {
    if (!this.accepting) return;
    this.stats.messages++;
    this.#consumed = false;
    const path = message.path;
    const routes = this.#routes;
    let delivery: (Delivery & Dispatched) | undefined;
    // routes made by match() whose pattern matches this (literal) path; found before any delivery,
    // so that a path too costly to match reaches no route at all
    let byPattern: RouteImpl[] | undefined;
    if (routes.patterns.length > 0) {
      const found = routes.byRoutePattern(path, this.#limits.maxPatternSteps);
      if (typeof found === 'string') {
        this.#tooCostly(found, origin);
        return;
      }
      byPattern = found;
    }
    const direct = routes.literal.get(path);
    if (direct !== undefined) {
      for (const route of direct) delivery = this.#offer(route, message, timetag, origin, delivery);
    } else if (routes.literal.size > 0 && isPattern(path)) {
      // (a pattern can only match literal routes: a table with none skips the scan)
      const matched = routes.byIncomingPattern(path, this.#limits.maxPatternSteps);
      if (typeof matched === 'string') {
        this.#tooCostly(matched, origin); // delivered nowhere
        return;
      }
      for (const list of matched) {
        for (const route of list) delivery = this.#offer(route, message, timetag, origin, delivery);
      }
    }
    if (byPattern !== undefined) {
      for (const route of byPattern) delivery = this.#offer(route, message, timetag, origin, delivery);
    }
    for (const route of routes.anyPath) delivery = this.#offer(route, message, timetag, origin, delivery);
    if (this.#watchers.size > 0) {
      const watchers = this.#watchers.get(path);
      if (watchers !== undefined) {
        const d = delivery ?? this.#host.delivery(message, timetag, origin, nextSeq());
        for (const watcher of watchers) {
          if (watcher(d)) {
            delivery = d;
            this.#consumed = true;
            break;
          }
        }
      }
    }
    if (delivery !== undefined) {
      if (this.#consumed) this.stats.dispatched++;
      else {
        this.stats.unconsumed++;
        debug('a message to %s reached routes without subscribers', path);
      }
    } else {
      this.stats.unmatched++;
      if (path.endsWith('/') && this.#host.enumerates(origin)) this.#enumerate(message, origin);
      if (this.#host.listens('unmatched'))
        this.#host.unmatched(this.#host.delivery(message, timetag, origin, nextSeq()));
    }
  }

  /**
   * liblo 0.31's namespace enumeration: `/a/` (or `/a/ ,i N`) is answered with `#reply` and
   * `[N,] "/a/" child…`, the distinct next segments of the literal routes under `/a/`, in the order
   * they were registered. A reply that cannot be sent is only logged: the asker is not our peer.
   */
  #enumerate(message: Message, origin: O): void {
    const prefix = message.path;
    const depth = prefix.split('/').length - 1; // segments of `/a/` before the empty last one: 1
    const names = new Set<string>();
    for (const route of this.#routes.all) {
      if (route.pattern !== undefined || typeof route.path !== 'string' || !route.path.startsWith(prefix)) continue;
      const next = route.segments[depth - 1];
      if (next !== undefined && next !== '') names.add(next);
    }
    const echo = message.typetags === 'i' ? [message.args[0] as number] : [];
    this.#host
      .source(origin)
      .send('#reply', ...echo, prefix, ...names)
      .catch((err: unknown) => debug('namespace reply to %s failed: %s', prefix, String(err)));
  }

  /** A message whose path would cost more to match than one may: rejected whole, reported as malformed. */
  #tooCostly(what: string, origin: O): void {
    this.malformed(new OscDecodeError('ERR_OSC_PATTERN_TOO_COSTLY', 0, `${what}: rejected`), origin, new Uint8Array(0));
  }

  /** Delivers to `route` if the typetags fit (or coerce); returns the delivery record, made on first use. */
  #offer(
    route: RouteImpl,
    message: Message,
    timetag: TimeTag,
    origin: O,
    delivery: (Delivery & Dispatched) | undefined,
  ): (Delivery & Dispatched) | undefined {
    const want = route.typetags;
    const have = message.typetags;
    let args: readonly OscArg[] = message.args;
    if (want !== null && want !== have) {
      if (!this.#limits.coerce || !canCoerce(have, want)) return delivery;
      args = coerceArgs(message.args, have, want);
    }
    const d = delivery ?? this.#host.delivery(message, timetag, origin, nextSeq());
    if (route.deliver(d, args, want ?? have)) this.#consumed = true;
    return d;
  }
}

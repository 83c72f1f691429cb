// browse(): finds OSC and OSCQuery services by mDNS / DNS-SD and follows them. Records are taken
// from the Answers and the Additional sections alike (VRChat sends SRV and A in Additional), what
// is missing is asked for, a goodbye (TTL 0) or an expired TTL is 'down', and a new announcement
// after that is 'up' again. Everything held is bounded; a packet that multicast-dns cannot parse,
// or whose records are not what they claim, is counted and skipped.
import type { RemoteInfo } from 'node:dgram';
import type { Question } from 'dns-packet';
import type makeMdns from 'multicast-dns';
import { OscConfigError } from '../codec/errors.js';
import {
  closeMdns,
  debug,
  ipv4Interfaces,
  key,
  type Mdns,
  type MdnsInterface,
  mdnsSocket,
  openMdns,
  parseTxt,
  resolveInterface,
  section,
  sendQuery,
} from './mdns.js';
import { SERVICE_TYPES, type ServiceType } from './service-types.js';

/** A service found on the network, resolved: name, type, host, port, addresses and TXT. */
export interface DiscoveredService {
  /** The instance name (`VRChat-Client-ABC123`). */
  readonly name: string;
  readonly type: ServiceType;
  /** The SRV target (`host.local`). */
  readonly host: string;
  readonly port: number;
  /** Its IPv4 (A) and IPv6 (AAAA) addresses, sorted. */
  readonly addresses: readonly string[];
  /** Its TXT entries, keys in lower case (RFC 6763 §6.4: the first of a repeated key counts). */
  readonly txt: Readonly<Record<string, string>>;
}

/** What `browse()` yields: a service came up, changed, or went down. */
export interface BrowseEvent {
  /** `'up'`: resolved (SRV, an address); `'update'`: its port, host, addresses or TXT changed; `'down'`: gone. */
  readonly type: 'up' | 'down' | 'update';
  readonly service: DiscoveredService;
}

/** Options of `browse()`: what to look for, where, and its bounds. */
export interface BrowseOptions {
  /** The service types to look for (default all three: `_osc._udp`, `_osc._tcp`, `_oscjson._tcp`). */
  readonly types?: readonly ServiceType[] | undefined;
  /** Listen and ask on this interface only (a name, an IPv4 address or `'loopback'`); default every IPv4 interface. */
  readonly interface?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** At most this many services are followed (default 256); more are ignored and counted. */
  readonly maxServices?: number | undefined;
  /** Events waiting for the loop, at most (default 1024); beyond that the oldest are dropped and counted. */
  readonly highWaterMark?: number | undefined;
}

/** The counters of a browser: responses read, malformed packets, services over the limit, events dropped. */
export interface BrowseStats {
  /** mDNS responses read. */
  readonly responses: number;
  /** Packets multicast-dns could not parse, or records that were not what their type says. */
  readonly malformed: number;
  /** Services not followed because `maxServices` were. */
  readonly overLimit: number;
  /** Events dropped because the loop did not keep up. */
  readonly droppedEvents: number;
  /** Queries sent. */
  readonly queries: number;
}

/** The iteration; `stop()`, `break`, `return()` or the signal end it and close the socket. */
export interface Browser extends AsyncIterableIterator<BrowseEvent>, AsyncDisposable {
  /** The services that are up now. */
  services(): DiscoveredService[];
  readonly stats: BrowseStats;
  /** Resolves once the socket is bound and the first queries are sent (rejects with a StartError). */
  readonly ready: Promise<void>;
  /** Stops browsing and closes the socket; the iteration ends. Idempotent. */
  stop(): Promise<void>;
}

/** TXT data beyond this is not held (RFC 6763 §6.2: 1300 bytes fits a packet). */
const MAX_TXT_BYTES = 1300;
const MAX_ADDRESSES = 16;
const MAX_RESOLVE_QUERIES = 5;
const SWEEP_MS = 1000;
const FIRST_QUERY_INTERVAL_MS = 1000;
const MAX_QUERY_INTERVAL_MS = 3_600_000;

interface Entry {
  readonly instance: string; // its full name, as received
  readonly type: ServiceType;
  ptrExpires: number;
  ptrTtlMs: number;
  refreshed: boolean;
  srv: { target: string; port: number; expires: number } | undefined;
  txt: { value: Record<string, string>; expires: number } | undefined;
  up: DiscoveredService | undefined;
  lastAsked: number;
  asked: number;
}

/**
 * Browses for OSC (`_osc._udp`, `_osc._tcp`) and OSCQuery (`_oscjson._tcp`) services. Throws
 * OscConfigError for bad options; a socket that cannot bind rejects `ready` and the iteration with
 * a StartError.
 */
export function browse(options: BrowseOptions = {}): Browser {
  const types = options.types ?? SERVICE_TYPES;
  if (!Array.isArray(types) || types.length === 0 || types.some((t) => !SERVICE_TYPES.includes(t))) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `types must be some of ${SERVICE_TYPES.join(', ')}`);
  }
  const maxServices = options.maxServices ?? 256;
  const highWaterMark = options.highWaterMark ?? 1024;
  for (const [n, what] of [
    [maxServices, 'maxServices'],
    [highWaterMark, 'highWaterMark'],
  ] as const) {
    if (!Number.isInteger(n) || n < 1)
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `${what} must be a positive integer`);
  }
  const ifaces = options.interface === undefined ? ipv4Interfaces() : [resolveInterface(options.interface)];
  if (ifaces.length === 0)
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'this host has no IPv4 interface to browse on');
  return new BrowserImpl([...types], ifaces, maxServices, highWaterMark, options.signal);
}

class BrowserImpl implements Browser {
  readonly stats = { responses: 0, malformed: 0, overLimit: 0, droppedEvents: 0, queries: 0 };
  readonly ready: Promise<void>;
  readonly #types: ServiceType[];
  readonly #typeNames: Map<string, ServiceType>;
  readonly #ifaces: MdnsInterface[];
  readonly #max: number;
  readonly #hwm: number;
  readonly #entries = new Map<string, Entry>();
  /** host → address → expiry */
  readonly #addresses = new Map<string, Map<string, number>>();
  readonly #queue: BrowseEvent[] = [];
  #waiter: ((r: IteratorResult<BrowseEvent>) => void) | undefined;
  #failed: ((err: unknown) => void) | undefined;
  #error: unknown;
  #mdns: Mdns | undefined;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #browseTimer: NodeJS.Timeout | undefined;
  #browseInterval = FIRST_QUERY_INTERVAL_MS;
  #sending: Promise<void> = Promise.resolve();
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => {
    void this.stop();
  };

  constructor(
    types: ServiceType[],
    ifaces: MdnsInterface[],
    max: number,
    hwm: number,
    signal: AbortSignal | undefined,
  ) {
    this.#types = types;
    this.#typeNames = new Map(types.map((t) => [`${t}.local`, t]));
    this.#ifaces = ifaces;
    this.#max = max;
    this.#hwm = hwm;
    this.#signal = signal;
    if (signal?.aborted) {
      this.#stopped = true;
      this.ready = Promise.resolve();
      return;
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.ready = this.#start();
    this.ready.catch((err: unknown) => {
      this.#error = err;
      this.#finish();
    });
  }

  async #start(): Promise<void> {
    const mdns = await openMdns(this.#ifaces, this.#ifaces[0] as MdnsInterface);
    if (this.#stopped) {
      await closeMdns(mdns);
      return;
    }
    this.#mdns = mdns;
    mdns.on('warning', (err: Error) => {
      this.stats.malformed++;
      debug('mdns: %s', err.message);
    });
    mdns.on('response', (r: makeMdns.ResponsePacket, rinfo: RemoteInfo) => {
      this.stats.responses++;
      try {
        this.#onResponse(r);
      } catch (err) {
        this.stats.malformed++;
        debug('mdns: a response from %s could not be read: %s', rinfo.address, (err as Error).message);
      }
    });
    this.#sweep = setInterval(() => this.#onSweep(), SWEEP_MS);
    await this.#browse();
  }

  /** RFC 6762 §5.2: PTR queries at intervals that double, from one second to an hour. */
  async #browse(): Promise<void> {
    if (this.#stopped) return;
    const questions: Question[] = this.#types.map((t) => ({ name: `${t}.local`, type: 'PTR' }));
    await this.#query(questions);
    this.#browseTimer = setTimeout(() => void this.#browse(), this.#browseInterval);
    this.#browseInterval = Math.min(this.#browseInterval * 2, MAX_QUERY_INTERVAL_MS);
  }

  /** Sends a query out of each interface in turn (the multicast interface is a socket option). */
  #query(questions: Question[]): Promise<void> {
    const mdns = this.#mdns;
    if (mdns === undefined || this.#stopped || questions.length === 0) return Promise.resolve();
    this.#sending = this.#sending.then(async () => {
      for (const iface of this.#ifaces) {
        if (this.#stopped) return;
        try {
          mdnsSocket(mdns)?.setMulticastInterface(iface.address);
        } catch (err) {
          debug('mdns: cannot send on %s: %s', iface.name, (err as Error).message);
          continue;
        }
        this.stats.queries++;
        await sendQuery(mdns, { questions });
      }
    });
    return this.#sending;
  }

  #onResponse(r: makeMdns.ResponsePacket): void {
    if (this.#stopped) return;
    const records = [...section(r.answers), ...section(r.additionals)];
    const now = Date.now();
    const touched = new Set<Entry>();
    const ttlMs = (rec: { ttl?: unknown }): number | undefined => {
      const ttl = rec.ttl;
      return typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 0 ? ttl * 1000 : undefined;
    };
    // PTRs first, then SRV and TXT of the instances they name, then addresses of the SRV targets:
    // in whichever section each is, and in whatever order the packet has them
    for (const rec of records) {
      if (rec.type !== 'PTR' || typeof rec.name !== 'string' || typeof rec.data !== 'string') continue;
      const type = this.#typeNames.get(key(rec.name));
      const ttl = ttlMs(rec);
      if (type === undefined || ttl === undefined) continue;
      const instance = rec.data;
      const k = key(instance);
      if (!k.endsWith(`.${type}.local`) || k.length === type.length + 7) {
        this.stats.malformed++;
        continue;
      }
      const entry = this.#entries.get(k);
      if (ttl === 0) {
        if (entry !== undefined) this.#remove(k, entry);
        continue;
      }
      if (entry === undefined) {
        if (this.#entries.size >= this.#max) {
          this.stats.overLimit++;
          continue;
        }
        const e: Entry = {
          instance,
          type,
          ptrExpires: now + ttl,
          ptrTtlMs: ttl,
          refreshed: false,
          srv: undefined,
          txt: undefined,
          up: undefined,
          lastAsked: 0,
          asked: 0,
        };
        this.#entries.set(k, e);
        touched.add(e);
      } else {
        entry.ptrExpires = now + ttl;
        entry.ptrTtlMs = ttl;
        entry.refreshed = false;
        touched.add(entry);
      }
    }
    for (const rec of records) {
      if ((rec.type !== 'SRV' && rec.type !== 'TXT') || typeof rec.name !== 'string') continue;
      const entry = this.#entries.get(key(rec.name));
      const ttl = ttlMs(rec);
      if (entry === undefined || ttl === undefined) continue;
      touched.add(entry);
      if (rec.type === 'SRV') {
        const d = rec.data as { port?: unknown; target?: unknown } | undefined;
        const port = d?.port;
        const target = d?.target;
        if (
          typeof port !== 'number' ||
          !Number.isInteger(port) ||
          port < 0 ||
          port > 65535 ||
          typeof target !== 'string'
        ) {
          this.stats.malformed++;
          continue;
        }
        entry.srv = ttl === 0 ? undefined : { target: target.replace(/\.$/, ''), port, expires: now + ttl };
      } else {
        const value = parseTxt(rec.data, MAX_TXT_BYTES);
        if (value === undefined) {
          this.stats.malformed++;
          continue;
        }
        entry.txt = ttl === 0 ? undefined : { value, expires: now + ttl };
      }
    }
    const targets = new Set<string>();
    for (const e of this.#entries.values()) if (e.srv !== undefined) targets.add(key(e.srv.target));
    const flushed = new Set<string>();
    for (const rec of records) {
      if ((rec.type !== 'A' && rec.type !== 'AAAA') || typeof rec.name !== 'string' || typeof rec.data !== 'string') {
        continue;
      }
      const host = key(rec.name);
      const ttl = ttlMs(rec);
      if (!targets.has(host) || ttl === undefined) continue;
      let held = this.#addresses.get(host);
      if (held === undefined) {
        held = new Map();
        this.#addresses.set(host, held);
      }
      // the cache-flush bit: this packet's addresses replace what was held for the name (RFC 6762 §10.2)
      if ((rec as { flush?: unknown }).flush === true && !flushed.has(`${host}|${rec.type}`)) {
        flushed.add(`${host}|${rec.type}`);
        const v6 = rec.type === 'AAAA';
        for (const a of [...held.keys()]) if (a.includes(':') === v6) held.delete(a);
      }
      if (ttl === 0) held.delete(rec.data);
      else if (held.has(rec.data) || held.size < MAX_ADDRESSES) held.set(rec.data, now + ttl);
      for (const e of this.#entries.values()) if (e.srv !== undefined && key(e.srv.target) === host) touched.add(e);
    }
    for (const e of touched) this.#evaluate(e, now);
  }

  #snapshot(e: Entry, now: number): DiscoveredService | undefined {
    if (e.srv === undefined) return undefined;
    const held = this.#addresses.get(key(e.srv.target));
    const addresses = [...(held?.entries() ?? [])]
      .filter(([, exp]) => exp > now)
      .map(([a]) => a)
      .sort();
    if (addresses.length === 0) return undefined;
    const suffix = `.${e.type}.local`.length;
    return {
      name: e.instance.replace(/\.$/, '').slice(0, -suffix),
      type: e.type,
      host: e.srv.target,
      port: e.srv.port,
      addresses,
      txt: e.txt?.value ?? {},
    };
  }

  /** Emits what changed for `e`, and asks for what it lacks. */
  #evaluate(e: Entry, now: number): void {
    const s = this.#snapshot(e, now);
    if (s === undefined) {
      if (e.up !== undefined) {
        this.#emit({ type: 'down', service: e.up });
        e.up = undefined;
      }
      this.#resolve(e, now);
      return;
    }
    if (e.up === undefined) this.#emit({ type: 'up', service: s });
    else if (!sameService(e.up, s)) this.#emit({ type: 'update', service: s });
    e.up = s;
    e.asked = 0;
    if (e.txt === undefined) this.#resolve(e, now);
  }

  /** Asks for the SRV and TXT of an instance, or its target's address: once a second, five times. */
  #resolve(e: Entry, now: number): void {
    if (now - e.lastAsked < FIRST_QUERY_INTERVAL_MS || e.asked >= MAX_RESOLVE_QUERIES) return;
    e.lastAsked = now;
    e.asked++;
    const questions: Question[] = [];
    if (e.srv === undefined) questions.push({ name: e.instance, type: 'SRV' });
    if (e.txt === undefined) questions.push({ name: e.instance, type: 'TXT' });
    if (e.srv !== undefined && e.up === undefined) questions.push({ name: e.srv.target, type: 'A' });
    void this.#query(questions);
  }

  #remove(k: string, e: Entry): void {
    this.#entries.delete(k);
    if (e.up !== undefined) this.#emit({ type: 'down', service: e.up });
    e.up = undefined;
    this.#dropUnusedHosts();
  }

  #dropUnusedHosts(): void {
    const targets = new Set<string>();
    for (const e of this.#entries.values()) if (e.srv !== undefined) targets.add(key(e.srv.target));
    for (const host of this.#addresses.keys()) if (!targets.has(host)) this.#addresses.delete(host);
  }

  /** Once a second: TTLs expire (RFC 6762 §5.2: asked again at 80% of the PTR's), the unresolved are asked for. */
  #onSweep(): void {
    try {
      const now = Date.now();
      const refresh = new Set<ServiceType>();
      for (const [k, e] of [...this.#entries]) {
        if (e.ptrExpires <= now) {
          this.#remove(k, e);
          continue;
        }
        if (e.srv !== undefined && e.srv.expires <= now) e.srv = undefined;
        if (e.txt !== undefined && e.txt.expires <= now) e.txt = undefined;
        if (!e.refreshed && e.ptrExpires - now <= e.ptrTtlMs * 0.2) {
          e.refreshed = true;
          refresh.add(e.type);
        }
        this.#evaluate(e, now);
      }
      for (const held of this.#addresses.values()) for (const [a, exp] of [...held]) if (exp <= now) held.delete(a);
      this.#dropUnusedHosts();
      if (refresh.size > 0) void this.#query([...refresh].map((t) => ({ name: `${t}.local`, type: 'PTR' })));
    } catch (err) {
      debug('mdns: sweep failed: %s', (err as Error).message);
    }
  }

  #emit(ev: BrowseEvent): void {
    if (this.#stopped) return;
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      this.#failed = undefined;
      w({ value: ev, done: false });
      return;
    }
    if (this.#queue.length >= this.#hwm) {
      this.#queue.shift();
      this.stats.droppedEvents++;
    }
    this.#queue.push(ev);
  }

  services(): DiscoveredService[] {
    return [...this.#entries.values()].flatMap((e) => (e.up === undefined ? [] : [e.up]));
  }

  next(): Promise<IteratorResult<BrowseEvent>> {
    const ev = this.#queue.shift();
    if (ev !== undefined) return Promise.resolve({ value: ev, done: false });
    if (this.#error !== undefined) {
      const err = this.#error;
      this.#error = undefined;
      return Promise.reject(err);
    }
    if (this.#stopped) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== undefined)
      return Promise.reject(
        new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'browse(): next() called before the previous one settled'),
      );
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failed = reject;
    });
  }

  async return(): Promise<IteratorResult<BrowseEvent>> {
    await this.stop();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the iteration (what is queued is dropped) and closes the socket. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#finish();
      this.#queue.length = 0;
      await this.ready.catch(() => {});
      if (this.#mdns !== undefined) await closeMdns(this.#mdns);
    })();
    return this.#stopping;
  }

  #finish(): void {
    this.#stopped = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    clearInterval(this.#sweep);
    clearTimeout(this.#browseTimer);
    const w = this.#waiter;
    const f = this.#failed;
    this.#waiter = undefined;
    this.#failed = undefined;
    if (this.#error !== undefined && f !== undefined) {
      const err = this.#error;
      this.#error = undefined;
      f(err);
    } else w?.({ value: undefined, done: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function sameService(a: DiscoveredService, b: DiscoveredService): boolean {
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.addresses.join() === b.addresses.join() &&
    JSON.stringify(a.txt) === JSON.stringify(b.txt)
  );
}

// advertise(): publishes an OSC port as _osc._udp / _osc._tcp and, with httpPort, an OSCQuery
// server as _oscjson._tcp, on one interface, in the way VRChat finds services (see the README's
// VRChat checklist): the PTR record and the rest in the Answers section, one answer per query,
// an A record that is the address of the interface the answer leaves by (127.0.0.1 on loopback).
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { RecordType, SrvAnswer, StringAnswer, TxtAnswer } from 'dns-packet';
import type makeMdns from 'multicast-dns';
import { OscConfigError } from '../codec/errors.js';
import {
  closeMdns,
  debug,
  isLocalAddress,
  key,
  type LooseRecord,
  MDNS_PORT,
  type Mdns,
  type MdnsInterface,
  onLink,
  openMdns,
  resolveInterface,
  section,
  sendQuery,
  sendResponse,
} from './mdns.js';
import { OscDiscoveryError } from './mdns-errors.js';
import type { ServiceType } from './service-types.js';

/** The ANY question type (255), which dns-packet encodes but its types do not list. */
const ANY = 'ANY' as RecordType;

/** The records published. */
type Answer = StringAnswer | SrvAnswer | TxtAnswer;

/** Options of `advertise()`: the instance name, the ports to publish, and where. */
export interface AdvertiseOptions {
  /** The service instance name (`My Synth`): at most 63 bytes, no `.`. */
  readonly name: string;
  /** The OSC port, advertised as `_osc._udp` or `_osc._tcp`. */
  readonly oscPort: number;
  readonly oscTransport: 'udp' | 'tcp';
  /** The OSCQuery HTTP port: when given, also advertised as `_oscjson._tcp`. */
  readonly httpPort?: number | undefined;
  /** The host name in the SRV records (default `aiolo-<name>-<hostname>.local`). */
  readonly host?: string | undefined;
  /**
   * The one interface answered on and advertised: `'loopback'` (default: apps on this machine,
   * A record 127.0.0.1), an interface name (`eth0`) or one of its IPv4 addresses (the LAN).
   */
  readonly interface?: string | undefined;
  /** The records' TTL in seconds (default 120, RFC 6762's for host records). */
  readonly ttl?: number | undefined;
  /** More TXT entries, beside `txtvers=1`. */
  readonly txt?: Readonly<Record<string, string>> | undefined;
}

/** A published service; `stop()` (or `await using`) withdraws it with goodbye packets. */
export interface Advertisement extends AsyncDisposable {
  /** The instance name in use: the one asked for, or `name (2)`... after a conflict while probing. */
  readonly name: string;
  /** The SRV target host name (`....local`). */
  readonly host: string;
  /** The interface answered on, and the A record's address. */
  readonly interface: string;
  readonly address: string;
  /** What is published: each service type with its port. */
  readonly services: readonly { readonly type: ServiceType; readonly port: number }[];
  /** The conflicts met while probing, each with the name given up and the one taken instead. */
  readonly conflicts: readonly OscDiscoveryError[];
  /** Counters: queries answered, ignored (from another link), responses sent. */
  readonly stats: { readonly queries: number; readonly answered: number; readonly otherLink: number };
  /** Withdraws the services (TTL 0 for every record) and closes the socket. Idempotent. */
  stop(): Promise<void>;
  /** `'conflict'`: another host answers for this instance name (an OscDiscoveryError). */
  on(event: 'conflict', listener: (error: OscDiscoveryError) => void): this;
  /** Stops listening for conflicts. */
  off(event: 'conflict', listener: (error: OscDiscoveryError) => void): this;
}

const PROBES = 3;
const PROBE_INTERVAL_MS = 250;
const ANNOUNCE_INTERVAL_MS = 1000;
const MAX_RENAMES = 16;
/** RFC 6762 §6: a record is multicast in answer to queries at most once a second. */
const ANSWER_INTERVAL_MS = 1000;

function checkPort(port: unknown, what: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `${what} must be an integer port 1-65535, got ${String(port)}`);
  }
  return port;
}

function checkLabel(label: string, what: string): void {
  if (label === '' || label.includes('.') || Buffer.byteLength(label) > 63) {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `${what} must be 1-63 bytes without '.' (a DNS label), got ${JSON.stringify(label)}`,
    );
  }
}

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'osc'
  );
}

/** `name (2)`, `name (3)`... within 63 bytes. */
function renamed(base: string, n: number): string {
  const suffix = ` (${n})`;
  let b = base;
  while (Buffer.byteLength(b + suffix) > 63) b = b.slice(0, -1);
  return b + suffix;
}

interface Validated {
  readonly name: string;
  readonly ports: { type: ServiceType; port: number }[];
  readonly host: string | undefined;
  readonly iface: MdnsInterface;
  readonly ttl: number;
  readonly txt: string[];
}

function validate(o: AdvertiseOptions): Validated {
  if (typeof o !== 'object' || o === null)
    throw new OscConfigError('ERR_OSC_INVALID_ARG_TYPE', 'advertise() takes an options object');
  if (typeof o.name !== 'string') throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'advertise() needs a name');
  checkLabel(o.name, 'name');
  if (o.oscTransport !== 'udp' && o.oscTransport !== 'tcp') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `oscTransport must be 'udp' or 'tcp', got ${String(o.oscTransport)}`,
    );
  }
  const ports: { type: ServiceType; port: number }[] = [
    { type: o.oscTransport === 'udp' ? '_osc._udp' : '_osc._tcp', port: checkPort(o.oscPort, 'oscPort') },
  ];
  if (o.httpPort !== undefined) ports.push({ type: '_oscjson._tcp', port: checkPort(o.httpPort, 'httpPort') });
  const ttl = o.ttl ?? 120;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 0x7fffffff) {
    throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `ttl must be a positive integer (seconds), got ${ttl}`);
  }
  const txt = ['txtvers=1'];
  for (const [k, v] of Object.entries(o.txt ?? {})) {
    const entry = `${k}=${v}`;
    if (k === '' || k.includes('=') || Buffer.byteLength(entry) > 255) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        `TXT entry ${JSON.stringify(entry)}: a key without '=', 255 bytes at most`,
      );
    }
    if (k.toLowerCase() !== 'txtvers') txt.push(entry);
  }
  let host = o.host;
  if (host !== undefined) {
    host = host.replace(/\.$/, '');
    if (!host.endsWith('.local')) host = `${host}.local`;
    for (const label of host.split('.')) checkLabel(label, 'host');
  }
  return { name: o.name, ports, host, iface: resolveInterface(o.interface), ttl, txt };
}

/**
 * Publishes `oscPort` (and `httpPort` as OSCQuery) by mDNS / DNS-SD on one interface. Probes for
 * the name first (RFC 6762 §8.1, about 750 ms) and takes `name (2)`... if another host has it,
 * then announces. Throws OscConfigError for bad options; rejects with a StartError when UDP 5353
 * cannot be bound.
 */
export function advertise(options: AdvertiseOptions): Promise<Advertisement> {
  const v = validate(options);
  return AdvertisementImpl.start(v);
}

class AdvertisementImpl extends EventEmitter implements Advertisement {
  name: string;
  host: string;
  readonly interface: string;
  readonly address: string;
  readonly services: readonly { readonly type: ServiceType; readonly port: number }[];
  readonly stats = { queries: 0, answered: 0, otherLink: 0 };
  readonly conflicts: OscDiscoveryError[] = [];
  readonly #v: Validated;
  readonly #mdns: Mdns;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #lastAnswered = new Map<string, number>();
  #phase: 'probing' | 'announced' | 'stopped' = 'probing';
  #conflictSeen = false;
  #stopping: Promise<void> | undefined;

  static async start(v: Validated): Promise<AdvertisementImpl> {
    const mdns = await openMdns([v.iface], v.iface);
    const ad = new AdvertisementImpl(v, mdns);
    try {
      await ad.#probeAndAnnounce();
    } catch (err) {
      await ad.stop();
      throw err;
    }
    return ad;
  }

  private constructor(v: Validated, mdns: Mdns) {
    super();
    this.#v = v;
    this.#mdns = mdns;
    this.name = v.name;
    this.host = v.host ?? `aiolo-${slug(v.name)}-${slug(hostname())}.local`;
    this.interface = v.iface.name;
    this.address = v.iface.address;
    this.services = v.ports;
    mdns.on('query', (q: makeMdns.QueryPacket, rinfo) => {
      try {
        this.#onQuery(q, rinfo);
      } catch (err) {
        debug('mdns: a query could not be answered: %s', (err as Error).message);
      }
    });
    mdns.on('response', (r: makeMdns.ResponsePacket, rinfo) => {
      try {
        this.#onResponse(r, rinfo);
      } catch (err) {
        debug('mdns: a response could not be read: %s', (err as Error).message);
      }
    });
    mdns.on('warning', (err: Error) => debug('mdns: %s', err.message));
  }

  #instance(type: ServiceType): string {
    return `${this.name}.${type}.local`;
  }

  /** Every record, in the order sent: PTR first (VRChat reads it from Answers), then SRV, TXT, A. */
  #records(ttl: number): Answer[] {
    const out: Answer[] = [];
    for (const { type } of this.services)
      out.push({ name: `${type}.local`, type: 'PTR', ttl, data: this.#instance(type) });
    for (const { type, port } of this.services) {
      out.push({
        name: this.#instance(type),
        type: 'SRV',
        ttl,
        flush: true,
        data: { priority: 0, weight: 0, port, target: this.host },
      });
      out.push({ name: this.#instance(type), type: 'TXT', ttl, flush: true, data: this.#v.txt });
    }
    out.push({ name: this.host, type: 'A', ttl, flush: true, data: this.address });
    return out;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve();
      }, ms);
      this.#timers.add(t);
    });
  }

  async #probeAndAnnounce(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.#conflictSeen = false;
      const records = this.#records(this.#v.ttl);
      const probe = {
        questions: [
          ...this.services.map(({ type }) => ({ name: this.#instance(type), type: ANY })),
          { name: this.host, type: ANY },
        ],
        authorities: records.filter((r) => r.type !== 'PTR'),
      };
      for (let i = 0; i < PROBES && !this.#conflictSeen && this.#phase === 'probing'; i++) {
        await sendQuery(this.#mdns, probe);
        await this.#sleep(PROBE_INTERVAL_MS);
      }
      if (this.#phase !== 'probing') return;
      if (!this.#conflictSeen) break;
      if (attempt >= MAX_RENAMES) {
        throw new OscDiscoveryError(
          'ERR_OSC_MDNS_NAME_CONFLICT',
          `the names '${this.#v.name}' to '${this.name}' are all taken on ${this.interface}`,
          { instance: this.name },
        );
      }
      const from = this.name;
      this.name = renamed(this.#v.name, attempt + 1);
      if (this.#v.host === undefined) this.host = `aiolo-${slug(this.name)}-${slug(hostname())}.local`;
      debug("mdns: '%s' is taken on %s; probing '%s'", from, this.interface, this.name);
      const conflict = new OscDiscoveryError(
        'ERR_OSC_MDNS_NAME_CONFLICT',
        `another host answers for '${from}'; using '${this.name}'`,
        { instance: from, renamedTo: this.name },
      );
      this.conflicts.push(conflict);
      this.emit('conflict', conflict);
    }
    this.#phase = 'announced';
    // RFC 6762 §8.3: unsolicited responses, the second one second later
    await sendResponse(this.#mdns, { answers: this.#records(this.#v.ttl) });
    void this.#sleep(ANNOUNCE_INTERVAL_MS).then(() => {
      if (this.#phase === 'announced') return sendResponse(this.#mdns, { answers: this.#records(this.#v.ttl) });
    });
  }

  /** A response from another host with one of our unique names and other data: a conflict. */
  #onResponse(r: makeMdns.ResponsePacket, rinfo: { address: string }): void {
    if (this.#phase === 'stopped') return;
    const ours = this.#records(this.#v.ttl).filter((x) => x.type !== 'PTR');
    for (const rec of [...section(r.answers), ...section(r.additionals)]) {
      if (typeof rec.name !== 'string' || rec.ttl === 0) continue;
      const name = key(rec.name);
      const same = ours.filter((x) => key(x.name) === name && x.type === rec.type);
      if (same.length === 0 || same.some((x) => sameData(rec, x))) continue;
      if (this.#phase === 'probing') {
        this.#conflictSeen = true;
      } else {
        debug('mdns: %s also answers for %s', rinfo.address, rec.name);
        this.emit(
          'conflict',
          new OscDiscoveryError('ERR_OSC_MDNS_NAME_CONFLICT', `${rinfo.address} also answers for '${rec.name}'`, {
            instance: this.name,
          }),
        );
      }
      return;
    }
  }

  #onQuery(q: makeMdns.QueryPacket, rinfo: { address: string; port: number }): void {
    if (this.#phase === 'probing') this.#onProbe(q);
    if (this.#phase !== 'announced') return;
    const questions = section(q.questions);
    if (questions.length === 0) return;
    this.stats.queries++;
    // one interface: answer only this link's hosts and this machine's own apps
    if (!isLocalAddress(rinfo.address) && !onLink(rinfo.address, this.#v.iface)) {
      this.stats.otherLink++;
      return;
    }
    const all = this.#records(this.#v.ttl);
    const wanted: Answer[] = [];
    const add = (rs: Answer[]): void => {
      for (const r of rs) if (!wanted.includes(r)) wanted.push(r);
    };
    const byName = (name: string, type?: string) =>
      all.filter((r) => key(r.name) === name && (type === undefined || r.type === type));
    for (const question of questions) {
      if (typeof question.name !== 'string') continue;
      const name = key(question.name);
      const t = String(question.type);
      if (name === '_services._dns-sd._udp.local' && (t === 'PTR' || t === 'ANY')) {
        add(
          this.services.map(({ type }) => ({
            name: '_services._dns-sd._udp.local',
            type: 'PTR',
            ttl: this.#v.ttl,
            data: `${type}.local`,
          })),
        );
        continue;
      }
      const ptr = all.find((r) => r.type === 'PTR' && key(r.name) === name);
      if (ptr !== undefined && (t === 'PTR' || t === 'ANY')) {
        // the PTR in Answers, and what resolves it beside it (VRChat reads them from Answers)
        if (this.#known(section(q.answers), ptr)) continue; // and so what resolves it
        const instance = key(ptr.data as string);
        add([ptr, ...byName(instance), ...byName(key(this.host), 'A')]);
        continue;
      }
      if (t === 'ANY') add(byName(name));
      else add(byName(name, t));
      if (wanted.some((r) => r.type === 'SRV')) add(byName(key(this.host), 'A'));
    }
    const known = section(q.answers);
    const legacy = rinfo.port !== MDNS_PORT;
    const now = Date.now();
    const probeDefence = section(q.authorities).length > 0;
    // RFC 6762 §7.1: what the querier already holds with at least half its TTL is left out
    const answers = wanted.filter((r) => !this.#known(known, r));
    // RFC 6762 §6: nothing multicast again within a second. The same query arriving twice (by two
    // interfaces, or from two hosts) gets one answer; an answer is always whole (PTR with its
    // SRV, TXT and A), for queriers that read only the packet that answers them.
    const recordKey = (r: Answer) => `${key(r.name)}|${r.type}|${r.type === 'PTR' ? key(r.data) : ''}`;
    if (
      !legacy &&
      !probeDefence &&
      answers.every((r) => now - (this.#lastAnswered.get(recordKey(r)) ?? -Infinity) < ANSWER_INTERVAL_MS)
    ) {
      return;
    }
    if (answers.length === 0) return;
    this.stats.answered++;
    if (legacy) {
      // RFC 6762 §6.7: a legacy resolver (source port not 5353) gets a unicast reply with its id and questions, TTL ≤ 10
      const capped = answers.map((r) => ({ ...r, ttl: Math.min(r.ttl ?? 10, 10), flush: false }) as Answer);
      void sendResponse(this.#mdns, { id: q.id, questions: q.questions, answers: capped }, rinfo);
      return;
    }
    for (const r of answers) this.#lastAnswered.set(recordKey(r), now);
    void sendResponse(this.#mdns, { answers });
  }

  /** Whether a query's known answers hold `r` with at least half its TTL. */
  #known(known: LooseRecord[], r: Answer): boolean {
    return known.some(
      (k) =>
        k.type === r.type && key(String(k.name)) === key(r.name) && sameData(k, r) && Number(k.ttl) >= this.#v.ttl / 2,
    );
  }

  /** While probing, another host probing for the same name (simultaneous probes): take the next name. */
  #onProbe(q: makeMdns.QueryPacket): void {
    const names = new Set(this.services.map(({ type }) => key(this.#instance(type))));
    for (const a of section(q.authorities)) {
      const name = a.name;
      if (typeof name === 'string' && names.has(key(name))) {
        const mine = this.#records(this.#v.ttl).find((r) => key(r.name) === key(name) && r.type === a.type);
        if (mine === undefined || !sameData(a, mine)) this.#conflictSeen = true;
        return;
      }
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const wasAnnounced = this.#phase === 'announced';
    this.#phase = 'stopped';
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    // goodbye (RFC 6762 §10.1): every record with TTL 0
    if (wasAnnounced) await sendResponse(this.#mdns, { answers: this.#records(0) });
    await closeMdns(this.#mdns);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Whether two records of one name and type carry the same data. */
function sameData(a: LooseRecord, b: Answer): boolean {
  const x = a.data as unknown;
  const y = b.data as unknown;
  if (a.type === 'SRV') {
    const s = x as { port?: unknown; target?: unknown } | undefined;
    const t = y as { port: number; target: string };
    return s?.port === t.port && typeof s?.target === 'string' && key(s.target) === key(t.target);
  }
  if (a.type === 'TXT') {
    const flat = (d: unknown) => (Array.isArray(d) ? d : [d]).map((e) => String(e)).join('\u0000');
    return flat(x) === flat(y);
  }
  if (typeof x === 'string' && typeof y === 'string') return key(x) === key(y);
  return false;
}

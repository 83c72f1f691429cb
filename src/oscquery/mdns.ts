// The mDNS socket both advertise() and browse() use: UDP 5353 shared with the system's responder
// (Avahi, Bonjour), the 224.0.0.251 group joined on chosen interfaces only, packets parsed by
// multicast-dns (whose parse errors become 'warning's: nothing from the network throws here).
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { debuglog } from 'node:util';
import makeMdns from 'multicast-dns';
import { OscConfigError } from '../codec/errors.js';
import { startError } from '../transport/start-error.js';

export const debug = debuglog('aiolo');

export const MDNS_GROUP = '224.0.0.251';
export const MDNS_PORT = 5353;

/** One IPv4 interface of this host. */
export interface MdnsInterface {
  /** Its name (`lo`, `eth0`). */
  readonly name: string;
  /** Its first IPv4 address: the A record advertised on it and the source of what is sent on it. */
  readonly address: string;
  readonly netmask: string;
  readonly internal: boolean;
}

/** Every interface with an IPv4 address (its first), loopback first. */
export function ipv4Interfaces(): MdnsInterface[] {
  const out: MdnsInterface[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    const a = addrs?.find((x) => x.family === 'IPv4');
    if (a !== undefined) out.push({ name, address: a.address, netmask: a.netmask, internal: a.internal });
  }
  return out.sort((x, y) => Number(y.internal) - Number(x.internal));
}

/**
 * The interface `spec` names: undefined or `'loopback'` is the loopback interface; otherwise an
 * interface name (`eth0`) or one of its IPv4 addresses. Throws OscConfigError when there is none.
 */
export function resolveInterface(spec: string | undefined): MdnsInterface {
  const all = ipv4Interfaces();
  const found =
    spec === undefined || spec === 'loopback'
      ? all.find((i) => i.internal)
      : all.find((i) => i.name === spec || i.address === spec);
  if (found === undefined) {
    const have = all.map((i) => `${i.name} (${i.address})`).join(', ') || 'none';
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `no IPv4 interface ${spec === undefined ? 'for loopback' : `'${spec}'`}; interfaces here: ${have}`,
    );
  }
  return found;
}

function toInt(address: string): number {
  return address.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

/** Whether `address` is in `iface`'s subnet. */
export function onLink(address: string, iface: MdnsInterface): boolean {
  if (!isIPv4(address)) return false;
  const mask = toInt(iface.netmask);
  return (toInt(address) & mask) >>> 0 === (toInt(iface.address) & mask) >>> 0;
}

/** Whether `address` is one of this host's own (a packet from an app on this machine). */
export function isLocalAddress(address: string): boolean {
  if (address.startsWith('127.')) return true;
  return ipv4Interfaces().some((i) => i.address === address);
}

export type Mdns = makeMdns.MulticastDNS;

const sockets = new WeakMap<Mdns, Socket>();

/** The socket under an mDNS instance openMdns made (multicast-dns does not expose it). */
export function mdnsSocket(mdns: Mdns): Socket | undefined {
  return sockets.get(mdns);
}

/**
 * Binds UDP 5353 with SO_REUSEADDR (what `reuseAddr: true` sets on Linux; the system's Avahi sets
 * SO_REUSEADDR and SO_REUSEPORT, so both bind), joins the mDNS group on `join` only and sends
 * multicast out of `sendOn`. Rejects with a StartError when the socket cannot bind or join.
 */
export function openMdns(join: readonly MdnsInterface[], sendOn: MdnsInterface): Promise<Mdns> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  // multicast: false: multicast-dns would join on every interface every 5 s; memberships are ours
  const mdns = makeMdns({ socket, port: MDNS_PORT, multicast: false, bind: '0.0.0.0' });
  sockets.set(mdns, socket);
  return new Promise((resolve, reject) => {
    const fail = (err: unknown): void => {
      mdns.removeAllListeners();
      mdns.on('error', () => {});
      mdns.destroy();
      reject(startError(err, `mDNS udp 0.0.0.0:${MDNS_PORT}`));
    };
    mdns.once('error', fail);
    mdns.once('ready', () => {
      mdns.off('error', fail);
      // later socket errors (EACCES, EADDRINUSE) and parse failures are reported, never thrown
      mdns.on('error', (err: Error) => debug('mdns socket error: %s', err.message));
      try {
        for (const i of join) socket.addMembership(MDNS_GROUP, i.address);
        socket.setMulticastInterface(sendOn.address);
        socket.setMulticastTTL(255);
        socket.setMulticastLoopback(true);
      } catch (err) {
        fail(err);
        return;
      }
      resolve(mdns);
    });
  });
}

/** Closes an mDNS socket (after anything already handed to it is sent). */
export function closeMdns(mdns: Mdns): Promise<void> {
  return new Promise((resolve) => mdns.destroy(() => resolve()));
}

/** Sends a query; resolves once the socket has (a failure is logged, never thrown). */
export function sendQuery(mdns: Mdns, packet: makeMdns.QueryOutgoingPacket): Promise<void> {
  return new Promise((resolve) => {
    try {
      mdns.query(packet, (err) => {
        if (err) debug('mdns: a query could not be sent: %s', err.message);
        resolve();
      });
    } catch (err) {
      debug('mdns: a query could not be sent: %s', (err as Error).message);
      resolve();
    }
  });
}

/** Sends a response (to the group, or unicast `to`); resolves once the socket has. */
export function sendResponse(
  mdns: Mdns,
  packet: makeMdns.ResponseOutgoingPacket,
  to?: { address: string; port: number },
): Promise<void> {
  return new Promise((resolve) => {
    const done = (err: Error | null): void => {
      if (err) debug('mdns: a response could not be sent: %s', err.message);
      resolve();
    };
    try {
      if (to === undefined) mdns.respond(packet, done);
      else mdns.respond(packet, { address: to.address, port: to.port }, done);
    } catch (err) {
      done(err as Error);
    }
  });
}

/** A record as it arrives: any field may be missing or of another type. */
export interface LooseRecord {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly ttl?: unknown;
  readonly flush?: unknown;
  readonly data?: unknown;
}

/** The records of a section, whatever the packet holds there. */
export function section(records: unknown): LooseRecord[] {
  return Array.isArray(records) ? records.filter((r): r is LooseRecord => typeof r === 'object' && r !== null) : [];
}

/** A DNS name in the form compared: lower case, no trailing dot. */
export function key(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** TXT strings (`key=value`) from a record's data, as RFC 6763 §6 reads them: first key wins. */
export function parseTxt(data: unknown, maxBytes: number): Record<string, string> | undefined {
  const items = Array.isArray(data) ? data : [data];
  const out = new Map<string, string>();
  let bytes = 0;
  for (const item of items) {
    const s = typeof item === 'string' ? item : Buffer.isBuffer(item) ? item.toString('utf8') : undefined;
    if (s === undefined) return undefined;
    bytes += Buffer.byteLength(s) + 1;
    if (bytes > maxBytes) return undefined;
    if (s === '') continue;
    const eq = s.indexOf('=');
    const k = eq < 0 ? s : s.slice(0, eq);
    if (k === '' || out.has(k.toLowerCase())) continue;
    out.set(k.toLowerCase(), eq < 0 ? '' : s.slice(eq + 1));
  }
  return Object.fromEntries(out);
}

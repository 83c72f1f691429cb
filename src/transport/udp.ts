import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { type DatagramPort, DgramPort, type PacketHandler } from './datagram.js';
import { CLIENT_SLOTS, NativePort, SERVER_SLOTS } from './datagram-native.js';
import { OscConfigError, SendError, StartError } from './errors.js';
import { nativeUdp } from './native.js';
import { startError } from './start-error.js';

/** The largest UDP payload IPv4 can carry (65535 - 8 - 20); liblo refuses above 65535. */
export const MAX_UDP_PAYLOAD = 65507;

export interface MulticastOptions {
  readonly group: string;
  /** Interface name (`'lo'`, `'eth0'`) whose IPv4 address joins the group and sends to it. */
  readonly iface?: string | undefined;
  /** Or that interface's IPv4 address. */
  readonly ip?: string | undefined;
  /** Multicast TTL for what this socket sends. Default 1 (the local network), as oscsend. */
  readonly ttl?: number | undefined;
  /** Whether this host's own members receive what this socket sends. Default true. */
  readonly loopback?: boolean | undefined;
}

export interface UdpBindOptions {
  readonly host: string | undefined;
  readonly port: number;
  readonly recvBufferSize?: number | undefined;
  readonly multicast?: MulticastOptions | undefined;
}

/** The IPv4 address of an interface given by name or address (for multicast membership). */
export function interfaceAddress(iface: string | undefined, ip: string | undefined): string | undefined {
  if (ip !== undefined) {
    if (isIP(ip) !== 4) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `multicast ip must be an IPv4 address, got ${ip}`);
    }
    const local = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === ip));
    if (!local)
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `no network interface of this host has the address ${ip}`);
    return ip;
  }
  if (iface === undefined) return undefined;
  const addrs = networkInterfaces()[iface];
  const v4 = addrs?.find((a) => a.family === 'IPv4');
  if (v4 === undefined) {
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `no network interface named ${JSON.stringify(iface)} with an IPv4 address`,
    );
  }
  return v4.address;
}

/**
 * Whether `address` is an IPv4 broadcast address a socket must be allowed to send to: the limited
 * broadcast 255.255.255.255 (the one liblo allows), or the directed broadcast of a subnet this host
 * is on (`10.0.0.255` on 10.0.0.0/24), which liblo refuses with EACCES.
 */
export function isBroadcastAddress(address: string): boolean {
  if (address === '255.255.255.255') return true;
  if (isIP(address) !== 4) return false;
  const target = ipv4(address);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      const mask = ipv4(a.netmask);
      if (mask === 0xffffffff) continue; // a /32 has no broadcast address
      if ((ipv4(a.address) | ~mask) >>> 0 === target) return true;
    }
  }
  return false;
}

function ipv4(dotted: string): number {
  return dotted.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

/**
 * Binds a UDP socket (IPv4 unless `host` is an IPv6 address) and delivers each datagram: the native
 * fast path's where it is built (not for multicast, whose options it does not have), else dgram's.
 */
export async function bindUdp(options: UdpBindOptions, onPacket: PacketHandler): Promise<DatagramPort> {
  const mc = options.multicast;
  const v6 = options.host !== undefined && isIP(options.host) === 6;
  const where = `udp ${options.host ?? '0.0.0.0'}:${options.port}`;
  if (nativeUdp !== undefined && mc === undefined) {
    let port: NativePort;
    try {
      // a name is looked up as dgram's bind looks it up: once, IPv4 (v6 is for IPv6 literals only)
      const host =
        options.host === undefined || isIP(options.host) !== 0
          ? options.host
          : (await lookup(options.host, { family: 4 })).address;
      port = new NativePort(nativeUdp, {
        v6,
        host: host ?? '',
        port: options.port,
        recvBufferSize: options.recvBufferSize ?? 0,
        broadcast: !v6,
        slots: SERVER_SLOTS,
      });
    } catch (err) {
      throw startError(err, where);
    }
    port.onPacket(onPacket);
    return port;
  }
  const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr: mc !== undefined });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      // a multicast member binds the port on every address, as liblo does, so that all members of a
      // group on this host receive every datagram
      socket.bind(options.port, mc !== undefined ? undefined : options.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (options.recvBufferSize !== undefined) socket.setRecvBufferSize(options.recvBufferSize);
    if (!v6) socket.setBroadcast(true);
    if (mc !== undefined) {
      let local: string | undefined;
      try {
        local = interfaceAddress(mc.iface, mc.ip);
      } catch (err) {
        throw new StartError('ERR_OSC_START_FAILED', (err as Error).message);
      }
      socket.addMembership(mc.group, local);
      if (local !== undefined) socket.setMulticastInterface(local);
      socket.setMulticastTTL(mc.ttl ?? 1);
      socket.setMulticastLoopback(mc.loopback ?? true);
    }
  } catch (err) {
    socket.close();
    if (err instanceof StartError) throw err;
    throw startError(err as NodeJS.ErrnoException, mc !== undefined ? `${where} (group ${mc.group})` : where);
  }
  const port = new DgramPort(socket);
  port.onPacket(onPacket);
  return port;
}

/**
 * An address's own socket for sending to `family`, bound to any port: the native fast path's where
 * it is built and nothing but plain unicast is asked for, else dgram's (`configure` then binds and
 * sets the multicast or broadcast options it needs).
 */
export async function openUdp(
  family: 4 | 6,
  plainUnicast: boolean,
  configure: (socket: Socket) => Promise<void>,
): Promise<DatagramPort> {
  if (nativeUdp !== undefined && plainUnicast) {
    return new NativePort(nativeUdp, {
      v6: family === 6,
      host: '',
      port: 0,
      recvBufferSize: 0,
      broadcast: false,
      slots: CLIENT_SLOTS,
    });
  }
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  const port = new DgramPort(socket);
  try {
    await configure(socket);
  } catch (err) {
    await port.close();
    throw err;
  }
  return port;
}

/** Sends one datagram; resolves with its length, or rejects with a `SendError`. */
export function sendUdp(socket: DatagramPort, packet: Uint8Array, port: number, host: string): Promise<number> {
  if (packet.length > MAX_UDP_PAYLOAD) {
    return Promise.reject(
      new SendError(
        'ERR_OSC_PACKET_TOO_LARGE',
        `a ${packet.length}-byte packet does not fit in a UDP datagram (${MAX_UDP_PAYLOAD} at most); use TCP`,
      ),
    );
  }
  return socket.send(packet, port, host);
}

/** Resolves a host name once, to the family a socket of `type` can reach. */
export async function resolveHost(host: string, family: 4 | 6 | 0 = 0): Promise<{ address: string; family: 4 | 6 }> {
  if (isIP(host) !== 0) return { address: host, family: isIP(host) as 4 | 6 };
  try {
    // IPv4 first, as a server listening on 0.0.0.0 (the default) is reachable only that way
    const r = await lookup(host, { family, verbatim: false });
    return { address: r.address, family: r.family as 4 | 6 };
  } catch (err) {
    throw new SendError('ERR_OSC_SEND_FAILED', `cannot resolve ${JSON.stringify(host)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export function closeUdp(socket: DatagramPort): Promise<void> {
  return socket.close();
}

import { isIP } from 'node:net';
import { OscConfigError } from '../transport/errors.js';
import type { HasServerLink } from '../transport/link.js';
import { isMulticastAddress, parsePort } from '../transport/url.js';
import { Address, type AddressOptions } from './address.js';

/** Options of `new MultiCast(group, options)`: port, interface, TTL and loopback. */
export interface MultiCastOptions {
  /** The UDP port the group uses. 0 picks a free one (useful only for the first member). */
  readonly port: number | string;
  /** The interface to join on and send from, by name (`'lo'`) ... */
  readonly iface?: string | undefined;
  /** ... or by its IPv4 address. */
  readonly ip?: string | undefined;
  /** TTL of what members send. Default 1: the local network only. */
  readonly ttl?: number | undefined;
  /** Whether this host's own members receive what is sent (so a sender hears itself). Default true. */
  readonly loopback?: boolean | undefined;
}

/** An IPv4 multicast group and port: `new Server({ multicast: new MultiCast('224.0.1.1', { port: 15432 }) })`. */
export class MultiCast {
  readonly group: string;
  readonly port: number;
  readonly iface: string | undefined;
  readonly ip: string | undefined;
  readonly ttl: number;
  readonly loopback: boolean;

  constructor(group: string, options: MultiCastOptions) {
    if (typeof group !== 'string' || isIP(group) !== 4 || !isMulticastAddress(group)) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        `a multicast group is an IPv4 address from 224.0.0.0 to 239.255.255.255, got ${String(group)}`,
      );
    }
    this.group = group;
    this.port = parsePort(options?.port, 'MultiCast');
    this.iface = options.iface;
    this.ip = options.ip;
    if (options.ip !== undefined && isIP(options.ip) !== 4) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `MultiCast ip is an IPv4 address, got ${options.ip}`);
    }
    const ttl = options.ttl ?? 1;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', `MultiCast ttl is an integer from 0 to 255, got ${ttl}`);
    }
    this.ttl = ttl;
    this.loopback = options.loopback ?? true;
  }

  /** `MultiCast(group, port N)`, for logs. */
  toString(): string {
    return `MultiCast(${this.group}, port ${this.port})`;
  }
}

/** A server that is a member of a multicast group. */
export interface MultiCastMember extends HasServerLink {
  readonly multicast: MultiCast | undefined;
  readonly port: number | undefined;
}

/**
 * Sends to a server's multicast group from that server's own socket, so every member — the sender
 * included, with loopback on — receives it: `new MultiCastAddress(server).send('/foo', 'x')`.
 */
export class MultiCastAddress extends Address {
  readonly server: MultiCastMember;

  constructor(server: MultiCastMember, options: Pick<AddressOptions, 'noDelay'> = {}) {
    const mc = server.multicast;
    if (mc === undefined) {
      throw new OscConfigError('ERR_OSC_INVALID_OPTIONS', 'MultiCastAddress needs a server made with { multicast }');
    }
    // the group's port: the server's bound port when it was started with port 0
    const port = server.port ?? mc.port;
    if (port === 0) {
      throw new OscConfigError(
        'ERR_OSC_INVALID_OPTIONS',
        'start the server first: its group was given port 0, so its port is not known yet',
      );
    }
    super({ host: mc.group, port, proto: 'udp' }, { ...options, server });
    this.server = server;
  }
}

// A raw mDNS peer for the discovery tests, made with multicast-dns directly (not aiolo's code):
// it queries and listens as VRChat does, and advertises as VRChat does (the PTR in Answers, the
// SRV, TXT and A records in Additional only). Used only inside network namespaces.
import type { RemoteInfo } from 'node:dgram';
import type { Answer } from 'dns-packet';
import makeMdns from 'multicast-dns';
import { within } from '../helpers/async.js';

export type Mdns = makeMdns.MulticastDNS;
export type Response = makeMdns.ResponsePacket;

/** A peer on UDP 5353 (shared), joined on `sendOn` and sending out of it (it hears the rest too: IP_MULTICAST_ALL). */
export function peer(sendOn = '127.0.0.1'): Promise<Mdns> {
  const mdns = makeMdns({ reuseAddr: true, interface: sendOn, bind: '0.0.0.0' });
  mdns.on('warning', () => {});
  return new Promise((resolve, reject) => {
    mdns.once('error', reject);
    mdns.once('ready', () => {
      mdns.off('error', reject);
      mdns.on('error', () => {});
      resolve(mdns);
    });
  });
}

export function close(mdns: Mdns): Promise<void> {
  return new Promise((resolve) => mdns.destroy(() => resolve()));
}

/** The next response `pick` accepts (it returns what to resolve with, or undefined to go on). */
export function nextResponse<T>(
  mdns: Mdns,
  what: string,
  pick: (r: Response, rinfo: RemoteInfo) => T | undefined,
  ms = 5000,
): Promise<T> {
  let listener: ((r: Response, rinfo: RemoteInfo) => void) | undefined;
  const p = new Promise<T>((resolve) => {
    listener = (r, rinfo) => {
      const got = pick(r, rinfo);
      if (got !== undefined) resolve(got);
    };
    mdns.on('response', listener);
  });
  return within(ms, what, p).finally(() => {
    if (listener) mdns.off('response', listener);
  });
}

export function send(
  mdns: Mdns,
  packet: makeMdns.ResponseOutgoingPacket | makeMdns.QueryOutgoingPacket,
  query: boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null): void => (err ? reject(err) : resolve());
    if (query) mdns.query(packet as makeMdns.QueryOutgoingPacket, done);
    else mdns.respond(packet as makeMdns.ResponseOutgoingPacket, done);
  });
}

/** All records of a response, with the section each was in. */
export function records(r: Response): { section: 'answers' | 'additionals'; rec: Answer }[] {
  return [
    ...(r.answers ?? []).map((rec) => ({ section: 'answers' as const, rec })),
    ...(r.additionals ?? []).map((rec) => ({ section: 'additionals' as const, rec })),
  ];
}

/** What VRChat sends for `name` on one service type: the PTR in Answers, the rest in Additional. */
export function vrchatResponse(
  name: string,
  type: string,
  port: number,
  ttl = 120,
  parts: { srv?: boolean; txt?: boolean; a?: boolean } = {},
): makeMdns.ResponseOutgoingPacket {
  const instance = `${name}.${type}.local`;
  const host = `${name}.local`;
  const additionals: Answer[] = [];
  if (parts.srv !== false) additionals.push({ name: instance, type: 'SRV', ttl, data: { port, target: host } });
  if (parts.txt !== false) additionals.push({ name: instance, type: 'TXT', ttl, data: ['txtvers=1'] });
  if (parts.a !== false) additionals.push({ name: host, type: 'A', ttl, data: '127.0.0.1' });
  return { answers: [{ name: `${type}.local`, type: 'PTR', ttl, data: instance }], additionals };
}

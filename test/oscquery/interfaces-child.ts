// Discovery on a host with two interfaces, run inside a network namespace with loopback and a
// veth pair whose both ends stay inside (test/oscquery/discovery.test.ts, MDNS_TWO_INTERFACES):
// one answer per query when the query arrives by both interfaces, and the A record is always
// the address of the interface the answer leaves by (never 127.0.0.1 on v0).
import { advertise } from '../../src/oscquery/advertise.js';
import { until } from '../helpers/async.js';
import { Random } from '../helpers/random.js';
import { type Case, check, runCases } from '../netns/cases.js';
import { close, type Mdns, nextResponse, peer, type Response, records, send } from './peer.js';

const LAN = '10.99.0.1';
const r = new Random();
const tag = (): string => r.string(4, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789');

/** The addresses of every A record in a response. */
function aRecords(res: Response): string[] {
  return records(res)
    .filter((x) => x.rec.type === 'A')
    .map((x) => (x.rec as { data: string }).data);
}

/** Asks for `type` from both peers (lo and v0) at once; counts answers until a marker query is answered. */
async function askTwice(lo: Mdns, lan: Mdns, instance: string, type: string, marker: string) {
  const seen: { from: string; a: string[] }[] = [];
  const listener = (res: Response, rinfo: { address: string }): void => {
    const ptrs = records(res).filter((x) => x.rec.type === 'PTR');
    if (ptrs.length === 1 && (ptrs[0]?.rec as { data?: string } | undefined)?.data === instance)
      seen.push({ from: rinfo.address, a: aRecords(res) });
  };
  lo.on('response', listener);
  try {
    const done = nextResponse(lo, 'the marker answer', (res) =>
      records(res).some((x) => x.rec.type === 'PTR' && x.rec.name === marker) &&
      records(res).filter((x) => x.rec.type === 'PTR').length === 1
        ? true
        : undefined,
    );
    await Promise.all([
      send(lo, { questions: [{ name: type, type: 'PTR' }] }, true),
      send(lan, { questions: [{ name: type, type: 'PTR' }] }, true),
    ]);
    await until(3000, 'the first answer', () => seen.length > 0);
    // an answer sent twice would be on the wire before the answer to a query sent after it
    await send(lo, { questions: [{ name: marker, type: 'PTR' }] }, true);
    await done;
    return seen;
  } finally {
    lo.off('response', listener);
  }
}

async function announced(p: Mdns, instance: string): Promise<void> {
  // both announcements (RFC 6762 §8.3: the second a second later), so that none falls in a count
  let n = 0;
  await nextResponse(
    p,
    'two announcements',
    (res) =>
      records(res).some((x) => x.rec.type === 'PTR' && (x.rec as { data: string }).data === instance) && ++n === 2
        ? true
        : undefined,
    5000,
  );
}

const cases: [string, string, Case][] = [
  [
    'one-answer',
    'a query arriving by lo and by v0 gets one answer, from lo, with A 127.0.0.1 (the default interface)',
    async () => {
      const lo = await peer('127.0.0.1');
      const lan = await peer(LAN);
      const name = `two-${tag()}`;
      const instance = `${name}._oscjson._tcp.local`;
      const seenAnnouncements = announced(lo, instance);
      const ad = await advertise({ name, oscPort: 9100, oscTransport: 'udp', httpPort: 8100 });
      try {
        await seenAnnouncements;
        const before = ad.stats.queries;
        const seen = await askTwice(lo, lan, instance, '_oscjson._tcp.local', '_osc._udp.local');
        await until(2000, 'both copies of the query to arrive', () => ad.stats.queries - before >= 3);
        check(seen.length === 1, 'exactly one answer', { seen, stats: ad.stats });
        check(seen[0]?.from === '127.0.0.1' && seen[0].a.join() === '127.0.0.1', 'from lo, A 127.0.0.1', seen);
        return { seen, interface: ad.interface, queries: ad.stats.queries - before };
      } finally {
        await ad.stop();
        await close(lo);
        await close(lan);
      }
    },
  ],
  [
    'lan-address',
    "advertise({ interface: 'v0' }) answers once, from v0, with v0's address and no loopback address",
    async () => {
      const lo = await peer('127.0.0.1');
      const lan = await peer(LAN);
      const name = `lan-${tag()}`;
      const instance = `${name}._oscjson._tcp.local`;
      const everything: Response[] = [];
      const all = (res: Response, rinfo: { address: string }): void => {
        if (rinfo.address === LAN) everything.push(res);
      };
      lo.on('response', all);
      const seenAnnouncements = announced(lo, instance);
      const ad = await advertise({ name, oscPort: 9101, oscTransport: 'udp', httpPort: 8101, interface: 'v0' });
      try {
        check(ad.interface === 'v0' && ad.address === LAN, 'on v0', [ad.interface, ad.address]);
        await seenAnnouncements;
        const seen = await askTwice(lo, lan, instance, '_oscjson._tcp.local', '_osc._udp.local');
        check(seen.length === 1, 'exactly one answer', { seen, stats: ad.stats });
        check(seen[0]?.from === LAN && seen[0].a.join() === LAN, `from v0, A ${LAN}`, seen);
        const loopback = everything.flatMap(aRecords).filter((a) => a.startsWith('127.'));
        check(loopback.length === 0 && everything.length >= 3, 'no loopback address in anything sent on v0', {
          loopback,
          packets: everything.length,
        });
        return { seen, packetsFromV0: everything.length };
      } finally {
        lo.off('response', all);
        await ad.stop();
        await close(lo);
        await close(lan);
      }
    },
  ],
];

process.exitCode = await runCases(cases, ['lo', 'v0', 'v1']);

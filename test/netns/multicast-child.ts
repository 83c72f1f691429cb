// Multicast checks, run inside a network namespace by test/server/multicast.test.ts:
//
//   node --import tsx test/netns/multicast-child.ts
//
// Each case prints one JSON line, {"case", "ok", ...details} or {"case", "ok": false, "error"}, and
// a last line {"done": true, "passed", "failed"}; the exit code is 1 if any case failed. It refuses
// to run (exit code 2) where an interface other than loopback exists, so that no multicast packet
// can leave the machine. Waiting is always for an event with a deadline; "nothing more arrived" is
// shown by a sentinel message sent last ('end'), never by sleeping.
import {
  Address,
  type Incoming,
  Message,
  MultiCast,
  MultiCastAddress,
  type MultiCastOptions,
  Route,
  Server,
  TimeTag,
} from '../../src/index.js';
import { within } from '../helpers/async.js';
import { type Case, check, runCases } from './cases.js';

const WAIT_MS = 5000;
const END = 'end';

/** Starts `n` members of `group`: the first on any free port, the others on the port it got. */
async function startGroup(
  group: string,
  n: number,
  options: Omit<MultiCastOptions, 'port'> = {},
  servers: Server[] = [],
): Promise<{ servers: Server[]; port: number }> {
  const first = new Server({ multicast: new MultiCast(group, { ...options, port: 0 }) });
  servers.push(first);
  await first.start();
  const port = first.port as number;
  for (let i = 1; i < n; i++) {
    const server = new Server({ multicast: new MultiCast(group, { ...options, port }) });
    servers.push(server);
    await server.start();
  }
  return { servers, port };
}

/** The first string argument of everything a subscription yields before `count` END sentinels. */
async function collectUntilEnd(sub: AsyncIterable<readonly [string]>, what: string, count = 1): Promise<string[]> {
  const got: string[] = [];
  let ends = 0;
  const run = async (): Promise<string[]> => {
    for await (const [value] of sub) {
      if (value === END && ++ends === count) break;
      if (value !== END) got.push(value);
    }
    check(ends === count, `${what}: the subscription ended before ${count} '${END}'`, got);
    return got;
  };
  return within(WAIT_MS, `${what} (got ${JSON.stringify(got)})`, run());
}

async function stopAll(servers: Server[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}

const cases: [string, string, Case][] = [
  [
    'a',
    'three members each receive foo, bar and baz sent by a MultiCastAddress of one of them',
    async () => {
      const servers: Server[] = [];
      try {
        const shared = new Route('/foo', 's');
        const { port } = await startGroup('224.0.1.1', 3, {}, servers);
        const own = servers.map((s) => {
          s.route(shared);
          return s.route(new Route('/foo', 's')); // a route of each member's own, to tell them apart
        });
        const sharedSub = shared.sub();
        const ownSubs = own.map((r) => r.sub());
        const address = new MultiCastAddress(servers[1] as Server);
        for (const value of ['foo', 'bar', 'baz', END]) await address.send(shared, value);
        const perMember = await Promise.all(ownSubs.map((sub, i) => collectUntilEnd(sub, `member ${i}`)));
        for (const [i, got] of perMember.entries()) {
          check(JSON.stringify(got) === '["foo","bar","baz"]', `member ${i} received`, got);
        }
        // Python aiolo's test_multicast: the shared route receives each value exactly three times
        const all = await collectUntilEnd(sharedSub, 'the shared route', servers.length);
        const counts: Record<string, number> = {};
        for (const v of all) counts[v] = (counts[v] ?? 0) + 1;
        check(JSON.stringify(counts) === JSON.stringify({ foo: 3, bar: 3, baz: 3 }), 'shared route counts', counts);
        return { port, sender: address.url, perMember, counts };
      } finally {
        await stopAll(servers);
      }
    },
  ],
  [
    'b',
    "servers made with url osc.udp://224.0.1.9:PORT join the group (liblo's rule) and receive an Address's send",
    async () => {
      const servers: Server[] = [];
      try {
        const first = new Server({ url: 'osc.udp://224.0.1.9:0' });
        servers.push(first);
        await first.start();
        const port = first.port as number;
        const second = new Server({ url: `osc.udp://224.0.1.9:${port}` });
        servers.push(second);
        await second.start();
        for (const s of servers) {
          check(s.multicast?.group === '224.0.1.9', 'server.multicast.group', s.multicast?.group);
          check(s.url === `osc.udp://224.0.1.9:${port}/`, 'server.url', s.url);
        }
        const subs = servers.map((s) => s.route('/foo', 's').sub());
        const address = new Address({ host: '224.0.1.9', port });
        try {
          await address.send('/foo', 'hello');
          await address.send('/foo', END);
        } finally {
          await address.close();
        }
        const got = await Promise.all(subs.map((sub, i) => collectUntilEnd(sub, `member ${i}`)));
        for (const [i, g] of got.entries()) check(JSON.stringify(g) === '["hello"]', `member ${i} received`, g);
        return { port, urls: servers.map((s) => s.url), got };
      } finally {
        await stopAll(servers);
      }
    },
  ],
  [
    'c',
    "members joined on iface 'lo' (and on ip 127.0.0.1) receive from a member and from an Address sending on 'lo'",
    async () => {
      const servers: Server[] = [];
      try {
        const group = '224.0.1.2';
        const { port } = await startGroup(group, 2, { iface: 'lo' }, servers);
        const byIp = new Server({ multicast: new MultiCast(group, { port, ip: '127.0.0.1' }) });
        servers.push(byIp);
        await byIp.start();
        const subs = servers.map((s) => s.route('/foo', 's').sub());
        await new MultiCastAddress(servers[0] as Server).send('/foo', 'from a member');
        const address = new Address({ host: group, port }, { iface: 'lo' });
        try {
          await address.send('/foo', 'from an address');
          await address.send('/foo', END);
        } finally {
          await address.close();
        }
        const got = await Promise.all(subs.map((sub, i) => collectUntilEnd(sub, `member ${i}`)));
        for (const [i, g] of got.entries()) {
          check(JSON.stringify([...g].sort()) === '["from a member","from an address"]', `member ${i} received`, g);
        }
        return { port, got };
      } finally {
        await stopAll(servers);
      }
    },
  ],
  [
    'd',
    'a unicast send to 127.0.0.1:PORT reaches one member of the group',
    async () => {
      const servers: Server[] = [];
      try {
        const { port } = await startGroup('224.0.1.3', 2, {}, servers);
        const subs = servers.map((s) => s.route('/foo', 's').sub());
        const unicast = new Address({ host: '127.0.0.1', port });
        try {
          await unicast.send('/foo', 'unicast');
        } finally {
          await unicast.close();
        }
        // the sentinel goes to the group, so it reaches every member, after the unicast datagram
        await new MultiCastAddress(servers[0] as Server).send('/foo', END);
        const got = await Promise.all(subs.map((sub, i) => collectUntilEnd(sub, `member ${i}`)));
        const receivedBy = got.flatMap((g, i) => g.map((v) => ({ member: i, value: v })));
        // the members share the port with SO_REUSEADDR: Linux hands a unicast datagram to one of them
        check(
          receivedBy.length === 1 && receivedBy[0]?.value === 'unicast',
          'exactly one member receives it',
          receivedBy,
        );
        return { port, receivedBy };
      } finally {
        await stopAll(servers);
      }
    },
  ],
  [
    'e',
    'a bundle sent to the group is dispatched at its timetag on every member',
    async () => {
      const servers: Server[] = [];
      try {
        const { port } = await startGroup('224.0.1.4', 3, {}, servers);
        const subs = servers.map((s) => s.route('/foo', 's').sub({ incoming: true }));
        const sent = TimeTag.now();
        const timetag = sent.add(0.3);
        await new MultiCastAddress(servers[2] as Server).bundle([new Message('/foo', 'timed')], timetag);
        const arrivals = await Promise.all(
          subs.map(async (sub, i) => {
            const it = sub[Symbol.asyncIterator]();
            const r = await within(WAIT_MS, `member ${i}'s timed message`, it.next());
            const at = TimeTag.now();
            await it.return?.();
            check(r.done !== true, `member ${i}: the subscription ended`);
            const item: Incoming<[string]> = r.value;
            check(item.args[0] === 'timed', `member ${i} received`, item.args);
            check(item.timetag.equals(timetag), `member ${i}'s timetag`, String(item.timetag));
            check(at.compare(timetag) >= 0, `member ${i} dispatched before the timetag`, {
              early: timetag.diff(at),
            });
            return { member: i, late: at.diff(timetag) };
          }),
        );
        for (const a of arrivals) check(a.late < 1, `member ${a.member} dispatched over 1 s late`, a);
        return { port, timetag: String(timetag), arrivals };
      } finally {
        await stopAll(servers);
      }
    },
  ],
];

process.exitCode = await runCases(cases, ['lo']);

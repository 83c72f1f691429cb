// Discovery checks run inside a network namespace with only loopback (test/oscquery/discovery.test.ts):
// aiolo's advertise() and browse() against a raw mDNS peer that behaves like VRChat. One JSON line
// per case (test/netns/cases.ts); randomness from AIOLO_SEED.
import { createSocket } from 'node:dgram';
import type { Answer } from 'dns-packet';
import { main } from '../../src/cli/commands.js';
import { advertise } from '../../src/oscquery/advertise.js';
import { type BrowseEvent, browse } from '../../src/oscquery/browse.js';
import { until, within } from '../helpers/async.js';
import { Capture } from '../helpers/io.js';
import { Random } from '../helpers/random.js';
import { type Case, check, runCases } from '../netns/cases.js';
import { close, nextResponse, peer, records, send, vrchatResponse } from './peer.js';

const r = new Random();
const tag = (): string => r.string(4, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789');

async function nextEvent(it: AsyncIterator<BrowseEvent>, what: string, ms = 5000): Promise<BrowseEvent> {
  const n = await within(ms, what, it.next());
  check(n.done !== true, `${what}: the iteration ended`);
  return n.value;
}

/** The next event about `name` (others are skipped). */
async function eventFor(it: AsyncIterator<BrowseEvent>, name: string, what: string, ms = 5000): Promise<BrowseEvent> {
  for (;;) {
    const ev = await nextEvent(it, what, ms);
    if (ev.service.name === name) return ev;
  }
}

const cases: [string, string, Case][] = [
  [
    'ptr-in-answers',
    'a VRChat-like query for _oscjson._tcp gets the PTR in Answers, with SRV, TXT and A 127.0.0.1',
    async () => {
      const p = await peer();
      const name = `aiolo-${tag()}`;
      const ad = await advertise({ name, oscPort: 9001, oscTransport: 'udp', httpPort: 8081 });
      try {
        const out: Record<string, unknown> = {};
        for (const [type, port] of [
          ['_oscjson._tcp', 8081],
          ['_osc._udp', 9001],
        ] as const) {
          const before = ad.stats.answered;
          const instance = `${name}.${type}.local`;
          const got = nextResponse(p, `an answer for ${type}`, (res) => {
            const all = records(res);
            // the answer to this query: its PTR alone (an announcement has both types')
            const ptrs = all.filter((x) => x.rec.type === 'PTR');
            const ptr = ptrs[0];
            return ptr !== undefined && ptrs.length === 1 && (ptr.rec as { data?: unknown }).data === instance
              ? { ptr, all }
              : undefined;
          });
          await send(p, { questions: [{ name: `${type}.local`, type: 'PTR' }] }, true);
          const { ptr, all } = await got;
          await until(2000, 'the advertisement to count the answer', () => ad.stats.answered > before);
          check(ptr.section === 'answers', 'the PTR is in Answers', ptr);
          const srv = all.find((x) => x.rec.type === 'SRV' && x.rec.name === instance)?.rec as
            | { data: { port: number; target: string } }
            | undefined;
          check(srv?.data.port === port, 'the SRV has the port', srv);
          const a = all.filter((x) => x.rec.type === 'A').map((x) => x.rec as { name: string; data: string });
          check(a.length === 1 && a[0]?.data === '127.0.0.1' && a[0].name === srv.data.target, 'one A, 127.0.0.1', a);
          const txt = all.find((x) => x.rec.type === 'TXT' && x.rec.name === instance)?.rec as { data: Buffer[] };
          check(txt.data.map(String).includes('txtvers=1'), 'TXT has txtvers=1', txt.data.map(String));
          out[type] = all.map((x) => `${x.section}:${x.rec.type}`);
        }
        return out;
      } finally {
        await ad.stop();
        await close(p);
      }
    },
  ],
  [
    'vrchat-additional',
    'browse() resolves VRChat-Client-XXXX with SRV/TXT/A only in Additional; goodbye is down, a restart is up again',
    async () => {
      const p = await peer();
      const name = `VRChat-Client-${tag()}`;
      let port = 9000 + r.int(1, 999);
      // VRChat answers queries for its types as it announces: PTR in Answers, the rest in Additional
      p.on('query', (q) => {
        if ((q.questions ?? []).some((x) => x.name === '_oscjson._tcp.local')) {
          void send(p, vrchatResponse(name, '_oscjson._tcp', port), false).catch(() => {});
        }
      });
      const b = browse({ types: ['_oscjson._tcp'] });
      const it = b[Symbol.asyncIterator]();
      try {
        await b.ready;
        await send(p, vrchatResponse(name, '_oscjson._tcp', port), false);
        const up = await eventFor(it, name, 'up');
        check(up.type === 'up' && up.service.port === port, 'up with the port', up);
        check(
          up.service.addresses.join() === '127.0.0.1' && up.service.host === `${name}.local`,
          'host and address',
          up,
        );
        check(up.service.txt.txtvers === '1', 'txt', up);
        // VRChat quits: goodbye (TTL 0)
        await send(p, vrchatResponse(name, '_oscjson._tcp', port, 0), false);
        const down = await eventFor(it, name, 'down');
        check(down.type === 'down', 'down after goodbye', down);
        check(b.services().length === 0, 'nothing up', b.services());
        // VRChat starts again, on another port
        port += 1;
        await send(p, vrchatResponse(name, '_oscjson._tcp', port), false);
        const again = await eventFor(it, name, 'up again');
        check(again.type === 'up' && again.service.port === port, 'up again with the new port', again);
        return { events: [up.type, down.type, again.type], stats: b.stats };
      } finally {
        await b.stop();
        await close(p);
      }
    },
  ],
  [
    'query-missing',
    'browse() asks for the SRV/TXT and the A record a bare PTR lacks, and resolves the service',
    async () => {
      const p = await peer();
      const name = `bare-${tag()}`;
      const instance = `${name}._osc._udp.local`;
      const asked: string[] = [];
      p.on('query', (q) => {
        for (const question of q.questions ?? []) {
          if (question.name === instance && (question.type === 'SRV' || question.type === 'TXT')) {
            asked.push(question.type);
            void send(
              p,
              { answers: vrchatResponse(name, '_osc._udp', 7777, 120, { a: false }).additionals ?? [] },
              false,
            );
          }
          if (question.name === `${name}.local` && question.type === 'A') {
            asked.push('A');
            void send(p, { answers: [{ name: `${name}.local`, type: 'A', ttl: 120, data: '127.0.0.1' }] }, false);
          }
        }
      });
      const b = browse({ types: ['_osc._udp'] });
      try {
        await b.ready;
        await send(p, vrchatResponse(name, '_osc._udp', 7777, 120, { srv: false, txt: false, a: false }), false);
        const up = await eventFor(b, name, 'up');
        check(up.type === 'up' && up.service.port === 7777 && up.service.addresses[0] === '127.0.0.1', 'resolved', up);
        check(asked.includes('SRV') && asked.includes('A'), 'asked for SRV and A', asked);
        return { asked };
      } finally {
        await b.stop();
        await close(p);
      }
    },
  ],
  [
    'goodbye',
    'stop() sends goodbye packets (TTL 0) for every record; a second stop() is a no-op',
    async () => {
      const p = await peer();
      const name = `bye-${tag()}`;
      const ad = await advertise({ name, oscPort: 9002, oscTransport: 'tcp', httpPort: 8082 });
      const bye = nextResponse(p, 'the goodbye', (res) => {
        const all = records(res);
        return all.some((x) => x.rec.type === 'PTR' && (x.rec as { ttl: number }).ttl === 0) ? all : undefined;
      });
      await ad.stop();
      await ad.stop();
      const all = await bye;
      const kinds = all.map((x) => `${x.rec.type}:${(x.rec as { ttl: number }).ttl}`).sort();
      check(
        all.every((x) => (x.rec as { ttl: number }).ttl === 0),
        'every record has TTL 0',
        kinds,
      );
      const ptrs = all.filter((x) => x.rec.type === 'PTR').map((x) => (x.rec as { data: string }).data);
      check(
        ptrs.includes(`${name}._osc._tcp.local`) && ptrs.includes(`${name}._oscjson._tcp.local`),
        'both PTRs',
        ptrs,
      );
      await close(p);
      return { kinds };
    },
  ],
  [
    'bounded',
    'browse({ maxServices: 4 }) follows four of ten services and counts the rest; an oversized TXT is refused',
    async () => {
      const p = await peer();
      const b = browse({ types: ['_osc._udp'], maxServices: 4 });
      try {
        await b.ready;
        const answers: Answer[] = [];
        const additionals: Answer[] = [];
        const names = Array.from({ length: 10 }, (_, i) => `many-${i}-${tag()}`);
        for (const n of names) {
          const v = vrchatResponse(n, '_osc._udp', 6000, 120, { txt: false });
          answers.push(...(v.answers ?? []));
          additionals.push(...(v.additionals ?? []));
        }
        // one TXT beyond 1300 bytes
        additionals.push({
          name: `${names[0]}._osc._udp.local`,
          type: 'TXT',
          ttl: 120,
          data: Array(8).fill(`k=${'x'.repeat(200)}`),
        });
        const before = b.stats.responses;
        await send(p, { answers, additionals }, false);
        await until(3000, 'the packet to be read', () => b.stats.responses > before);
        const up = b.services().map((s) => s.name);
        check(up.length === 4, 'four services', up);
        check(b.stats.overLimit === 6, 'six over the limit', b.stats);
        check(b.stats.malformed >= 1, 'the oversized TXT counted', b.stats);
        return { up, stats: b.stats };
      } finally {
        await b.stop();
        await close(p);
      }
    },
  ],
  [
    'malformed',
    'random bytes and hostile records to 5353 neither crash nor stop the browser or the advertisement',
    async () => {
      const p = await peer();
      const raw = createSocket('udp4');
      const name = `sturdy-${tag()}`;
      const ad = await advertise({ name, oscPort: 9003, oscTransport: 'udp' });
      const b = browse({ types: ['_osc._udp'] });
      try {
        await b.ready;
        const send1 = (buf: Uint8Array, host: string) =>
          new Promise<void>((res, rej) => raw.send(buf, 5353, host, (err) => (err ? rej(err) : res())));
        for (let i = 0; i < 300; i++) {
          const bytes = r.bytes(r.int(0, 600));
          // half of them look like a DNS response (header flags), so parsing goes deeper
          if (i % 2 === 0 && bytes.length >= 12) {
            bytes[2] = 0x84;
            bytes[3] = 0;
          }
          await send1(bytes, r.bool() ? '224.0.0.251' : '127.0.0.1');
        }
        // parseable but hostile: wrong data types, a PTR outside its type, TTL 0 for the unknown, odd names
        const hostile: Answer[] = [
          { name: '_osc._udp.local', type: 'PTR', ttl: 120, data: 'elsewhere._http._tcp.local' },
          { name: '_osc._udp.local', type: 'PTR', ttl: 120, data: '_osc._udp.local' },
          { name: '_osc._udp.local', type: 'PTR', ttl: 0, data: 'never-seen._osc._udp.local' },
          { name: 'x._osc._udp.local', type: 'A', ttl: 120, data: '1.2.3.4' },
          { name: '__proto__._osc._udp.local', type: 'TXT', ttl: 120, data: ['__proto__=1', '=', 'constructor'] },
        ];
        await send(p, { answers: hostile }, false);
        await send(
          p,
          {
            questions: [
              { name: '_osc._udp.local', type: 'PTR' },
              { name: '', type: 'A' },
            ],
          },
          true,
        );
        // still working: the advertisement is found, and answers
        const up = await eventFor(b, name, 'up after the garbage', 8000);
        check(up.type === 'up' && up.service.port === 9003, 'up', up);
        return { malformed: b.stats.malformed, responses: b.stats.responses };
      } finally {
        raw.close();
        await b.stop();
        await ad.stop();
        await close(p);
      }
    },
  ],
  [
    'conflict',
    'a name another host answers for is given up for "name (2)" while probing (RFC 6762 §9)',
    async () => {
      const p = await peer();
      const name = `Clash-${tag()}`;
      const instance = `${name}._osc._udp.local`;
      p.on('query', (q) => {
        if ((q.questions ?? []).some((x) => x.name.toLowerCase() === instance.toLowerCase())) {
          void send(
            p,
            {
              answers: [
                { name: instance, type: 'SRV', ttl: 120, flush: true, data: { port: 1234, target: 'other.local' } },
              ],
            },
            false,
          );
        }
      });
      const ad = await advertise({ name, oscPort: 9004, oscTransport: 'udp' });
      try {
        check(ad.name === `${name} (2)`, 'renamed', ad.name);
        check(
          ad.conflicts.length === 1 && ad.conflicts[0]?.code === 'ERR_OSC_MDNS_NAME_CONFLICT',
          'reported',
          ad.conflicts,
        );
        return { name: ad.name, conflict: ad.conflicts[0]?.message };
      } finally {
        await ad.stop();
        await close(p);
      }
    },
  ],
  [
    'cli',
    'aiolo discover prints + and - lines (and --json) for a service coming and going, and stops on its signal',
    async () => {
      const out: Record<string, string[]> = {};
      for (const json of [false, true]) {
        const stdout = new Capture();
        const stderr = new Capture();
        const stop = new AbortController();
        const argv = ['discover', '--type', '_osc._udp', ...(json ? ['--json'] : [])];
        const run = main(argv, { stdout, stderr }, stop.signal);
        const name = `cli ${tag()}`;
        const ad = await advertise({ name, oscPort: 9005, oscTransport: 'udp', txt: { app: 'test' } });
        try {
          await until(5000, 'an up line', () => stdout.text.includes(json ? '"event":"up"' : '+ '));
        } finally {
          await ad.stop();
        }
        await until(5000, 'a down line', () => stdout.text.includes(json ? '"event":"down"' : '- '));
        stop.abort();
        const code = await within(5000, 'discover to stop', run);
        check(code === 0 && stderr.text === '', 'exit 0, no stderr', { code, stderr: stderr.text });
        const lines = stdout.text.trim().split('\n');
        if (json) {
          const evs = lines.map(
            (l) => JSON.parse(l) as { event: string; name: string; port: number; txt: Record<string, string> },
          );
          check(
            evs[0]?.event === 'up' && evs[0].name === name && evs[0].port === 9005 && evs[0].txt.app === 'test',
            'json up',
            evs,
          );
          check(evs[1]?.event === 'down', 'json down', evs);
        } else {
          check(
            lines[0] === `+ ${JSON.stringify(name)} _osc._udp ${ad.host}:9005 127.0.0.1 txtvers=1 app=test`,
            'up line',
            lines,
          );
          check(lines[1] === `- ${JSON.stringify(name)} _osc._udp ${ad.host}:9005`, 'down line', lines);
        }
        out[json ? 'json' : 'text'] = lines;
      }
      return out;
    },
  ],
];

process.exitCode = await runCases(cases, ['lo']);

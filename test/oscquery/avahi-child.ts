// Against Avahi, inside the namespaces test/helpers/avahi.ts makes (avahi-daemon on lo): aiolo
// binds 5353 beside the daemon, avahi-browse resolves aiolo's services, and aiolo's browse()
// resolves a service avahi-publish publishes, then sees it go.
import { spawn, spawnSync } from 'node:child_process';
import { advertise } from '../../src/oscquery/advertise.js';
import { type BrowseEvent, browse } from '../../src/oscquery/browse.js';
import { within } from '../helpers/async.js';
import { Random } from '../helpers/random.js';
import { type Case, check, runCases } from '../netns/cases.js';

const r = new Random();
const tag = (): string => r.string(4, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789');

/** avahi-browse -rtp TYPE's resolved lines, `=;lo;IPv4;NAME;TYPE;local;HOST;ADDRESS;PORT;TXT`, `\\032`-style escapes undone. */
function avahiBrowse(type: string): string[][] {
  const res = spawnSync('avahi-browse', ['-rtp', type], { encoding: 'utf8', timeout: 10_000 });
  return res.stdout
    .split('\n')
    .filter((l) => l.startsWith('='))
    .map((l) => l.split(';').map((f) => f.replace(/\\(\d{3})/g, (_, d: string) => String.fromCharCode(Number(d)))));
}

async function eventFor(it: AsyncIterator<BrowseEvent>, name: string, what: string): Promise<BrowseEvent> {
  for (;;) {
    const n = await within(10_000, what, it.next());
    check(n.done !== true, `${what}: ended`);
    if (n.value.service.name === name) return n.value;
  }
}

const cases: [string, string, Case][] = [
  [
    'avahi-browse',
    'with avahi-daemon on 5353, aiolo advertises and avahi-browse -rtp resolves _oscjson._tcp and _osc._udp',
    async () => {
      const name = `aiolo avahi ${tag()}`;
      const ad = await advertise({ name, oscPort: 9200, oscTransport: 'udp', httpPort: 8200, txt: { app: 'aiolo' } });
      try {
        const out: Record<string, string[]> = {};
        for (const [type, port] of [
          ['_oscjson._tcp', 8200],
          ['_osc._udp', 9200],
        ] as const) {
          const line = avahiBrowse(type).find((f) => f[3] === name);
          check(line !== undefined, `avahi-browse resolves ${type}`, avahiBrowse(type));
          check(line[7] === '127.0.0.1' && line[8] === String(port), 'address and port', line);
          check(line[9]?.includes('"txtvers=1"') === true && line[9].includes('"app=aiolo"'), 'TXT', line);
          check(line[6] === ad.host, 'host', line);
          out[type] = line;
        }
        check(spawnSync('avahi-daemon', ['--check']).status === 0, 'avahi-daemon still runs');
        return out;
      } finally {
        await ad.stop();
      }
    },
  ],
  [
    'avahi-publish',
    'browse() resolves what avahi-publish -s publishes (port, TXT, address), and sees it go when it stops',
    async () => {
      const name = `avahi-published-${tag()}`;
      const port = 9000 + r.int(300, 999);
      const b = browse({ types: ['_osc._udp'] });
      const it = b[Symbol.asyncIterator]();
      const pub = spawn('avahi-publish', ['-s', name, '_osc._udp', String(port), 'txtvers=1', 'from=avahi'], {
        stdio: 'ignore',
      });
      try {
        await b.ready;
        const up = await eventFor(it, name, 'up');
        check(up.type === 'up' && up.service.port === port, 'up with the port', up);
        check(up.service.txt.from === 'avahi' && up.service.addresses.includes('127.0.0.1'), 'txt and address', up);
        pub.kill('SIGTERM');
        const down = await eventFor(it, name, 'down');
        check(down.type === 'down', 'down when avahi-publish stops', down);
        return { up: up.service, down: down.type };
      } finally {
        pub.kill('SIGKILL');
        await b.stop();
      }
    },
  ],
];

process.exitCode = await runCases(cases, ['lo']);

// mDNS / DNS-SD discovery (advertise, browse, aiolo discover), kept on this machine: every test
// that sends mDNS runs a child script in a fresh network namespace (test/helpers/netns.ts) —
// loopback only; loopback and a veth pair whose both ends stay inside; or loopback with a real
// avahi-daemon (test/helpers/avahi.ts). The children report each case as a JSON line.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { advertise } from '../../src/oscquery/advertise.js';
import { browse } from '../../src/oscquery/browse.js';
import { needAvahi, runWithAvahi } from '../helpers/avahi.js';
import { aiolo } from '../helpers/io.js';
import { caseLines, describeResult, NETNS_SETUP, type NetnsResult, needNetns, runInNetns } from '../helpers/netns.js';
import { type Random, seeded } from '../helpers/random.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT_MS = 90_000;

/** Loopback and a veth pair (v0 10.99.0.1/24, v1) with both ends inside: nothing to leave by. */
const TWO_INTERFACES =
  `${NETNS_SETUP} && ip link add v0 type veth peer name v1 && ` +
  'ip addr add 10.99.0.1/24 dev v0 && ip link set v0 up && ip link set v1 up';

/** Every case of a child passed, each one named, and it exited 0. */
function assertCases(r: NetnsResult, ids: readonly string[], seed: Random): void {
  const lines = caseLines(r);
  for (const id of ids) {
    const line = lines.find((l) => l.case === id);
    assert.ok(line !== undefined, `case ${id} did not report ${seed.replay}\n${describeResult(r)}`);
    assert.equal(line.ok, true, `case ${id} failed: ${line.error} ${seed.replay}\n${describeResult(r)}`);
  }
  assert.deepEqual(lines.at(-1), { done: true, passed: ids.length, failed: 0 }, describeResult(r));
  assert.equal(r.code, 0, describeResult(r));
}

function child(script: string, r: Random, setup?: string): Promise<NetnsResult> {
  return runInNetns([process.execPath, '--import', 'tsx', script], {
    cwd: ROOT,
    timeoutMs: TIMEOUT_MS - 10_000,
    env: { ...process.env, AIOLO_SEED: String(r.seed) },
    setup,
  });
}

describe('discovery against a simulated VRChat peer (loopback namespace)', () => {
  test(
    'PTR in Answers with A 127.0.0.1; SRV/A in Additional resolved; goodbye is down, restart is up; missing records asked for; goodbye on stop; bounded; hostile packets; conflicts; aiolo discover',
    {
      timeout: TIMEOUT_MS,
    },
    seeded(async (r, t) => {
      if (!needNetns(t)) return;
      const res = await child('test/oscquery/discovery-child.ts', r);
      assertCases(
        res,
        ['ptr-in-answers', 'vrchat-additional', 'query-missing', 'goodbye', 'bounded', 'malformed', 'conflict', 'cli'],
        r,
      );
    }),
  );
});

describe('discovery on a host with two interfaces (lo and a veth pair)', () => {
  test(
    'one answer per query; the A record is the address of the interface answered on, never loopback on v0',
    {
      timeout: TIMEOUT_MS,
    },
    seeded(async (r, t) => {
      if (!needNetns(t)) return;
      const res = await child('test/oscquery/interfaces-child.ts', r, TWO_INTERFACES);
      assertCases(res, ['one-answer', 'lan-address'], r);
    }),
  );
});

describe('discovery beside Avahi (avahi-daemon on lo, in a namespace)', () => {
  test(
    'avahi-browse resolves aiolo; browse() resolves avahi-publish; both share 5353',
    {
      timeout: TIMEOUT_MS,
    },
    seeded(async (r, t) => {
      if (!needAvahi(t)) return;
      const res = await runWithAvahi([process.execPath, '--import', 'tsx', 'test/oscquery/avahi-child.ts'], {
        cwd: ROOT,
        timeoutMs: TIMEOUT_MS - 10_000,
        env: { ...process.env, AIOLO_SEED: String(r.seed) },
      });
      assertCases(res, ['avahi-browse', 'avahi-publish'], r);
    }),
  );
});

describe('options and the command line (no packets)', () => {
  test('bad options throw OscConfigError synchronously', () => {
    const bad = [
      { name: 'a.b', oscPort: 9000, oscTransport: 'udp' },
      { name: '', oscPort: 9000, oscTransport: 'udp' },
      { name: 'x'.repeat(64), oscPort: 9000, oscTransport: 'udp' },
      { name: 'ok', oscPort: 0, oscTransport: 'udp' },
      { name: 'ok', oscPort: 9000, oscTransport: 'sctp' },
      { name: 'ok', oscPort: 9000, oscTransport: 'udp', httpPort: 70000 },
      { name: 'ok', oscPort: 9000, oscTransport: 'udp', interface: 'no-such-interface0' },
      { name: 'ok', oscPort: 9000, oscTransport: 'udp', ttl: -1 },
    ];
    for (const o of bad) {
      assert.throws(
        () => advertise(o as Parameters<typeof advertise>[0]),
        { name: 'OscConfigError', code: 'ERR_OSC_INVALID_OPTIONS' },
        JSON.stringify(o),
      );
    }
    assert.throws(() => browse({ types: ['_http._tcp' as '_osc._udp'] }), { code: 'ERR_OSC_INVALID_OPTIONS' });
    assert.throws(() => browse({ maxServices: 0 }), { code: 'ERR_OSC_INVALID_OPTIONS' });
  });

  test('a browser made with an aborted signal ends at once, having opened nothing', async () => {
    const b = browse({ signal: AbortSignal.abort() });
    assert.deepEqual(await b.next(), { value: undefined, done: true });
    await b.stop();
  });

  test('aiolo discover --help, and its argument errors', async () => {
    const help = await aiolo(['discover', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout.toString(), /^Usage: aiolo discover/);
    const bad = await aiolo(['discover', '--type', '_http._tcp']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown type '_http\._tcp'/);
    const missing = await aiolo(['discover', '--type']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--type needs a value/);
  });
});

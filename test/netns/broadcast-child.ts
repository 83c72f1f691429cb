// Broadcast checks, run inside a network namespace by test/server/broadcast.test.ts:
//
//   node --import tsx test/netns/broadcast-child.ts
//
// The namespace (NETNS_BROADCAST_SETUP) has a veth pair whose both ends stay inside it, v0 with
// 10.99.0.1/24: a broadcast has nowhere to go but this namespace's own sockets. Each case prints one
// JSON line, {"case", "ok", ...} or {"case", "ok": false, "error"}, then {"done", "passed", "failed"}.
// It refuses to run (exit code 2) where any interface but lo, v0 and v1 exists.
import { execFileSync } from 'node:child_process';
import { Address, Server } from '../../src/index.js';
import { take } from '../helpers/async.js';
import { LoReceiver } from '../helpers/lo.js';
import { type Case, check, runCases } from './cases.js';

const LIMITED = '255.255.255.255';
const DIRECTED = '10.99.0.255';

/** An aiolo server on every address (as liblo's servers are), receiving `/b ,i`. */
async function server() {
  const s = new Server({ port: 0 });
  await s.start();
  return { s, sub: s.route('/b', 'i').sub() };
}

const cases: [string, string, Case][] = [
  ...[LIMITED, DIRECTED].map((to): [string, string, Case] => [
    `aiolo-${to}`,
    `an Address to ${to} reaches an aiolo server on every address`,
    async () => {
      const { s, sub } = await server();
      const address = new Address({ host: to, port: s.port as number });
      try {
        await address.send('/b', 1);
        check((await take(sub, 1))[0]?.[0] === 1, 'received /b 1');
        return { port: s.port };
      } finally {
        await address.close();
        await s.stop();
      }
    },
  ]),
  [
    'oscsend',
    `liblo's oscsend to ${LIMITED} reaches an aiolo server`,
    async () => {
      const { s, sub } = await server();
      try {
        execFileSync('oscsend', [`osc.udp://${LIMITED}:${s.port}`, '/b', 'i', '2'], { timeout: 5000 });
        check((await take(sub, 1))[0]?.[0] === 2, 'received /b 2');
        return { port: s.port };
      } finally {
        await s.stop();
      }
    },
  ],
  [
    'liblo-server',
    `an Address to ${LIMITED} and to ${DIRECTED} reaches a liblo server`,
    async () => {
      await using lo = await LoReceiver.start('udp');
      const limited = new Address({ host: LIMITED, port: lo.port });
      const directed = new Address({ host: DIRECTED, port: lo.port });
      try {
        await limited.send('/b', 3);
        await directed.send('/b', 4);
        const got = await lo.waitFor(2);
        const values = got.map((m) => m.message.args[0]).sort();
        check(JSON.stringify(values) === JSON.stringify([3, 4]), 'liblo dispatched /b 3 and /b 4', got);
        return { port: lo.port };
      } finally {
        await limited.close();
        await directed.close();
      }
    },
  ],
];

process.exitCode = await runCases(cases, ['lo', 'v0', 'v1']);

// Replies to a link-local IPv6 sender, in network namespaces of their own (test/server/link-local
// .test.ts makes them): this namespace has two veth links with link-local addresses, x0 (a decoy
// whose fe80::/64 route comes first) and v0 (fe80::a), whose peer v1 (fe80::b) is in namespace c.
// A reply to fe80::b without its interface would follow the first route and be lost; with it
// (`fe80::b%v0`, as Node's dgram writes a link-local sender) it arrives.
//   role 'server' (here): serves, runs the client in c, prints {"case", "ok", ...} and {"done"}
//   role 'client' <port> (in c): sends /ping from fe80::b to the server, prints whether /pong came
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Server } from '../../src/index.js';
import { udpPath } from '../../src/transport/native.js';
import { within } from '../helpers/async.js';
import { check, runCases } from './cases.js';

/** Until `iface` is up: the veth pairs come up a moment after `ip link set up` returns. */
async function up(iface: string): Promise<void> {
  // (`ip`, not /sys/class/net: that sysfs belongs to the namespace it was mounted in)
  const state = () =>
    (JSON.parse(execFileSync('ip', ['-j', 'link', 'show', iface], { encoding: 'utf8' })) as { operstate: string }[])[0]
      ?.operstate;
  await within(
    10_000,
    `${iface} up`,
    (async () => {
      while (state() !== 'UP') await new Promise((resolve) => setTimeout(resolve, 5));
    })(),
  );
}

const PING = Buffer.from('/ping\0\0\0,\0\0\0', 'binary');

if (process.argv[2] === 'client') {
  await up('v1');
  const socket = createSocket('udp6');
  await new Promise<void>((resolve) => socket.bind(0, 'fe80::b%v1', resolve));
  const reply = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString('latin1'))));
  socket.send(PING, Number(process.argv[3]), 'fe80::a%v1');
  const got = await within(5000, 'the reply', reply).then(
    (m) => m.split('\0')[0],
    (err: unknown) => `none (${String(err)})`,
  );
  process.stdout.write(`${JSON.stringify({ reply: got })}\n`);
  socket.close();
} else {
  await up('v0');
  const code = await runCases(
    [
      [
        'link-local',
        'a reply to a link-local sender goes back by its interface',
        async () => {
          const server = new Server({ url: 'osc.udp://[::]:0' });
          await server.start();
          const sources: string[] = [];
          server.route('/ping').on((_args, m) => {
            sources.push(m.source.url);
            void m.source.send('/pong').catch(() => {});
          });
          try {
            const client = spawn(
              'ip',
              [
                'netns',
                'exec',
                'c',
                process.execPath,
                '--import',
                'tsx',
                import.meta.filename,
                'client',
                String(server.port),
              ],
              { stdio: ['ignore', 'pipe', 'inherit'] },
            );
            let out = '';
            client.stdout.setEncoding('utf8').on('data', (chunk: string) => {
              out += chunk;
            });
            await within(20_000, 'the client', new Promise((resolve) => client.once('close', resolve)));
            const reply = (JSON.parse(out) as { reply: string }).reply;
            check(
              sources.length === 1 && /^osc\.udp:\/\/\[fe80::b%v0\]:\d+\/$/.test(sources[0] as string),
              'the source',
              sources,
            );
            check(reply === '/pong', 'the client got the reply', reply);
            return { path: udpPath, source: sources[0] };
          } finally {
            await server.stop();
          }
        },
      ],
    ],
    ['lo', 'x0', 'x1', 'v0'],
  );
  process.exit(code);
}

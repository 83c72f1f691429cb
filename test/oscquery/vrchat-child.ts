// VRChat and an aiolo app find each other and talk, inside a network namespace with only loopback
// (test/oscquery/vrchat.test.ts). The VRChat side is written here from its documentation and the
// issues in ../shared/reference/oscquery-vrchat.md, with raw multicast-dns, node:http and dgram —
// none of aiolo's code: it queries _oscjson._tcp, reads ?HOST_INFO and /avatar, sends OSC to
// OSC_PORT; and it advertises VRChat-Client-XXXX (PTR in Answers, SRV/A in Additional only),
// serving an /avatar tree whose float parameters aiolo must send as `f`.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { main } from '../../src/cli/commands.js';
import { browse, OscQueryServer, queryNamespace, Server } from '../../src/index.js';
import { within } from '../helpers/async.js';
import { Capture } from '../helpers/io.js';
import { Random } from '../helpers/random.js';
import { type Case, check, runCases } from '../netns/cases.js';
import { close, nextResponse, peer, records, send, vrchatResponse } from './peer.js';

const r = new Random();
const tag = (): string => r.string(6, 'ABCDEF0123456789');

const cases: [string, string, Case][] = [
  [
    'vrchat-finds-aiolo',
    'VRChat browses _oscjson._tcp, finds the aiolo app, reads ?HOST_INFO and /avatar, and sends to OSC_PORT',
    async () => {
      const app = await new Server('osc.udp://127.0.0.1:0').start();
      const velocity = app.route('/avatar/parameters/VelocityX', 'f', { range: { min: -1, max: 1 } });
      app.route('/avatar/change', 's');
      app.route('/tracking/vrsystem/head/pose', 'ffffff');
      const name = `aiolo-app-${tag()}`;
      const query = await new OscQueryServer(app, { name, advertise: true }).start();
      const vrchat = await peer();
      try {
        // VRChat's question: who serves _oscjson._tcp? (and the same for _osc._udp)
        const found = nextResponse(vrchat, 'an answer naming the app', (res) => {
          const all = records(res);
          const data = (x: { rec: unknown }) => (x.rec as { data?: unknown }).data;
          const ptr = all.find((x) => x.rec.type === 'PTR' && String(data(x)).startsWith(`${name}.`));
          if (ptr === undefined) return undefined;
          const srv = all.find((x) => x.rec.type === 'SRV' && x.rec.name === data(ptr));
          const a = all.find((x) => x.rec.type === 'A');
          return { ptr, srv, a };
        });
        await send(vrchat, { questions: [{ name: '_oscjson._tcp.local', type: 'PTR' }] }, true);
        const { ptr, srv, a } = await found;
        check(ptr.section === 'answers', 'the PTR is in Answers', ptr);
        check(a !== undefined && (a.rec as { data?: unknown }).data === '127.0.0.1', 'A 127.0.0.1 for a local app', a);
        const port = (srv?.rec as { data?: { port?: number } } | undefined)?.data?.port;
        check(port === query.port, 'SRV port = the HTTP port', { port, http: query.port });
        const info = (await (await fetch(`http://127.0.0.1:${port}/?HOST_INFO`)).json()) as Record<string, unknown>;
        check(info.OSC_PORT === app.port && info.OSC_TRANSPORT === 'UDP', 'HOST_INFO names the OSC port', info);
        const avatar = (await (await fetch(`http://127.0.0.1:${port}/avatar`)).json()) as {
          CONTENTS?: { parameters?: { CONTENTS?: Record<string, { TYPE?: string }> } };
        };
        check(
          avatar.CONTENTS?.parameters?.CONTENTS?.VelocityX?.TYPE === 'f',
          'the /avatar tree types VelocityX as f',
          avatar,
        );
        // VRChat sends a parameter to OSC_PORT: a datagram of its own making
        const got = velocity.next({ timeout: 5000 });
        const udp = createSocket('udp4');
        const bytes = Buffer.from(
          '2f6176617461722f706172616d65746572732f56656c6f6369747958000000002c6600003f000000',
          'hex',
        );
        udp.send(bytes, info.OSC_PORT as number, '127.0.0.1');
        const [v] = await got;
        udp.close();
        check(v === 0.5, 'the app received VelocityX 0.5', v);
        return { name, http: port, osc: info.OSC_PORT };
      } finally {
        await close(vrchat);
        await query.stop();
        await app.stop();
      }
    },
  ],
  [
    'aiolo-finds-vrchat',
    'the app browses for VRChat-Client-*, reads its tree (SRV/A only in Additional), and sends a float parameter as f, even 1',
    async () => {
      // VRChat's OSC port and OSCQuery HTTP server
      const osc = createSocket('udp4');
      osc.bind(0, '127.0.0.1');
      await once(osc, 'listening');
      const oscPort = osc.address().port;
      const http = createServer((req, res) => {
        const body = req.url?.includes('HOST_INFO')
          ? { NAME: 'VRChat-Client', OSC_IP: '127.0.0.1', OSC_PORT: oscPort, OSC_TRANSPORT: 'UDP' }
          : {
              FULL_PATH: '/',
              CONTENTS: {
                avatar: {
                  FULL_PATH: '/avatar',
                  CONTENTS: {
                    parameters: {
                      FULL_PATH: '/avatar/parameters',
                      CONTENTS: {
                        GestureWeight: {
                          FULL_PATH: '/avatar/parameters/GestureWeight',
                          TYPE: 'f',
                          ACCESS: 3,
                          VALUE: [0],
                        },
                        Grounded: { FULL_PATH: '/avatar/parameters/Grounded', TYPE: 'T', ACCESS: 1, VALUE: [true] },
                      },
                    },
                  },
                },
              },
            };
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      });
      http.listen(0, '127.0.0.1');
      await once(http, 'listening');
      const httpPort = (http.address() as AddressInfo).port;
      const name = `VRChat-Client-${tag()}`;
      const vrchat = await peer();
      // VRChat answers queries for its services as it does: PTR in Answers, the rest in Additional
      vrchat.on('query', (q) => {
        for (const question of q.questions ?? []) {
          if (question.name === '_oscjson._tcp.local')
            void send(vrchat, vrchatResponse(name, '_oscjson._tcp', httpPort), false);
          if (question.name === '_osc._udp.local') void send(vrchat, vrchatResponse(name, '_osc._udp', oscPort), false);
        }
      });
      const browser = browse({ types: ['_oscjson._tcp'] });
      try {
        await send(vrchat, vrchatResponse(name, '_oscjson._tcp', httpPort), false); // its announcement
        let url: string | undefined;
        for await (const ev of browser) {
          if (ev.type === 'up' && ev.service.name.startsWith('VRChat-Client-')) {
            url = `http://${ev.service.addresses[0]}:${ev.service.port}/`;
            break;
          }
        }
        check(url === `http://127.0.0.1:${httpPort}/`, 'found VRChat at its HTTP port', url);
        const ns = await queryNamespace(url as string);
        const address = ns.address();
        const datagram = once(osc, 'message');
        await address.send(ns.target('/avatar/parameters/GestureWeight'), 1);
        const [packet] = (await within(5000, 'VRChat to receive the parameter', datagram)) as [Buffer];
        await address.close();
        const hex = packet.toString('hex');
        check(hex.endsWith('2c6600003f800000'), 'sent as ,f 1.0 (not ,i 1)', hex);
        // `aiolo query VRChat-Client-*` finds it by name and prints its tree
        const stdout = new Capture();
        const stderr = new Capture();
        const code = await main(['query', 'VRChat-Client-*'], { stdout, stderr });
        check(code === 0, 'aiolo query by service name exits 0', { code, stderr: stderr.text });
        check(stdout.text.includes('GestureWeight'), 'it prints the parameters', stdout.text);
        return { url, hex };
      } finally {
        await browser.stop();
        await close(vrchat);
        http.close();
        osc.close();
      }
    },
  ],
];

process.exitCode = await runCases(cases, ['lo']);

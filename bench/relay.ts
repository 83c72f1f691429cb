// A relay process for the WebSocket benchmark: listens for WebSocket clients on an ephemeral loopback
// port and forwards every OSC packet they send to a UDP port, as each library does it:
//   node --import tsx bench/relay.ts <aiolo|osc.js|osc-js> <udp port>
//   stdout: "PORT <n>" (the WebSocket port); stdin: "quit" or EOF stops it, and it prints
//   {"forwarded":N,"lost":L,"errors":E} (what it knows of: aiolo's bridge counts both, osc.js and
//   osc-js only report errors) and exits.
// aiolo: bridge('osc.ws://127.0.0.1:0/', 'osc.udp://127.0.0.1:<port>/'), defaults otherwise.
// osc.js: osc.Relay between an osc.WebSocketPort for each connection (on a `ws` server, its
//   documented way: osc.js 2.4.5 has no WebSocket server) and one osc.UDPPort, as its README's
//   WebSocket-to-UDP example does. The Relay ignores `raw: true` (2.4.5 sets it false): it decodes
//   and re-encodes every message, and with `metadata: true` on both ports the bytes come out the same.
// osc-js: its BridgePlugin, which forwards the bytes of each WebSocket message to udpClient.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import type { WebSocket, WebSocketServer } from 'ws';
import { aiolo } from './aiolo.js';

const [kind, udpText] = process.argv.slice(2);
const udpPort = Number(udpText);
const require = createRequire(import.meta.url);

let errors = 0;
const failed = () => {
  errors++;
};

type Stop = () => Promise<{ forwarded?: number; lost?: number }>;

async function aioloRelay(): Promise<[number, Stop]> {
  const b = await aiolo.bridge('osc.ws://127.0.0.1:0/', `osc.udp://127.0.0.1:${udpPort}/`);
  b.on('lost', failed);
  const port = Number(/:(\d+)\/?/.exec(b.url.slice(b.url.indexOf('//') + 2))?.[1]);
  return [
    port,
    async () => {
      await b.stop();
      const { forwarded, lost } = b.stats;
      return { forwarded, lost };
    },
  ];
}

interface OscJsPort {
  open(): void;
  close(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
}

async function oscJsRelay(): Promise<[number, Stop]> {
  const osc = require('osc') as {
    UDPPort: new (o: object) => OscJsPort;
    WebSocketPort: new (o: object) => OscJsPort;
    Relay: new (a: OscJsPort, b: OscJsPort, o: object) => unknown;
  };
  const { WebSocketServer: Wss } = require(require.resolve('ws', { paths: [require.resolve('osc')] })) as {
    WebSocketServer: typeof WebSocketServer;
  };
  const udp = new osc.UDPPort({
    localAddress: '127.0.0.1',
    localPort: 0,
    remoteAddress: '127.0.0.1',
    remotePort: udpPort,
    metadata: true,
  });
  udp.on('error', failed);
  await new Promise((resolve) => {
    udp.once('ready', resolve);
    udp.open();
  });
  const wss = new Wss({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  let forwarded = 0;
  wss.on('connection', (socket: WebSocket) => {
    const port = new osc.WebSocketPort({ socket, metadata: true });
    port.on('error', failed);
    port.on('message', () => {
      forwarded++;
    });
    new osc.Relay(port, udp, { raw: true });
  });
  return [
    (wss.address() as { port: number }).port,
    async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      udp.close();
      return { forwarded };
    },
  ];
}

async function oscJsBridge(): Promise<[number, Stop]> {
  const OSC = require('osc-js') as {
    new (o: object): { on(e: string, f: (...a: unknown[]) => void): number; open(): void; close(): void };
    BridgePlugin: new (o: object) => { websocket: WebSocketServer };
  };
  const plugin = new OSC.BridgePlugin({
    udpServer: { host: '127.0.0.1', port: 0 },
    udpClient: { host: '127.0.0.1', port: udpPort },
    wsServer: { host: '127.0.0.1', port: 0 },
    receiver: 'udp',
  });
  const osc = new OSC({ plugin });
  osc.on('error', failed);
  await new Promise<void>((resolve) => {
    osc.on('open', () => resolve());
    osc.open();
  });
  return [
    (plugin.websocket.address() as { port: number }).port,
    async () => {
      for (const client of plugin.websocket.clients) client.terminate();
      osc.close();
      return {};
    },
  ];
}

const makers: Record<string, () => Promise<[number, Stop]>> = {
  aiolo: aioloRelay,
  'osc.js': oscJsRelay,
  'osc-js': oscJsBridge,
};
const make = makers[kind ?? ''];
if (make === undefined) throw new Error(`unknown relay '${kind}': ${Object.keys(makers).join(', ')}`);
const [port, stop] = await make();
process.stdout.write(`PORT ${port}\n`);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line === 'quit') break;
lines.close();
const counts = await stop();
process.stdout.write(`${JSON.stringify({ ...counts, errors })}\n`);
process.exit(0);

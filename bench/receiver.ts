// A receiving process for the network benchmarks: one Node contender on an ephemeral loopback port,
// counting what its consumer gets. The protocol is bench/peers/lo_recv.c's, so the driver treats
// liblo and the Node libraries alike:
//   node --import tsx bench/receiver.ts <aiolo|dgram|node-osc|osc.js|osc-js|ws> <udp|tcp|ws> [late]
//   stdout: "PORT <n>", then with `late` one "LATE <seconds>" per message (dispatch time minus
//   its bundle's timetag); stdin: "count" -> {"count":N,"first":ns,"last":ns,"cpu":µs,"scavenges":S}
//   (first and last message, monotonic; the process's CPU time and young-generation collections so
//   far: what a receive path allocates per message shows as collections); "reset" counts afresh (after a
//   warm-up); "quit" or EOF exits.
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Server as NodeOscServer } from 'node-osc';
import type { WebSocketServer } from 'ws';
import { aiolo } from './aiolo.js';

const [kind, proto = 'udp', mode] = process.argv.slice(2);
const late = mode === 'late';

let count = 0;
let first = 0n;
let last = 0n;
function got(): void {
  last = process.hrtime.bigint();
  if (count++ === 0) first = last;
}

let scavenges = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const detail = (e as { detail?: { kind?: number } }).detail;
    if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  }
}).observe({ entryTypes: ['gc'] });

function cpuMicroseconds(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

let stop: () => Promise<void> = async () => {};

async function startAiolo(): Promise<number> {
  const { Server, TimeTag } = aiolo;
  const server = new Server({ url: `osc.${proto}://127.0.0.1:0` });
  await server.start();
  const route = server.route(aiolo.ANY_PATH, aiolo.ANY_ARGS);
  // TCP and WebSocket are paused rather than dropped when the consumer falls behind: lossless, as
  // liblo's TCP is
  const overflow = proto === 'udp' ? 'drop-oldest' : 'pause';
  if (late) {
    void (async () => {
      for await (const m of route.sub({ incoming: true, overflow })) {
        got();
        if (!m.timetag.isImmediate) process.stdout.write(`LATE ${TimeTag.now().diff(m.timetag).toFixed(9)}\n`);
      }
    })();
  } else {
    void (async () => {
      for await (const _ of route.sub({ overflow })) got();
    })();
  }
  stop = () => server.stop();
  return server.port as number;
}

async function startDgram(): Promise<number> {
  if (proto !== 'udp') throw new Error('dgram is UDP only');
  const socket = createSocket('udp4');
  socket.on('message', got); // no OSC work at all: the ceiling for a Node receiver
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  stop = () => new Promise((resolve) => socket.close(() => resolve()));
  return socket.address().port;
}

async function startNodeOsc(): Promise<number> {
  if (proto !== 'udp') throw new Error('node-osc is UDP only');
  const server = new NodeOscServer(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('message', got);
  stop = () => new Promise((resolve) => server.close(() => resolve()));
  return (server as unknown as { _sock: { address(): { port: number } } })._sock.address().port;
}

interface OscJsUdpPort {
  open(): void;
  close(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  socket: { address(): { port: number } };
}

const require = createRequire(import.meta.url);

/** A WebSocket server on an ephemeral loopback port, from the `ws` package `wsModule` names. */
async function listenWs(wsModule: string): Promise<WebSocketServer> {
  const { WebSocketServer: Wss } = require(wsModule) as { WebSocketServer: typeof WebSocketServer };
  const wss = new Wss({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  stop = () => {
    for (const client of wss.clients) client.terminate();
    return new Promise((resolve) => wss.close(() => resolve()));
  };
  return wss;
}

const wsPort = (wss: WebSocketServer) => (wss.address() as { port: number }).port;

async function startRawWs(): Promise<number> {
  if (proto !== 'ws') throw new Error('ws is WebSocket only');
  const wss = await listenWs('ws');
  // no OSC work at all: the ceiling for a Node WebSocket receiver
  wss.on('connection', (socket) => socket.on('message', got));
  return wsPort(wss);
}

interface OscJsWebSocketPort {
  on(event: string, listener: (...args: unknown[]) => void): void;
}

async function startOscJs(): Promise<number> {
  const osc = require('osc') as {
    UDPPort: new (o: object) => OscJsUdpPort;
    WebSocketPort: new (o: object) => OscJsWebSocketPort;
  };
  if (proto === 'ws') {
    // osc.js 2.4.5 has no WebSocket server of its own: its documented way is a `ws` server (here
    // the copy osc.js itself depends on) whose connections each become an osc.WebSocketPort
    const wss = await listenWs(require.resolve('ws', { paths: [require.resolve('osc')] }));
    wss.on('connection', (socket) => {
      const port = new osc.WebSocketPort({ socket, metadata: true });
      port.on('message', got);
      port.on('error', () => {});
    });
    return wsPort(wss);
  }
  if (proto !== 'udp') throw new Error('osc.js is measured over UDP and WebSocket only');
  const port = new osc.UDPPort({ localAddress: '127.0.0.1', localPort: 0, metadata: true });
  port.on('message', got);
  port.on('error', () => {}); // a malformed packet must not end the run
  await new Promise((resolve) => {
    port.once('ready', resolve);
    port.open();
  });
  stop = async () => port.close();
  return port.socket.address().port;
}

interface OscJsInstance {
  on(address: string, listener: (...args: unknown[]) => void): number;
  open(): void;
  close(): void;
}

async function startOscJsWs(): Promise<number> {
  if (proto !== 'ws') throw new Error('osc-js is measured over WebSocket only');
  const OSC = require('osc-js') as {
    new (o: object): OscJsInstance;
    WebsocketServerPlugin: new (o: object) => { socket: WebSocketServer };
  };
  const plugin = new OSC.WebsocketServerPlugin({ host: '127.0.0.1', port: 0 });
  const osc = new OSC({ plugin });
  await new Promise<void>((resolve, reject) => {
    osc.on('open', () => resolve());
    osc.on('error', (err) => reject(err));
    osc.open();
  });
  osc.on('*', got);
  stop = async () => {
    for (const client of plugin.socket.clients) client.terminate();
    osc.close();
  };
  return wsPort(plugin.socket);
}

const starters: Record<string, () => Promise<number>> = {
  aiolo: startAiolo,
  dgram: startDgram,
  'node-osc': startNodeOsc,
  'osc.js': startOscJs,
  'osc-js': startOscJsWs,
  ws: startRawWs,
};
const start = starters[kind ?? ''];
if (start === undefined) throw new Error(`unknown receiver '${kind}': ${Object.keys(starters).join(', ')}`);
const port = await start();
// The scheduling benchmark measures a process in its first second. What loading the modules left is
// dealt with by its first young-generation and full collections (3-9 ms each on the benchmark's VM),
// which fall in the warm-up or among the measured bundles depending only on how fast the receiver
// allocates: start-up, not scheduling. Collected now, before the first bundle, they are in neither
// (bench/schedule.ts runs this with --expose-gc).
if (late) (globalThis as { gc?: () => void }).gc?.();
process.stdout.write(`PORT ${port}\n`);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'count')
    process.stdout.write(
      `${JSON.stringify({ count, first: Number(first), last: Number(last), cpu: cpuMicroseconds(), scavenges })}\n`,
    );
  if (line === 'reset') count = 0;
  if (line === 'quit') break;
}
lines.close();
await stop();
process.exit(0);

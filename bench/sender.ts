// A sending process for the network benchmarks, with bench/peers/lo_send.c's protocol:
//   node --import tsx bench/sender.ts <aiolo|dgram|node-osc|osc.js|osc-js|ws> <port> <count>
//     [udp|tcp|tcp-slip|ws] [rate]
//   stdout: {"sent":N,"errors":E,"seconds":S} once every send has completed.
// Each sends the small message /synth/1/freq ,ifs 440 0.5 "sine" to 127.0.0.1:<port>, keeping
// up to WINDOW sends in flight (what a program that does not await each send gets); `dgram`
// sends pre-encoded bytes, the ceiling for a Node sender, and so does `ws` (the `ws` package, one
// binary message per packet). Every sender's first send (which opens its socket or connection) is
// made before timing and is one of the `count`; N counts the timed. With a `rate` (messages per
// second), sends are paced to it instead of going as fast as they complete.
// osc.js's and osc-js's WebSocket sends return nothing (the bytes go to the `ws` socket's buffer):
// they count as complete at once, and the sender waits for that buffer to drain before it closes.
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { Client as NodeOscClient } from 'node-osc';
import { WebSocket } from 'ws';
import { aiolo } from './aiolo.js';

const [kind, portText, countText, transport = 'udp', rateText = '0'] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const pace = Number(rateText);
const WINDOW = 256;
const require = createRequire(import.meta.url);

let errors = 0;
const failed = () => {
  errors++;
};

type SendOne = () => Promise<unknown>;

async function run(sendOne: SendOne): Promise<number> {
  await sendOne();
  const start = performance.now();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 1; i < count; i++) {
    if (pace > 0 && i % 32 === 0) {
      const wait = start + (i / pace) * 1000 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    inFlight.push(sendOne().catch(failed));
    if (inFlight.length === WINDOW) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  return (performance.now() - start) / 1000;
}

async function aioloSender(): Promise<[SendOne, () => Promise<void>]> {
  const { Address } = aiolo;
  const proto = transport.startsWith('tcp') ? 'tcp' : transport === 'ws' ? 'ws' : 'udp';
  const address = new Address({ url: `osc.${proto}://127.0.0.1:${port}` }, { slip: transport === 'tcp-slip' });
  const target = { path: '/synth/1/freq', typespec: 'ifs' } as const;
  return [() => address.send(target, 440, 0.5, 'sine'), () => address.close()];
}

async function dgramSender(): Promise<[SendOne, () => Promise<void>]> {
  if (transport !== 'udp') throw new Error('dgram is UDP only');
  const { encode, Message } = aiolo;
  const packet = encode(Message.typed('/synth/1/freq', 'ifs', 440, 0.5, 'sine'));
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const sendOne = () =>
    new Promise<void>((resolve, reject) =>
      socket.send(packet, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  return [sendOne, () => new Promise((resolve) => socket.close(() => resolve()))];
}

async function nodeOscSender(): Promise<[SendOne, () => Promise<void>]> {
  if (transport !== 'udp') throw new Error('node-osc is UDP only');
  const client = new NodeOscClient('127.0.0.1', port);
  const sendOne = () =>
    new Promise<void>((resolve, reject) =>
      client.send('/synth/1/freq', 440, 0.5, 'sine', (err: Error | null) => (err ? reject(err) : resolve())),
    );
  return [sendOne, () => new Promise((resolve) => client.close(() => resolve()))];
}

const wsUrl = `ws://127.0.0.1:${port}/`;

/** Resolves once `socket` has handed every byte to the kernel (or closed). */
async function drained(socket: { bufferedAmount: number; readyState: number }): Promise<void> {
  while (socket.bufferedAmount > 0 && socket.readyState === WebSocket.OPEN) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Closes a `ws` WebSocket and resolves when the closing handshake is over (or after a second). */
function closeWs(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve();
    const timer = setTimeout(() => {
      socket.terminate();
      resolve();
    }, 1000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.close();
  });
}

async function openWs(socket: WebSocket): Promise<WebSocket> {
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return socket;
}

async function wsSender(): Promise<[SendOne, () => Promise<void>]> {
  if (transport !== 'ws') throw new Error('ws is WebSocket only');
  const { encode, Message } = aiolo;
  const packet = encode(Message.typed('/synth/1/freq', 'ifs', 440, 0.5, 'sine'));
  const socket = await openWs(new WebSocket(wsUrl, { perMessageDeflate: false }));
  const sendOne = () =>
    new Promise<void>((resolve, reject) =>
      socket.send(packet, { binary: true }, (err) => (err ? reject(err) : resolve())),
    );
  return [sendOne, () => closeWs(socket)];
}

interface OscJsWebSocketPort {
  socket: WebSocket;
  open(): void;
  send(packet: object): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

async function oscJsSender(): Promise<[SendOne, () => Promise<void>]> {
  if (transport !== 'ws') throw new Error('osc.js is measured sending over WebSocket only');
  const osc = require('osc') as { WebSocketPort: new (o: object) => OscJsWebSocketPort };
  const port = new osc.WebSocketPort({ url: wsUrl, metadata: true });
  port.on('error', failed);
  await new Promise((resolve) => {
    port.once('ready', resolve);
    port.open();
  });
  const message = {
    address: '/synth/1/freq',
    args: [
      { type: 'i', value: 440 },
      { type: 'f', value: 0.5 },
      { type: 's', value: 'sine' },
    ],
  };
  const sendOne = async () => port.send(message);
  return [
    sendOne,
    async () => {
      await drained(port.socket);
      await closeWs(port.socket);
    },
  ];
}

interface OscJsInstance {
  on(event: string, listener: (...args: unknown[]) => void): number;
  open(): void;
  send(message: object): void;
}

async function oscJsWsSender(): Promise<[SendOne, () => Promise<void>]> {
  if (transport !== 'ws') throw new Error('osc-js is measured sending over WebSocket only');
  const OSC = require('osc-js') as {
    new (o: object): OscJsInstance;
    WebsocketClientPlugin: new (o: object) => { socket: WebSocket };
    Message: new (address: string, ...args: unknown[]) => object;
  };
  const plugin = new OSC.WebsocketClientPlugin({ host: '127.0.0.1', port });
  const osc = new OSC({ plugin });
  await new Promise<void>((resolve, reject) => {
    osc.on('open', () => resolve());
    osc.on('error', (err) => reject(err));
    osc.open();
  });
  // osc-js types 440 as i and 0.5 as f: the same 40 bytes as the others send
  const sendOne = async () => osc.send(new OSC.Message('/synth/1/freq', 440, 0.5, 'sine'));
  return [
    sendOne,
    async () => {
      await drained(plugin.socket);
      await closeWs(plugin.socket);
    },
  ];
}

const makers: Record<string, () => Promise<[SendOne, () => Promise<void>]>> = {
  aiolo: aioloSender,
  dgram: dgramSender,
  'node-osc': nodeOscSender,
  'osc.js': oscJsSender,
  'osc-js': oscJsWsSender,
  ws: wsSender,
};
const make = makers[kind ?? ''];
if (make === undefined) throw new Error(`unknown sender '${kind}': ${Object.keys(makers).join(', ')}`);
// Holds the process open for the run: aiolo's WebSocket Address unrefs its socket while it connects,
// so a script whose only pending work is that first `await address.send()` exits (code 13) before
// the connection opens.
const keepAlive = setInterval(() => {}, 1000);
const [sendOne, close] = await make();
const seconds = await run(sendOne);
await close();
clearInterval(keepAlive);
process.stdout.write(`${JSON.stringify({ sent: count - 1 - errors, errors, seconds })}\n`);

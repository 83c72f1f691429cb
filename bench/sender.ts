// A sending process for the network benchmarks, with bench/peers/lo_send.c's protocol:
//   node --import tsx bench/sender.ts <aiolo|dgram|node-osc> <port> <count> [udp|tcp|tcp-slip]
//   stdout: {"sent":N,"errors":E,"seconds":S} once every send has completed.
// Each sends the small message /synth/1/freq ,ifs 440 0.5 "sine" to 127.0.0.1:<port>, keeping
// up to WINDOW sends in flight (what a program that does not await each send gets); `dgram`
// sends pre-encoded bytes, the ceiling for a Node sender. Every sender's first send (which opens
// its socket or connection) is made before timing and is one of the `count`; N counts the timed.
import { createSocket } from 'node:dgram';
import { Client as NodeOscClient } from 'node-osc';
import { aiolo } from './aiolo.js';

const [kind, portText, countText, transport = 'udp'] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const WINDOW = 256;

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
    inFlight.push(sendOne().catch(failed));
    if (inFlight.length === WINDOW) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  return (performance.now() - start) / 1000;
}

async function aioloSender(): Promise<[SendOne, () => Promise<void>]> {
  const { Address } = aiolo;
  const proto = transport.startsWith('tcp') ? 'tcp' : 'udp';
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

const makers: Record<string, () => Promise<[SendOne, () => Promise<void>]>> = {
  aiolo: aioloSender,
  dgram: dgramSender,
  'node-osc': nodeOscSender,
};
const make = makers[kind ?? ''];
if (make === undefined) throw new Error(`unknown sender '${kind}': ${Object.keys(makers).join(', ')}`);
const [sendOne, close] = await make();
const seconds = await run(sendOne);
await close();
process.stdout.write(`${JSON.stringify({ sent: count - 1 - errors, errors, seconds })}\n`);

// The answering side of the round-trip latency benchmark (bench/latency.ts), one Node contender
// on an ephemeral loopback port, with bench/peers/lo_echo.c's server protocol:
//   node --import tsx bench/echo.ts <aiolo|node-osc|dgram> <udp|tcp>
//   stdout: "PORT <n>" once listening; stdin: "quit" or EOF exits.
// aiolo answers each message with the same path and args to its `source` (from the server's UDP
// port, or on the same TCP connection); `dgram` sends the datagram's bytes back untouched (no OSC
// work: the floor of a Node program); node-osc's Server cannot reply to a sender (its Client sends
// from a socket of its own), so the node-osc client first sends /hello <port> naming its own
// Server's port, and the echo answers there with a node-osc Client.
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { Client as NodeOscClient, Server as NodeOscServer } from 'node-osc';
import { aiolo } from './aiolo.js';

const [kind, proto = 'udp'] = process.argv.slice(2);
const PATH = '/synth/1/freq';

let stop: () => Promise<void> = async () => {};

async function startAiolo(): Promise<number> {
  const server = new aiolo.Server({ url: `osc.${proto}://127.0.0.1:0` });
  await server.start();
  server.route(PATH, 'ifs').on((args, m) => m.source.send(PATH, ...args).catch(() => {}));
  stop = () => server.stop();
  return server.port as number;
}

async function startDgram(): Promise<number> {
  if (proto !== 'udp') throw new Error('dgram is UDP only');
  const socket = createSocket('udp4');
  socket.on('message', (bytes, from) => socket.send(bytes, from.port, from.address));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  stop = () => new Promise((resolve) => socket.close(() => resolve()));
  return socket.address().port;
}

async function startNodeOsc(): Promise<number> {
  if (proto !== 'udp') throw new Error('node-osc is UDP only');
  const server = new NodeOscServer(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  let client: NodeOscClient | undefined;
  server.on('message', (message: unknown[]) => {
    const [path, ...args] = message as [string, ...(string | number)[]];
    if (path === '/hello') {
      void client?.close();
      client = new NodeOscClient('127.0.0.1', args[0] as number);
      client.send('/hello', 1);
    } else client?.send(path, ...args);
  });
  stop = async () => {
    await client?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return (server as unknown as { _sock: { address(): { port: number } } })._sock.address().port;
}

const starters: Record<string, () => Promise<number>> = {
  aiolo: startAiolo,
  dgram: startDgram,
  'node-osc': startNodeOsc,
};
const start = starters[kind ?? ''];
if (start === undefined) throw new Error(`unknown echo '${kind}': ${Object.keys(starters).join(', ')}`);
process.stdout.write(`PORT ${await start()}\n`);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line === 'quit') break;
lines.close();
await stop();
process.exit(0);

// The asking side of the round-trip latency benchmark (bench/latency.ts), with
// bench/peers/lo_echo.c's client protocol:
//   node --import tsx bench/ping.ts <aiolo|node-osc|dgram> <udp|tcp> <port> <warmup> <count> <timeout_ms>
// Sends /synth/1/freq ,ifs <seq> 0.5 "sine" to 127.0.0.1:<port>, waits for the reply carrying the
// same <seq>, and only then sends the next: <warmup> round trips first, then <count> timed with
// process.hrtime.bigint(). A round trip with no reply in <timeout_ms> is counted as lost.
// stdout: {"lost":L,"samples":[ns,...]} once, then exit 0. stdin's end (the driver giving up)
// exits 1.
import { createSocket } from 'node:dgram';
import { Client as NodeOscClient, Server as NodeOscServer } from 'node-osc';
import { aiolo } from './aiolo.js';

const [kind, proto = 'udp', portArg, warmupArg, countArg, timeoutArg] = process.argv.slice(2);
const port = Number(portArg);
const warmup = Number(warmupArg ?? 1000);
const count = Number(countArg ?? 5000);
const timeoutMs = Number(timeoutArg ?? 1000);
const PATH = '/synth/1/freq';

process.stdin.on('end', () => process.exit(1));
process.stdin.resume();

/** One round trip: resolves true on the reply carrying `seq`, false when none came in time. */
type RoundTrip = (seq: number) => Promise<boolean>;

/** Calls `on` with the reply's seq; resolves when the matching one comes or the timeout passes. */
function waiter(): [(seq: number) => Promise<boolean>, (seq: number) => void] {
  let expected = -1;
  let done: ((ok: boolean) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const wait = (seq: number) =>
    new Promise<boolean>((resolve) => {
      expected = seq;
      done = resolve;
      timer = setTimeout(() => {
        done = undefined;
        resolve(false);
      }, timeoutMs);
    });
  const on = (seq: number) => {
    if (seq !== expected || done === undefined) return; // a late reply to a lost round trip
    clearTimeout(timer);
    const d = done;
    done = undefined;
    d(true);
  };
  return [wait, on];
}

async function aioloClient(): Promise<[RoundTrip, () => Promise<void>]> {
  const address = new aiolo.Address({ url: `osc.${proto}://127.0.0.1:${port}` });
  const target = { path: PATH, typespec: 'ifs' } as const;
  const roundTrip: RoundTrip = (seq) =>
    address.request(target, [seq, 0.5, 'sine'], { timeout: timeoutMs, match: (r) => r.args[0] === seq }).then(
      () => true,
      (err: unknown) => {
        if ((err as { code?: string }).code === 'ERR_OSC_TIMEOUT') return false;
        throw err;
      },
    );
  return [roundTrip, () => address.close()];
}

async function dgramClient(): Promise<[RoundTrip, () => Promise<void>]> {
  if (proto !== 'udp') throw new Error('dgram is UDP only');
  const packet = Buffer.from(aiolo.encode(aiolo.Message.typed(PATH, 'ifs', 0, 0.5, 'sine')));
  const SEQ_AT = 20; // after '/synth/1/freq\0\0\0' and ',ifs\0\0\0\0'
  const socket = createSocket('udp4');
  const [wait, on] = waiter();
  socket.on('message', (bytes) => on(bytes.readInt32BE(SEQ_AT)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const roundTrip: RoundTrip = (seq) => {
    packet.writeInt32BE(seq, SEQ_AT);
    const answered = wait(seq);
    socket.send(packet, port, '127.0.0.1');
    return answered;
  };
  return [roundTrip, () => new Promise((resolve) => socket.close(() => resolve()))];
}

async function nodeOscClient(): Promise<[RoundTrip, () => Promise<void>]> {
  if (proto !== 'udp') throw new Error('node-osc is UDP only');
  const server = new NodeOscServer(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const myPort = (server as unknown as { _sock: { address(): { port: number } } })._sock.address().port;
  const client = new NodeOscClient('127.0.0.1', port);
  const [wait, on] = waiter();
  server.on('message', (message: unknown[]) => {
    if (message[0] === '/hello') on(-2);
    else on(message[1] as number);
  });
  // node-osc has no reply to a sender: tell the echo where to answer, until it does
  for (let answered = false; !answered; ) {
    const hello = wait(-2);
    client.send('/hello', myPort);
    answered = await hello;
  }
  const roundTrip: RoundTrip = (seq) => {
    const answered = wait(seq);
    client.send(PATH, seq, 0.5, 'sine');
    return answered;
  };
  return [
    roundTrip,
    async () => {
      await client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  ];
}

const clients: Record<string, () => Promise<[RoundTrip, () => Promise<void>]>> = {
  aiolo: aioloClient,
  dgram: dgramClient,
  'node-osc': nodeOscClient,
};
const make = clients[kind ?? ''];
if (make === undefined) throw new Error(`unknown client '${kind}': ${Object.keys(clients).join(', ')}`);
const [roundTrip, close] = await make();

const samples: number[] = [];
let lost = 0;
for (let seq = 0; seq < warmup + count; seq++) {
  const start = process.hrtime.bigint();
  const ok = await roundTrip(seq);
  const took = Number(process.hrtime.bigint() - start);
  if (seq < warmup) continue;
  if (ok) samples.push(took);
  else lost++;
}
await close();
process.stdout.write(`${JSON.stringify({ lost, samples })}\n`);
process.exit(0);

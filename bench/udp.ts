// UDP over loopback between processes. Receiving: a C sender with no OSC work (bench/peers/flood.c)
// floods or paces the small message at each receiver; the receiver counts what reaches its consumer
// (aiolo: a `for await` subscription) and the rate is taken between its first and last message.
// On a small VM the flood's wall-clock rate is at the mercy of the scheduler (the receiver often
// sleeps while the kernel drops), so the receiver's CPU time per message is reported beside it:
// the steadier measure of what each library costs. Each receiver is warmed up first (its JIT
// compiles its receive path) and counting starts after. Sending: each library sends the small message
// as fast as it can to a socket nobody reads.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { aiolo } from './aiolo.js';
import { cProgram, dgramPath, LIBLO_MISSING, NATIVE_BUILT, nodeCommand, Proc, Receiver } from './peers.js';
import { median, percent, rate, ratio, table } from './stats.js';

export interface UdpOptions {
  readonly rounds: number;
  /** Packets per flood. */
  readonly flood: number;
  /** Paced rates, packets per second; each runs for `pacedSeconds`. */
  readonly paced: readonly number[];
  readonly pacedSeconds: number;
  /** Packets each sender sends. */
  readonly sends: number;
  /** Packets sent to each receiver before counting starts, so that its JIT has compiled its path. */
  readonly warmup: number;
}

export interface ReceiveResult {
  /** Messages per second into the consumer (median over rounds). */
  readonly rate: number;
  /** Fraction of the packets sent that never reached the consumer (median over rounds). */
  readonly loss: number;
  /** The receiving process's CPU time per message consumed, in microseconds (median over rounds). */
  readonly cpuMicroseconds: number;
  /** Young-generation collections per 100,000 messages consumed (median; Node receivers only). */
  readonly scavenges?: number | undefined;
}

export interface UdpResults {
  /** By load ('flood' or 'N/s'), then by receiver. */
  readonly receive: Record<string, Record<string, ReceiveResult>>;
  /** By sender: messages per second. */
  readonly send: Record<string, number>;
  readonly notes: string[];
}

type Command = [string, string[]];

function receivers(): Record<string, Command> {
  const list: Record<string, Command> = {
    'raw dgram': nodeCommand('receiver', 'dgram', 'udp'),
    aiolo: nodeCommand('receiver', 'aiolo', 'udp'),
    ...(NATIVE_BUILT ? { 'aiolo, dgram path': dgramPath(nodeCommand('receiver', 'aiolo', 'udp')) } : {}),
    'node-osc': nodeCommand('receiver', 'node-osc', 'udp'),
    'osc (osc.js)': nodeCommand('receiver', 'osc.js', 'udp'),
  };
  if (LIBLO_MISSING === undefined) list['liblo (C)'] = [cProgram('lo_recv'), ['udp']];
  return list;
}

function senders(port: number, count: number): Record<string, Command> {
  const list: Record<string, Command> = {
    'raw dgram': nodeCommand('sender', 'dgram', String(port), String(count)),
    aiolo: nodeCommand('sender', 'aiolo', String(port), String(count)),
    ...(NATIVE_BUILT
      ? { 'aiolo, dgram path': dgramPath(nodeCommand('sender', 'aiolo', String(port), String(count))) }
      : {}),
    'node-osc': nodeCommand('sender', 'node-osc', String(port), String(count)),
  };
  if (LIBLO_MISSING === undefined) {
    list['liblo (C)'] = [cProgram('lo_send'), [`osc.udp://127.0.0.1:${port}`, String(count)]];
  }
  return list;
}

interface Sent {
  readonly sent: number;
  readonly errors: number;
  readonly seconds: number;
}

async function receiveOnce(command: Command, packetFile: string, count: number, pace: number, warmup: number) {
  const receiver = new Receiver(...command);
  try {
    const port = await receiver.port;
    const flood = (n: number, rate: number) =>
      new Proc(cProgram('flood'), ['udp', String(port), packetFile, String(n), String(rate)]).result<Sent>('flood');
    await flood(warmup, 100_000);
    await receiver.settled();
    receiver.reset();
    const before = await receiver.counts();
    const sent = await flood(count, pace);
    const got = await receiver.settled();
    const seconds = (got.last - got.first) / 1e9;
    const consumed = Math.max(1, got.count - before.count);
    return {
      rate: got.count > 1 && seconds > 0 ? (got.count - 1) / seconds : Number.NaN,
      loss: 1 - got.count / sent.sent,
      cpuMicroseconds: (got.cpu - before.cpu) / consumed,
      scavenges:
        got.scavenges === undefined || before.scavenges === undefined
          ? undefined
          : ((got.scavenges - before.scavenges) / consumed) * 100_000,
    };
  } finally {
    await receiver.quit();
  }
}

/** A UDP socket that never reads: what is sent to it costs the sender only. */
async function sink(): Promise<{ port: number; close(): void }> {
  const child = spawn(
    'python3',
    [
      '-c',
      'import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("127.0.0.1",0))\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const [line] = await createInterface({ input: child.stdout })
    [Symbol.asyncIterator]()
    .next()
    .then((r) => [r.value]);
  return { port: Number(line), close: () => child.stdin.end() };
}

export async function runUdp(options: UdpOptions): Promise<UdpResults> {
  const notes: string[] = [];
  if (LIBLO_MISSING !== undefined) notes.push(`liblo rows skipped: ${LIBLO_MISSING}`);
  if (!NATIVE_BUILT) notes.push('aiolo-native is not built here: the aiolo rows are its node:dgram path');
  const dir = mkdtempSync(join(tmpdir(), 'aiolo-bench-'));
  const packetFile = join(dir, 'small.osc');
  writeFileSync(packetFile, aiolo.encode(aiolo.Message.typed('/synth/1/freq', 'ifs', 440, 0.5, 'sine')));
  const loads: [string, number, number][] = [
    ['flood', 0, options.flood],
    ...options.paced.map((r): [string, number, number] => [`${r / 1000}k/s`, r, Math.round(r * options.pacedSeconds)]),
  ];
  const samples = new Map<string, { rate: number[]; loss: number[]; cpu: number[]; gc: number[] }>();
  const sendSamples = new Map<string, number[]>();
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const [load, pace, count] of loads) {
        for (const [name, command] of Object.entries(receivers())) {
          const r = await receiveOnce(command, packetFile, count, pace, options.warmup);
          const key = `${load}\0${name}`;
          const s = samples.get(key) ?? { rate: [], loss: [], cpu: [], gc: [] };
          s.rate.push(r.rate);
          s.loss.push(r.loss);
          s.cpu.push(r.cpuMicroseconds);
          if (r.scavenges !== undefined) s.gc.push(r.scavenges);
          samples.set(key, s);
        }
      }
      const target = await sink();
      try {
        for (const [name, command] of Object.entries(senders(target.port, options.sends))) {
          const sent = await new Proc(...command).result<Sent>(`${name} sender`);
          sendSamples.set(name, [...(sendSamples.get(name) ?? []), sent.sent / sent.seconds]);
        }
      } finally {
        target.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const receive: Record<string, Record<string, ReceiveResult>> = {};
  for (const [key, s] of samples) {
    const [load, name] = key.split('\0') as [string, string];
    receive[load] ??= {};
    receive[load][name] = {
      rate: median(s.rate),
      loss: median(s.loss),
      cpuMicroseconds: median(s.cpu),
      scavenges: s.gc.length > 0 ? median(s.gc) : undefined,
    };
  }
  const send: Record<string, number> = {};
  for (const [name, xs] of sendSamples) send[name] = median(xs);
  return { receive, send, notes };
}

export function udpTables(r: UdpResults): string {
  const rows: string[][] = [];
  for (const [load, byReceiver] of Object.entries(r.receive)) {
    const raw = byReceiver['raw dgram'];
    for (const [name, x] of Object.entries(byReceiver)) {
      const other = name !== 'raw dgram';
      rows.push([
        load,
        name,
        rate(x.rate),
        percent(x.loss),
        other ? ratio(x.rate, raw?.rate) : '',
        `${x.cpuMicroseconds.toFixed(2)} µs`,
        other ? ratio(raw?.cpuMicroseconds, x.cpuMicroseconds) : '',
        x.scavenges === undefined ? '' : x.scavenges.toFixed(1),
      ]);
    }
  }
  const sendRows = Object.entries(r.send).map(([name, x]) => [
    name,
    rate(x),
    name === 'raw dgram' ? '' : ratio(x, r.send['raw dgram']),
  ]);
  return [
    'UDP receive (small message, C sender, loopback):',
    '',
    table(
      [
        'load',
        'receiver',
        'into the consumer',
        'lost',
        'rate × raw dgram',
        'CPU per message',
        'capacity × raw dgram',
        'scavenges per 100k',
      ],
      rows,
    ),
    '',
    'capacity: messages per CPU-second, the inverse of CPU per message. scavenges: young-generation',
    'collections per 100,000 messages consumed, the measure of what a receive path allocates per message.',
    '',
    'UDP send (small message to a socket nobody reads):',
    '',
    table(['sender', 'rate', '× raw dgram'], sendRows),
    ...r.notes.map((n) => `\n${n}`),
  ].join('\n');
}

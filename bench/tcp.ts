// TCP over loopback, aiolo against liblo, in both framings (a 4-byte length prefix, SLIP).
// Receiving: flood.c streams pre-framed copies of the small message as fast as the receiver takes
// them, after a warm-up stream that is not counted. End to end: each library's own sender into its
// own server. TCP loses nothing, so every run must deliver every message; a run that does not is
// reported, not averaged.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aiolo } from './aiolo.js';
import { cProgram, LIBLO_MISSING, nodeCommand, Proc, Receiver } from './peers.js';
import { median, rate, ratio, table } from './stats.js';

export interface TcpOptions {
  readonly rounds: number;
  /** Messages per run. */
  readonly count: number;
  /** Messages from the C stream before counting starts, so that the receiver's JIT has warmed up. */
  readonly warmup: number;
}

export interface TcpResults {
  /** By framing, then by implementation: messages per second from the raw C stream. */
  readonly receive: Record<string, Record<string, number>>;
  /** By framing, then by implementation: the receiver's CPU microseconds per message from that stream. */
  readonly receiveCpu: Record<string, Record<string, number>>;
  /** By framing, then by implementation: messages per second, its sender into its server. */
  readonly endToEnd: Record<string, Record<string, number>>;
  readonly notes: string[];
}

const FRAMINGS = ['length', 'slip'] as const;
type Framing = (typeof FRAMINGS)[number];
type Command = [string, string[]];

function frame(packet: Uint8Array, framing: Framing): Uint8Array {
  if (framing === 'length') {
    const out = new Uint8Array(4 + packet.length);
    new DataView(out.buffer).setUint32(0, packet.length);
    out.set(packet, 4);
    return out;
  }
  // SLIP (RFC 1055) with liblo's leading END: the small message has no END or ESC bytes
  if (packet.some((b) => b === 0xc0 || b === 0xdb)) throw new Error('the benchmark packet needs no escaping');
  return Uint8Array.of(0xc0, ...packet, 0xc0);
}

function implementations(): Record<
  string,
  { receiver: Command; sender: (port: number, f: Framing, n: number) => Command }
> {
  const list: Record<string, { receiver: Command; sender: (port: number, f: Framing, n: number) => Command }> = {
    aiolo: {
      receiver: nodeCommand('receiver', 'aiolo', 'tcp'),
      sender: (port, f, n) =>
        nodeCommand('sender', 'aiolo', String(port), String(n), f === 'slip' ? 'tcp-slip' : 'tcp'),
    },
  };
  if (LIBLO_MISSING === undefined) {
    list['liblo (C)'] = {
      receiver: [cProgram('lo_recv'), ['tcp']],
      sender: (port, f, n) => [
        cProgram('lo_send'),
        [`osc.tcp://127.0.0.1:${port}`, String(n), ...(f === 'slip' ? ['slip'] : [])],
      ],
    };
  }
  return list;
}

async function once(
  receiverCommand: Command,
  warmup: (port: number) => Command,
  sender: (port: number) => Command,
  expected: number,
): Promise<{ rate: number; cpu: number }> {
  const receiver = new Receiver(...receiverCommand);
  try {
    const port = await receiver.port;
    const warm = await new Proc(...warmup(port)).result<{ sent: number }>('warm-up');
    await receiver.settled(warm.sent);
    receiver.reset();
    const before = await receiver.counts();
    const command = sender(port);
    await new Proc(...command).result(`${command[0]} ${command[1].join(' ')}`);
    const got = await receiver.settled(expected);
    if (got.count !== expected) throw new Error(`TCP delivered ${got.count} of ${expected} messages`);
    return { rate: (got.count - 1) / ((got.last - got.first) / 1e9), cpu: (got.cpu - before.cpu) / got.count };
  } finally {
    await receiver.quit();
  }
}

export async function runTcp(options: TcpOptions): Promise<TcpResults> {
  const notes: string[] = [];
  if (LIBLO_MISSING !== undefined) notes.push(`liblo rows skipped: ${LIBLO_MISSING}`);
  const dir = mkdtempSync(join(tmpdir(), 'aiolo-bench-'));
  const packet = aiolo.encode(aiolo.Message.typed('/synth/1/freq', 'ifs', 440, 0.5, 'sine'));
  const files = {} as Record<Framing, string>;
  for (const f of FRAMINGS) {
    files[f] = join(dir, `small.${f}`);
    writeFileSync(files[f], frame(packet, f));
  }
  const samples = new Map<string, number[]>();
  const add = (key: string, x: number) => samples.set(key, [...(samples.get(key) ?? []), x]);
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const f of FRAMINGS) {
        for (const [name, impl] of Object.entries(implementations())) {
          const flood =
            (n: number) =>
            (port: number): Command => [cProgram('flood'), ['tcp', String(port), files[f], String(n), '0']];
          const warmup = flood(options.warmup);
          try {
            const rx = await once(impl.receiver, warmup, flood(options.count), options.count);
            add(`receive\0${f}\0${name}`, rx.rate);
            add(`cpu\0${f}\0${name}`, rx.cpu);
            const e2e = await once(impl.receiver, warmup, (p) => impl.sender(p, f, options.count), options.count);
            add(`e2e\0${f}\0${name}`, e2e.rate);
          } catch (err) {
            notes.push(`${name}, ${f} framing, round ${round + 1}: ${(err as Error).message}`);
          }
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const receive: Record<string, Record<string, number>> = {};
  const receiveCpu: Record<string, Record<string, number>> = {};
  const endToEnd: Record<string, Record<string, number>> = {};
  for (const [key, xs] of samples) {
    const [kind, f, name] = key.split('\0') as [string, string, string];
    const into = kind === 'receive' ? receive : kind === 'cpu' ? receiveCpu : endToEnd;
    into[f] ??= {};
    into[f][name] = median(xs);
  }
  return { receive, receiveCpu, endToEnd, notes };
}

export function tcpTables(r: TcpResults): string {
  const rows: string[][] = [];
  for (const f of FRAMINGS) {
    const lo = { receive: r.receive[f]?.['liblo (C)'], e2e: r.endToEnd[f]?.['liblo (C)'] };
    for (const name of Object.keys({ ...r.receive[f], ...r.endToEnd[f] })) {
      const rx = r.receive[f]?.[name];
      const cpu = r.receiveCpu[f]?.[name];
      const e2e = r.endToEnd[f]?.[name];
      const mine = name === 'aiolo';
      rows.push([
        f,
        name,
        rate(rx),
        mine ? ratio(rx, lo.receive) : '',
        cpu === undefined ? '—' : `${cpu.toFixed(2)} µs`,
        rate(e2e),
        mine ? ratio(e2e, lo.e2e) : '',
      ]);
    }
  }
  return [
    'TCP (small message, loopback; every message delivered):',
    '',
    table(
      [
        'framing',
        'implementation',
        'receive from a C stream',
        '× liblo',
        'CPU per message',
        'its sender → its server',
        '× liblo',
      ],
      rows,
    ),
    ...r.notes.map((n) => `\n${n}`),
  ].join('\n');
}

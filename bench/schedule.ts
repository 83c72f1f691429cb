// Bundle scheduling: bundles stamped 5–100 ms ahead go to a receiver over UDP, and the receiver
// prints (its clock at dispatch − the timetag) for each. Both receivers judge by their own wall
// clock, so the sender's clock does not enter the figures. A first batch warms the receiver up
// (a cold JIT makes the first few late by milliseconds) and is not counted, for either receiver.
import { setTimeout as sleep } from 'node:timers/promises';
import { aiolo } from './aiolo.js';
import { cProgram, LIBLO_MISSING, nodeCommand, Receiver } from './peers.js';
import { ms, percentile, table } from './stats.js';

export interface ScheduleOptions {
  readonly rounds: number;
  /** Bundles per round, one every `spacingMs`, after `warmup` that are not counted. */
  readonly bundles: number;
  readonly warmup: number;
  readonly spacingMs: number;
}

export interface Lateness {
  readonly samples: number;
  /** Dispatches before the timetag. */
  readonly early: number;
  /** Seconds; negative is early. */
  readonly min: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface ScheduleResults {
  readonly byReceiver: Record<string, Lateness>;
  readonly notes: string[];
}

type Command = [string, string[]];

function receivers(): Record<string, Command> {
  const [node, args] = nodeCommand('receiver', 'aiolo', 'udp', 'late');
  // --expose-gc: the receiver collects its start-up garbage before the first bundle (receiver.ts)
  const list: Record<string, Command> = { aiolo: [node, ['--expose-gc', ...args]] };
  if (LIBLO_MISSING === undefined) list['liblo (C)'] = [cProgram('lo_recv'), ['udp', 'late']];
  return list;
}

async function once(command: Command, options: ScheduleOptions): Promise<number[]> {
  const { Address, Message, TimeTag } = aiolo;
  const receiver = new Receiver(...command);
  const address = new Address({ url: `osc.udp://127.0.0.1:${await receiver.port}` });
  const send = async (n: number, total: number) => {
    for (let i = 0; i < n; i++) {
      const ahead = 0.005 + ((i * 37) % 96) / 1000; // 5–100 ms, in a scrambled order
      await address.bundle([Message.typed('/tick', 'i', i)], TimeTag.now().add(ahead));
      await sleep(options.spacingMs); // the pace of the bundles, not a wait for anything
    }
    // (a lost datagram would show as a shortfall after 10 s)
    await receiver.settled(total, 10_000);
  };
  try {
    await send(options.warmup, options.warmup);
    receiver.lateness(); // not counted
    await send(options.bundles, options.warmup + options.bundles);
    const late = receiver.lateness();
    if (late.length !== options.bundles) {
      throw new Error(`${late.length} lateness lines for ${options.bundles} bundles`);
    }
    return late;
  } finally {
    await address.close();
    await receiver.quit();
  }
}

export async function runSchedule(options: ScheduleOptions): Promise<ScheduleResults> {
  const notes: string[] = [];
  if (LIBLO_MISSING !== undefined) notes.push(`liblo row skipped: ${LIBLO_MISSING}`);
  const samples = new Map<string, number[]>();
  for (let round = 0; round < options.rounds; round++) {
    for (const [name, command] of Object.entries(receivers())) {
      try {
        samples.set(name, [...(samples.get(name) ?? []), ...(await once(command, options))]);
      } catch (err) {
        notes.push(`${name}, round ${round + 1}: ${(err as Error).message}`);
      }
    }
  }
  const byReceiver: Record<string, Lateness> = {};
  for (const [name, xs] of samples) {
    byReceiver[name] = {
      samples: xs.length,
      early: xs.filter((x) => x < 0).length,
      min: Math.min(...xs),
      p50: percentile(xs, 0.5),
      p99: percentile(xs, 0.99),
      max: Math.max(...xs),
    };
  }
  return { byReceiver, notes };
}

export function scheduleTable(r: ScheduleResults): string {
  const rows = Object.entries(r.byReceiver).map(([name, l]) => [
    name,
    String(l.samples),
    `${l.early}${l.early > 0 ? ` (up to ${ms(-l.min)})` : ''}`,
    ms(l.p50),
    ms(l.p99),
    ms(l.max),
  ]);
  return [
    'Bundle scheduling (dispatch time − timetag, bundles 5–100 ms ahead, UDP):',
    '',
    table(['receiver', 'bundles', 'early', 'p50 late', 'p99 late', 'max late'], rows),
    ...r.notes.map((n) => `\n${n}`),
  ].join('\n');
}

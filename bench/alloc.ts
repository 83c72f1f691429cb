// What each UDP receive path allocates per message, in the steady state: bytes of JavaScript heap
// per small message from V8's sampling heap profiler (bench/alloc-child.ts), by the part of the
// code that allocated them — the receive path itself (the socket to the packet handed on), the
// decoder, the dispatch into a `for await` subscription, and the consumer loop. raw dgram, with no
// OSC work, is the floor of a Node receive; aiolo runs on its native path and on node:dgram's.
import { cProgram, dgramPath, NATIVE_BUILT, nodeCommand, Proc } from './peers.js';
import { median, table } from './stats.js';

export interface AllocOptions {
  readonly rounds: number;
  /** Messages profiled per run, after `warmup` that are not. */
  readonly count: number;
  readonly warmup: number;
}

export interface AllocResults {
  /** By receiver, then by part of the code: heap bytes allocated per message (median over rounds). */
  readonly byReceiver: Record<string, Record<string, number>>;
  readonly notes: string[];
}

const PARTS = ['receive', 'decode', 'dispatch', 'consumer', 'other'] as const;

export async function runAlloc(options: AllocOptions): Promise<AllocResults> {
  const notes: string[] = [];
  const flood = cProgram('flood');
  const child = (kind: string): [string, string[]] =>
    nodeCommand('alloc-child', kind, flood, String(options.warmup), String(options.count));
  const receivers: Record<string, [string, string[]]> = { 'raw dgram': child('dgram'), aiolo: child('aiolo') };
  if (NATIVE_BUILT) receivers['aiolo, dgram path'] = dgramPath(child('aiolo'));
  else notes.push('aiolo-native is not built here: the aiolo row is its node:dgram path');
  const samples = new Map<string, Record<string, number[]>>();
  for (let round = 0; round < options.rounds; round++) {
    for (const [name, command] of Object.entries(receivers)) {
      const r = await new Proc(...command).result<{ messages: number; bytes: Record<string, number> }>(name);
      if (r.messages < options.count * 0.99) notes.push(`${name}: ${r.messages} of ${options.count} messages profiled`);
      const s = samples.get(name) ?? {};
      for (const p of PARTS) s[p] = [...(s[p] ?? []), r.bytes[p] ?? 0];
      samples.set(name, s);
    }
  }
  const byReceiver: Record<string, Record<string, number>> = {};
  for (const [name, s] of samples) {
    byReceiver[name] = Object.fromEntries(PARTS.map((p) => [p, median(s[p] ?? [0])]));
  }
  return { byReceiver, notes };
}

export function allocTable(r: AllocResults): string {
  const b = (x: number | undefined) => `${Math.round(x ?? 0)} B`;
  const rows = Object.entries(r.byReceiver).map(([name, x]) => [
    name,
    b(x.receive),
    b(x.decode),
    b(x.dispatch),
    b(x.consumer),
    b(PARTS.reduce((sum, p) => sum + (x[p] ?? 0), 0)),
  ]);
  return [
    'Heap allocated per message received over UDP (small message, 50k/s, sampling heap profiler):',
    '',
    table(['receiver', 'receive path', 'decode', 'dispatch', 'consumer', 'all'], rows),
    '',
    'receive path: from the socket to the packet handed on (dgram: its Buffer and sender object);',
    'dispatch: routing into a `for await` subscription and its iteration.',
    ...r.notes.map((n) => `\n${n}`),
  ].join('\n');
}

// Round-trip latency over loopback: a client sends the small message (/synth/1/freq ,ifs), the
// server answers the sender with the same path and args, and the client waits for that reply before
// it sends the next. Client and server are separate processes of the same implementation: aiolo
// (`address.request()` against a route answering with `m.source.send()`), liblo's C (lo_send_from
// against lo_message_get_source(), bench/peers/lo_echo.c), node-osc (its Server and Client on each
// side: it cannot answer a sender otherwise), and raw node:dgram (prebuilt bytes echoed untouched:
// no OSC work, the floor of a Node program). Each round trip is timed by the client (hrtime /
// CLOCK_MONOTONIC) after a warm-up; every run's samples are pooled over the rounds (contenders take
// turns within each round) and p50, p99 and max are reported. A round trip with no reply within a
// second is counted as lost and the next is sent; each run is bounded by a timeout.
import { cProgram, dgramPath, LIBLO_MISSING, NATIVE_BUILT, nodeCommand, Proc } from './peers.js';
import { percentile, ratio, table } from './stats.js';

export interface LatencyOptions {
  readonly rounds: number;
  /** Timed round trips per run. */
  readonly count: number;
  /** Round trips before timing starts, so that both sides' JIT has compiled the path. */
  readonly warmup: number;
  /** Bound on each run, in milliseconds. */
  readonly timeoutMs: number;
}

export interface LatencyRow {
  /** Round-trip times in microseconds over every timed round trip of every round. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly samples: number;
  /** Round trips with no reply within REPLY_TIMEOUT_MS. */
  readonly lost: number;
}

export interface LatencyResults {
  /** By transport ('UDP', 'TCP'), then by pair. */
  readonly byTransport: Record<string, Record<string, LatencyRow>>;
  readonly notes: string[];
}

type Command = [string, string[]];
const REPLY_TIMEOUT_MS = 1000;

interface Pair {
  readonly transport: 'UDP' | 'TCP';
  readonly name: string;
  readonly server: Command;
  readonly client: (port: number, o: LatencyOptions) => Command;
}

function pairs(): Pair[] {
  const node =
    (kind: string, proto: string) =>
    (port: number, o: LatencyOptions): Command =>
      nodeCommand('ping', kind, proto, String(port), String(o.warmup), String(o.count), String(REPLY_TIMEOUT_MS));
  const list: Pair[] = [];
  for (const transport of ['UDP', 'TCP'] as const) {
    const proto = transport.toLowerCase();
    if (transport === 'UDP') {
      list.push({
        transport,
        name: 'raw dgram',
        server: nodeCommand('echo', 'dgram', proto),
        client: node('dgram', proto),
      });
    }
    list.push({ transport, name: 'aiolo', server: nodeCommand('echo', 'aiolo', proto), client: node('aiolo', proto) });
    if (transport === 'UDP' && NATIVE_BUILT) {
      list.push({
        transport,
        name: 'aiolo, dgram path',
        server: dgramPath(nodeCommand('echo', 'aiolo', proto)),
        client: (port, o) => dgramPath(node('aiolo', proto)(port, o)),
      });
    }
    if (transport === 'UDP') {
      list.push({
        transport,
        name: 'node-osc',
        server: nodeCommand('echo', 'node-osc', proto),
        client: node('node-osc', proto),
      });
    }
    if (LIBLO_MISSING === undefined) {
      const program = cProgram('lo_echo');
      list.push({
        transport,
        name: 'liblo (C)',
        server: [program, ['server', proto]],
        client: (port, o) => [
          program,
          ['client', `osc.${proto}://127.0.0.1:${port}/`, String(o.warmup), String(o.count), String(REPLY_TIMEOUT_MS)],
        ],
      });
    }
  }
  return list;
}

interface Run {
  readonly lost: number;
  readonly samples: number[];
}

async function once(pair: Pair, options: LatencyOptions): Promise<Run> {
  const server = new Proc(...pair.server);
  let client: Proc | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const port = await server.next((l) => (l.startsWith('PORT ') ? Number(l.slice(5)) : undefined), 'echo port');
    const c = new Proc(...pair.client(port, options));
    client = c;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result in ${options.timeoutMs / 1000} s`)), options.timeoutMs);
    });
    return await Promise.race([c.result<Run>(`${pair.name} client`), timedOut]);
  } finally {
    clearTimeout(timer);
    await client?.quit();
    await server.quit();
  }
}

export async function runLatency(options: LatencyOptions): Promise<LatencyResults> {
  const notes: string[] = [];
  if (LIBLO_MISSING !== undefined) notes.push(`liblo rows skipped: ${LIBLO_MISSING}`);
  const pooled = new Map<Pair, Run[]>();
  const list = pairs();
  for (let round = 0; round < options.rounds; round++) {
    for (const pair of list) {
      try {
        pooled.set(pair, [...(pooled.get(pair) ?? []), await once(pair, options)]);
      } catch (err) {
        notes.push(`${pair.name} over ${pair.transport}, round ${round + 1}: ${(err as Error).message}`);
      }
    }
  }
  const byTransport: Record<string, Record<string, LatencyRow>> = {};
  for (const pair of list) {
    const runs = pooled.get(pair);
    if (runs === undefined) continue;
    const samples = runs.flatMap((r) => r.samples).map((ns) => ns / 1000);
    const lost = runs.reduce((sum, r) => sum + r.lost, 0);
    if (lost > 0) notes.push(`${pair.name} over ${pair.transport}: ${lost} round trips had no reply within 1 s`);
    const rows = byTransport[pair.transport] ?? {};
    byTransport[pair.transport] = rows;
    rows[pair.name] = {
      p50: percentile(samples, 0.5),
      p99: percentile(samples, 0.99),
      max: percentile(samples, 1),
      samples: samples.length,
      lost,
    };
  }
  return { byTransport, notes };
}

const us = (x: number): string => (Number.isNaN(x) ? '—' : `${x.toFixed(x < 100 ? 1 : 0)} µs`);

export function latencyTable(r: LatencyResults): string {
  const rows: string[][] = [];
  for (const [transport, byPair] of Object.entries(r.byTransport)) {
    const mine = byPair.aiolo;
    for (const [name, x] of Object.entries(byPair)) {
      const other = name !== 'aiolo';
      rows.push([
        transport,
        name,
        us(x.p50),
        us(x.p99),
        us(x.max),
        other ? ratio(x.p50, mine?.p50) : '',
        other ? ratio(x.p99, mine?.p99) : '',
        String(x.samples),
        String(x.lost),
      ]);
    }
  }
  return [
    'Round-trip latency (small message, client and server of the same implementation, loopback):',
    '',
    table(['transport', 'pair', 'p50', 'p99', 'max', 'p50 × aiolo', 'p99 × aiolo', 'round trips', 'lost'], rows),
    '',
    'each row: the client sends, the server answers the sender, the client awaits the reply before the next;',
    "× aiolo: its time over aiolo's (below 1: faster than aiolo).",
    ...r.notes.map((n) => `note: ${n}`),
  ].join('\n');
}

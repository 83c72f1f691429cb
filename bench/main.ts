// npm run bench: aiolo against the other Node OSC libraries, raw node:dgram and liblo's C, side by
// side in one run (the machine is shared and noisy: contenders take turns within each round and
// medians are reported). Prints Markdown tables and writes every figure to bench/results.json.
// `npm run bench` runs this compiled (bench/tsconfig.json, into dist-bench/), Node contenders too.
//   BENCH_ONLY=codec,udp,tcp,schedule,ws,latency,alloc   the sections to run (default all)
//   BENCH_ROUNDS=5  BENCH_MS=150        codec rounds and milliseconds per measurement
//   BENCH_NET_ROUNDS=5                  rounds of the network sections
//   BENCH_UDP_FLOOD=300000 BENCH_UDP_PACED_SECONDS=1 BENCH_UDP_SENDS=200000
//   BENCH_TCP_COUNT=200000 BENCH_SCHEDULE_BUNDLES=200
//   BENCH_WS_COUNT=100000 BENCH_WS_PACE=20000 (0: no paced relay load) BENCH_WS_TIMEOUT=60 (s a run)
//   BENCH_WS_WARMUP=$BENCH_WARMUP       BENCH_WS_BROWSER=1 (0: no chromium rows)
//   BENCH_ALLOC_COUNT=100000             messages profiled per allocation run
//   BENCH_LATENCY_COUNT=5000 BENCH_LATENCY_WARMUP=5000 BENCH_LATENCY_TIMEOUT=60 (s a run)
//   BENCH_WARMUP=20000                  messages each receiver gets before counting starts
//   BENCH_JSON=bench/results.json       where the figures go
//   BENCH_CPU_PROF=<dir>                each Node contender's process writes its CPU profile there
//                                       (bench/top-frames.ts prints a profile's top frames)
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { allocTable, runAlloc } from './alloc.js';
import { codecTable, runCodec } from './codec.js';
import { latencyTable, runLatency } from './latency.js';
import { COMPILED } from './root.js';
import { runSchedule, scheduleTable } from './schedule.js';
import { runTcp, tcpTables } from './tcp.js';
import { runUdp, udpTables } from './udp.js';
import { runWs, wsTables } from './ws.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const only = new Set((process.env.BENCH_ONLY ?? 'codec,udp,tcp,schedule,ws,latency,alloc').split(','));
const rounds = env('BENCH_ROUNDS', 5);
const netRounds = env('BENCH_NET_ROUNDS', 5);

function libloVersion(): string {
  try {
    return execFileSync('pkg-config', ['--modversion', 'liblo'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  kernel: release(),
  node: process.version,
  liblo: libloVersion(),
};
const settings = {
  BENCH_ONLY: [...only].join(','),
  BENCH_ROUNDS: rounds,
  BENCH_MS: env('BENCH_MS', 150),
  BENCH_NET_ROUNDS: netRounds,
  /** How the harness and its Node contenders ran: compiled by `npm run bench`, or from the sources under tsx. */
  harness: COMPILED ? 'compiled' : 'tsx',
};
console.log(
  `aiolo benchmark, ${new Date().toISOString()}: ${machine.cpu}, ${machine.cores} cores, ` +
    `Linux ${machine.kernel}, Node ${machine.node}, liblo ${machine.liblo}`,
);
console.log(`settings: ${JSON.stringify(settings)}\n`);

const results: Record<string, unknown> = { date: new Date().toISOString(), machine, settings };
const show = (text: string) => console.log(`${text}\n`);

if (only.has('codec')) {
  const codec = await runCodec({ rounds, ms: settings.BENCH_MS });
  results.codec = codec;
  show(codecTable(codec));
}
if (only.has('udp')) {
  const udp = await runUdp({
    rounds: netRounds,
    flood: env('BENCH_UDP_FLOOD', 300_000),
    paced: [50_000, 200_000],
    pacedSeconds: env('BENCH_UDP_PACED_SECONDS', 1),
    sends: env('BENCH_UDP_SENDS', 200_000),
    warmup: env('BENCH_WARMUP', 20_000),
  });
  results.udp = udp;
  show(udpTables(udp));
}
if (only.has('tcp')) {
  const tcp = await runTcp({
    rounds: netRounds,
    count: env('BENCH_TCP_COUNT', 200_000),
    warmup: env('BENCH_WARMUP', 20_000),
  });
  results.tcp = tcp;
  show(tcpTables(tcp));
}
if (only.has('schedule')) {
  const schedule = await runSchedule({
    rounds: netRounds,
    bundles: env('BENCH_SCHEDULE_BUNDLES', 200),
    warmup: 25,
    spacingMs: 4,
  });
  results.schedule = schedule;
  show(scheduleTable(schedule));
}

if (only.has('ws')) {
  const wsOptions = {
    rounds: netRounds,
    count: env('BENCH_WS_COUNT', 100_000),
    warmup: env('BENCH_WS_WARMUP', env('BENCH_WARMUP', 20_000)),
    pace: env('BENCH_WS_PACE', 20_000),
    timeoutMs: env('BENCH_WS_TIMEOUT', 60) * 1000,
    browser: process.env.BENCH_WS_BROWSER !== '0',
  };
  const ws = await runWs(wsOptions);
  results.ws = { options: wsOptions, ...ws };
  show(wsTables(ws));
}

if (only.has('latency')) {
  const latencyOptions = {
    rounds: netRounds,
    count: env('BENCH_LATENCY_COUNT', 5000),
    // A Node process reaches its steady state after ~2,000 round trips (aiolo's p50 was 58 µs over
    // the first 2,000, 39-40 µs after); 1,000 timed the tier-up. liblo's C needs none, and has it.
    warmup: env('BENCH_LATENCY_WARMUP', 5000),
    timeoutMs: env('BENCH_LATENCY_TIMEOUT', 60) * 1000,
  };
  const latency = await runLatency(latencyOptions);
  results.latency = { options: latencyOptions, ...latency };
  show(latencyTable(latency));
}

if (only.has('alloc')) {
  const allocOptions = {
    rounds: netRounds,
    count: env('BENCH_ALLOC_COUNT', 100_000),
    warmup: env('BENCH_WARMUP', 20_000),
  };
  const alloc = await runAlloc(allocOptions);
  results.alloc = { options: allocOptions, ...alloc };
  show(allocTable(alloc));
}

const out = process.env.BENCH_JSON ?? 'bench/results.json';
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`figures written to ${out}`);

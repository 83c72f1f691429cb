// One codec operation on one of the benchmark's cases, over and over, under V8's sampling CPU
// profiler: where aiolo's time goes on the cases where liblo's C is ahead (README, Performance).
//   npm run bench:profile -- <encode|encodeInto|decode> <small|floats|bundle|blob> [ms]
// Runs the operation unprofiled first (V8 then runs its optimised code, as in the benchmark), then
// profiled for `ms` (default 2000), prints the rate and the top frames by self time, and writes
// the profile to bench-profiles/<operation>-<case>.cpuprofile (BENCH_PROFILE_DIR=<dir>: there
// instead), for Chrome's DevTools or bench/top-frames.ts. Line numbers are the compiled files'.
// The processes of the UDP, latency and scheduling sections are profiled with BENCH_CPU_PROF=<dir>
// on `npm run bench` instead (bench/peers.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { aioloContender, CASES, type Case, opsPerSecond } from './codec.js';
import { fromRoot } from './root.js';
import { type CpuProfile, framesTable, topFrames } from './top-frames.js';

const CASE_KEYS: Record<string, string> = {
  small: '/synth/1/freq ,ifs',
  floats: '16 floats',
  bundle: 'bundle of 10',
  blob: '4 KiB blob',
};
const OPERATIONS = ['encode', 'encodeInto', 'decode'] as const;
type Operation = (typeof OPERATIONS)[number];
/** Unprofiled first, long enough for V8 to optimise the loop and what it calls. */
const WARM_UP_MS = 500;
/** 100 µs between samples: 20,000 samples in the default 2 s, a frame of 1% is 200 of them. */
const SAMPLING_INTERVAL_US = 100;

function usage(): never {
  console.error(`usage: npm run bench:profile -- <${OPERATIONS.join('|')}> <${Object.keys(CASE_KEYS).join('|')}> [ms]`);
  process.exit(2);
}

const [operation, caseKey, msArg] = process.argv.slice(2);
const chosen = CASES.find((c) => c.name === CASE_KEYS[caseKey ?? '']);
const ms = msArg === undefined ? 2000 : Number(msArg);
if (!OPERATIONS.includes(operation as Operation) || chosen === undefined || !(ms > 0)) usage();

const prepared = aioloContender.prepare(chosen as Case);
if (prepared === undefined) throw new Error(`aiolo cannot prepare ${caseKey}`);
const fn = operation === 'encode' ? prepared.encode : operation === 'decode' ? prepared.decode : prepared.into;
if (fn === undefined) usage();

opsPerSecond(fn, WARM_UP_MS);
const session = new Session();
session.connect();
try {
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
  await session.post('Profiler.start');
  const rate = opsPerSecond(fn, ms);
  const { profile } = await session.post('Profiler.stop');
  const dir = process.env.BENCH_PROFILE_DIR ?? fromRoot('bench-profiles');
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/${operation}-${caseKey}.cpuprofile`;
  writeFileSync(file, JSON.stringify(profile));
  console.log(`aiolo ${operation}, ${chosen?.name}: ${(rate / 1e6).toFixed(2)} M/s under the profiler`);
  console.log(framesTable(topFrames(profile as CpuProfile, 15)));
  console.log(`profile: ${file}`);
} finally {
  session.disconnect();
}

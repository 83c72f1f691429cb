// The top frames of a V8 CPU profile (a `.cpuprofile`, as `node --cpu-prof` or bench/profile.ts
// writes), by self time: where a process spent its time, function by function.
//   node dist-bench/bench/top-frames.js <file.cpuprofile>... [--top N]
// One table per file. "(idle)" is the event loop waiting (in epoll), "(program)" V8's and Node's
// own C++ outside any JavaScript function, "(garbage collector)" the collections.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
/** The parts of a `.cpuprofile` (the inspector's Profiler.Profile) read here. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface Frame {
  /** `function file:line`: the function's name and where it is, the file's last two path parts. */
  readonly frame: string;
  readonly selfMs: number;
  /** Share of the profile's whole time. */
  readonly share: number;
}

/** The `top` frames by self time (the time samples landed in the function itself). */
export function topFrames(profile: CpuProfile, top = 20): Frame[] {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // each sample's time is the delta to the sample after it (the last has none)
  const timeOf = new Map<number, number>();
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    timeOf.set(id, (timeOf.get(id) ?? 0) + (deltas[i + 1] ?? 0));
  }
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = timeOf.get(node.id) ?? 0;
    if (us === 0) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : ` ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    const frame = `${functionName === '' ? '(anonymous)' : functionName}${where}`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + us);
  }
  return [...byFrame]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, share: total === 0 ? 0 : us / total }));
}

export function framesTable(frames: readonly Frame[]): string {
  return frames
    .map((f) => `${(f.share * 100).toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.frame}`)
    .join('\n');
}

if (process.argv[1] !== undefined && basename(process.argv[1]).startsWith('top-frames')) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--top');
  const top = at >= 0 ? Number(args.splice(at, 2)[1]) : 20;
  if (args.length === 0 || !Number.isInteger(top) || top <= 0) {
    console.error('usage: node dist-bench/bench/top-frames.js <file.cpuprofile>... [--top N]');
    process.exit(2);
  }
  for (const file of args) {
    console.log(`${file}\n${framesTable(topFrames(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top))}\n`);
  }
}

// The benchmark's profiling tools (README, Performance: where liblo's C stays ahead, and why):
// bench/top-frames.ts sums a CPU profile's samples by function, and bench/profile.ts profiles one
// codec operation on one of the benchmark's cases. Nothing here asserts a time: what is checked is
// that the tools attribute samples correctly and that a real profile names the code that ran.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type CpuProfile, topFrames } from '../../bench/top-frames.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

const frame = (id: number, functionName: string, url = '', lineNumber = 0, children: number[] = []) => ({
  id,
  callFrame: { functionName, url, lineNumber },
  children,
});

test('topFrames: self time by function, a sample lasting until the next', () => {
  // samples land in: root, a, b, a, b (b the last, whose time is unknown and so not counted);
  // a sample's time is the delta to the next one: root 10, a 20 + 40, b 30
  const profile: CpuProfile = {
    nodes: [
      frame(1, '(root)', '', 0, [2]),
      frame(2, 'a', 'file:///x/src/codec/decode.js', 163, [3]),
      frame(3, 'b', 'file:///x/src/codec/headers.js', 59),
    ],
    samples: [1, 2, 3, 2, 3],
    timeDeltas: [0, 10_000, 20_000, 30_000, 40_000],
  };
  assert.deepEqual(topFrames(profile), [
    { frame: 'a codec/decode.js:164', selfMs: 60, share: 0.6 },
    { frame: 'b codec/headers.js:60', selfMs: 30, share: 0.3 },
    { frame: '(root)', selfMs: 10, share: 0.1 },
  ]);
  assert.equal(topFrames(profile, 1).length, 1);
  // one function at two places in the tree (two callers) is one frame
  const twice: CpuProfile = {
    nodes: [frame(1, '(root)', '', 0, [2, 3]), frame(2, 'f', 'file:///a/b.js', 0), frame(3, 'f', 'file:///a/b.js', 0)],
    samples: [2, 3, 1],
    timeDeltas: [0, 5_000, 5_000],
  };
  assert.deepEqual(topFrames(twice), [{ frame: 'f a/b.js:1', selfMs: 10, share: 1 }]);
  assert.deepEqual(topFrames({ nodes: [frame(1, '(root)')] }), []);
});

test('npm run bench:profile: a decode of the small message, profiled, names the decoder', {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aiolo-profile-test-'));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/profile.ts', 'decode', 'small', '300'], {
      cwd: ROOT,
      env: { ...process.env, AIOLO_BENCH_FROM: 'src', BENCH_PROFILE_DIR: dir },
    });
    assert.match(stdout, /^aiolo decode, \/synth\/1\/freq ,ifs: \d+\.\d\d M\/s under the profiler$/m);
    // the decoder's own function is among the top frames, from aiolo's sources
    assert.match(stdout, /^ +\d+\.\d% +\d+ ms {2}decodeMessage codec\/decode\.ts:\d+$/m);
    const written = readdirSync(dir);
    assert.deepEqual(written, ['decode-small.cpuprofile']);
    const profile = JSON.parse(readFileSync(join(dir, 'decode-small.cpuprofile'), 'utf8')) as CpuProfile;
    assert.ok((profile.samples?.length ?? 0) > 100, 'too few samples in 300 ms');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run bench:profile: an unknown operation or case is a usage error (exit 2)', {
  timeout: 60_000,
}, async () => {
  for (const args of [['decoding', 'small'], ['decode', 'huge'], ['decode', 'small', '-5'], []]) {
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', 'bench/profile.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, AIOLO_BENCH_FROM: 'src' },
      }),
      (err: { code?: number; stderr?: string }) => {
        assert.equal(err.code, 2, args.join(' '));
        assert.match(err.stderr ?? '', /^usage: npm run bench:profile -- <encode\|encodeInto\|decode>/);
        return true;
      },
    );
  }
});

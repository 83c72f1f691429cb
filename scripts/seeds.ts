// npm run test:seeds -- [COUNT] [--from SEED] [--timeout SECONDS] [--budget MINUTES] [FILE...]
//
// Runs every randomized test file (those whose tests go through `seeded`, test/helpers/random.ts)
// once per seed, for COUNT seeds (default 20), one run at a time: seeds FROM, FROM+1, ... (FROM is
// drawn at random and printed when not given, so a sweep can be repeated). Each run is bounded by
// --timeout (default 300 s: the process group is killed and the run counts as failed); the sweep
// stops starting runs after --budget minutes (default 60) and says so. Prints every failure with
// the command that replays it; exits 1 if any run failed, 2 if the budget ran out first, else 0.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Options {
  count: number;
  from: number;
  timeout: number;
  budget: number;
  files: string[];
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run test:seeds -- [COUNT] [--from SEED] [--timeout SECONDS] [--budget MINUTES] [FILE...]\n`,
  );
  process.exit(64);
}

function positive(text: string | undefined, what: string): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < 0) usage(`${what} must be a non-negative integer`);
  return n;
}

/** Test files that use `seeded(`: the randomized ones. */
function randomizedFiles(): string[] {
  const files: string[] = [];
  for (const dir of readdirSync('test', { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join('test', dir.name))) {
      const path = join('test', dir.name, f);
      if (f.endsWith('.test.ts') && readFileSync(path, 'utf8').includes('seeded(')) files.push(path);
    }
  }
  return files.sort();
}

function parse(argv: string[]): Options {
  const o: Options = {
    count: 20,
    from: Math.floor(Math.random() * 2 ** 31),
    timeout: 300,
    budget: 60,
    files: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--from') o.from = positive(argv[++i], '--from');
    else if (a === '--timeout') o.timeout = positive(argv[++i], '--timeout');
    else if (a === '--budget') o.budget = positive(argv[++i], '--budget');
    else if (/^\d+$/.test(a)) o.count = positive(a, 'COUNT');
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.count < 1) usage('COUNT must be at least 1');
  if (o.files.length === 0) o.files = randomizedFiles();
  return o;
}

interface Run {
  ok: boolean;
  seconds: number;
  /** The failing tests' names, or why the run failed. */
  failures: string[];
}

/** One `node --test FILE` with AIOLO_SEED set, killed (its whole process group) after `timeout` s. */
function runFile(file: string, seed: number, timeout: number): Promise<Run> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], {
      env: { ...process.env, AIOLO_SEED: String(seed) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so that a timeout ends the test's children too
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeout * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = (performance.now() - start) / 1000;
      // TAP: every failing test, and each suite around it, is a `not ok` line
      const failures = [...out.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => (m[1] as string).trim());
      if (timedOut) failures.push(`(killed after ${timeout} s)`);
      else if (code !== 0 && failures.length === 0) failures.push(`(exit code ${code})`);
      resolve({ ok: !timedOut && code === 0, seconds, failures });
    });
  });
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  const started = performance.now();
  const deadline = started + o.budget * 60_000;
  process.stdout.write(
    `${o.count} seeds (${o.from} to ${o.from + o.count - 1}) × ${o.files.length} files, one run at a time:\n` +
      o.files.map((f) => `  ${f}\n`).join(''),
  );
  const failed: { seed: number; file: string; failures: string[] }[] = [];
  let runs = 0;
  let seedsDone = 0;
  for (let k = 0; k < o.count; k++) {
    if (performance.now() > deadline) break;
    const seed = o.from + k;
    const t0 = performance.now();
    const bad: string[] = [];
    for (const file of o.files) {
      const run = await runFile(file, seed, o.timeout);
      runs++;
      if (!run.ok) {
        failed.push({ seed, file, failures: run.failures });
        bad.push(`${file}: ${run.failures.join('; ')}`);
      }
    }
    seedsDone++;
    const took = ((performance.now() - t0) / 1000).toFixed(1);
    process.stdout.write(
      bad.length === 0
        ? `seed ${seed}: ok (${took} s)\n`
        : `seed ${seed}: FAILED (${took} s)\n${bad.map((b) => `  ${b}\n`).join('')}`,
    );
  }
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  process.stdout.write(
    `\n${seedsDone} of ${o.count} seeds, ${runs} runs in ${minutes} min: ${runs - failed.length} passed, ${failed.length} failed\n`,
  );
  for (const f of failed) {
    process.stdout.write(`  AIOLO_SEED=${f.seed} node --import tsx --test ${f.file}   # ${f.failures.join('; ')}\n`);
  }
  if (failed.length > 0) return 1;
  if (seedsDone < o.count) {
    process.stdout.write(`the budget of ${o.budget} min ran out after ${seedsDone} seeds\n`);
    return 2;
  }
  return 0;
}

process.exitCode = await main();

// The benchmark's other processes: liblo's C programs in bench/peers/ (compiled here, once per
// source, when gcc and liblo-dev are installed) and the Node receivers and senders, all speaking
// the same line protocol on stdin/stdout.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { COMPILED, fromRoot } from './root.js';

/** Why liblo's rows cannot be measured here, or undefined when they can. */
export const LIBLO_MISSING: string | undefined = (() => {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is not installed (apt-get install gcc liblo-dev)';
  }
  return existsSync('/usr/include/lo/lo.h') ? undefined : 'liblo-dev is not installed (apt-get install liblo-dev)';
})();

const built = new Map<string, string>();

/** Compiles bench/peers/<name>.c once (cached by the source's hash) and returns the binary. */
export function cProgram(name: string): string {
  const ready = built.get(name);
  if (ready !== undefined) return ready;
  const source = fromRoot(`bench/peers/${name}.c`);
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const binary = join(tmpdir(), `aiolo-bench-${name}-${hash}`);
  if (!existsSync(binary)) {
    const partial = `${binary}.${process.pid}`;
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', partial, source, '-llo']);
    execFileSync('mv', [partial, binary]);
  }
  built.set(name, binary);
  return binary;
}

/**
 * A Node contender in a process of its own: `node dist-bench/bench/<file>.js ...args` when this
 * harness runs compiled (`npm run bench`), as users run aiolo; `node --import tsx bench/<file>.ts`
 * when it runs from source (the benchmark's tests).
 */
export function nodeCommand(file: string, ...args: string[]): [string, string[]] {
  const flags = cpuProfile(file, args);
  if (COMPILED) return [process.execPath, [...flags, fromRoot(`dist-bench/bench/${file}.js`), ...args]];
  return [process.execPath, [...flags, '--import', 'tsx', fromRoot(`bench/${file}.ts`), ...args]];
}

/** BENCH_CPU_PROF=<dir>: each Node contender's process writes its CPU profile there. */
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
let profiled = 0;

/**
 * `node --cpu-prof` flags for a contender's process when BENCH_CPU_PROF names a directory, its
 * file named for the process (`echo-aiolo-udp-3.cpuprofile`): read them with bench/top-frames.ts.
 */
function cpuProfile(file: string, args: readonly string[]): string[] {
  if (CPU_PROF_DIR === undefined || CPU_PROF_DIR === '') return [];
  const role = [file, ...args.filter((a) => /^[a-z-]+$/.test(a))].join('-');
  profiled += 1;
  return ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`, `--cpu-prof-name=${role}-${profiled}.cpuprofile`];
}

/**
 * Whether aiolo's native UDP path (aiolo-native) is built here: where it is, aiolo's rows use it,
 * and rows marked "dgram path" run the same command with AIOLO_NATIVE=0, the pure-TypeScript path.
 */
export const NATIVE_BUILT = (() => {
  try {
    createRequire(import.meta.url)('aiolo-native');
    return true;
  } catch {
    return false;
  }
})();

/** `command` on aiolo's pure-TypeScript path (node:dgram), whatever is built. */
export function dgramPath([command, args]: [string, string[]]): [string, string[]] {
  const named = args.map((a) => a.replace(/^--cpu-prof-name=/, '--cpu-prof-name=dgram-path-'));
  return ['/usr/bin/env', ['AIOLO_NATIVE=0', command, ...named]];
}

const LINE_TIMEOUT_MS = 30_000;

/** A child process read line by line; every wait is bounded. */
export class Proc {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  /** Lines `next` passed over, for `take`. */
  readonly #passed: string[] = [];
  #waiting: (() => void) | undefined;
  #exited = false;
  #stderr = '';
  readonly exited: Promise<number | null>;

  constructor(command: string, args: readonly string[]) {
    this.#child = spawn(command, args, { stdio: 'pipe' });
    this.#child.stderr.on('data', (d: Buffer) => {
      this.#stderr += d.toString();
    });
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      this.#lines.push(line);
      this.#waiting?.();
    });
    this.exited = new Promise((resolve) => {
      this.#child.on('close', (code) => {
        this.#exited = true;
        this.#waiting?.();
        resolve(code);
      });
    });
  }

  /** The next line for which `match` returns a value; the lines before it are kept for `take`. */
  async next<T>(match: (line: string) => T | undefined, what: string): Promise<T> {
    const deadline = Date.now() + LINE_TIMEOUT_MS;
    for (;;) {
      while (this.#lines.length > 0) {
        const line = this.#lines.shift() as string;
        const found = match(line);
        if (found !== undefined) return found;
        this.#passed.push(line);
      }
      if (this.#exited) throw new Error(`${what}: the process exited; stderr: ${this.#stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`${what}: no answer in ${LINE_TIMEOUT_MS} ms`);
      const timer = setTimeout(() => this.#waiting?.(), Math.max(1, deadline - Date.now()));
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
      });
      clearTimeout(timer);
      this.#waiting = undefined;
    }
  }

  /** Every line received and not yet returned by `next`, and forgets them. */
  take(): string[] {
    return [...this.#passed.splice(0), ...this.#lines.splice(0)];
  }

  send(line: string): void {
    this.#child.stdin.write(`${line}\n`);
  }

  /** The JSON object on the process's last line (for programs that print one result and exit). */
  async result<T>(what: string): Promise<T> {
    const code = await this.exited;
    const last = this.#lines.findLast((l) => l.startsWith('{'));
    if (code !== 0 || last === undefined) {
      throw new Error(`${what} failed (exit ${code}): ${this.#stderr.trim() || this.#lines.join('\n')}`);
    }
    return JSON.parse(last) as T;
  }

  async quit(): Promise<void> {
    if (!this.#exited) {
      this.#child.stdin.end('quit\n');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

export interface Counts {
  readonly count: number;
  /** CLOCK_MONOTONIC nanoseconds of the first and the last message the consumer got. */
  readonly first: number;
  readonly last: number;
  /** CPU time (user + system) the receiving process has used, in microseconds. */
  readonly cpu: number;
  /** Young-generation collections so far (Node receivers; liblo's C has none to count). */
  readonly scavenges?: number;
}

/** A receiver process (bench/receiver.ts or lo_recv) on an ephemeral port. */
export class Receiver {
  readonly #proc: Proc;
  readonly port: Promise<number>;

  constructor(command: string, args: readonly string[]) {
    this.#proc = new Proc(command, args);
    this.port = this.#proc.next((l) => (l.startsWith('PORT ') ? Number(l.slice(5)) : undefined), 'receiver port');
  }

  async counts(): Promise<Counts> {
    this.#proc.send('count');
    return this.#proc.next((l) => (l.startsWith('{') ? (JSON.parse(l) as Counts) : undefined), 'receiver count');
  }

  /** Counts afresh from here on (the CPU time stays cumulative). */
  reset(): void {
    this.#proc.send('reset');
  }

  /**
   * Waits until the consumer has `expected` messages or, with loss possible (UDP) and so no count to
   * wait for, until the count stops changing for `pollMs`.
   */
  async settled(expected?: number, timeoutMs = 120_000): Promise<Counts> {
    const pollMs = 150;
    const deadline = Date.now() + timeoutMs;
    let before = await this.counts();
    for (;;) {
      if (expected !== undefined && before.count >= expected) return before;
      if (Date.now() > deadline) throw new Error(`the receiver stopped at ${before.count} of ${expected ?? '?'}`);
      await new Promise((resolve) => setTimeout(resolve, expected === undefined ? pollMs : 10));
      const now = await this.counts();
      if (expected === undefined && now.count === before.count) return now;
      before = now;
    }
  }

  /** The lateness lines printed so far, in seconds. */
  lateness(): number[] {
    return this.#proc
      .take()
      .filter((l) => l.startsWith('LATE '))
      .map((l) => Number(l.slice(5)));
  }

  quit(): Promise<void> {
    return this.#proc.quit();
  }
}

// Runs a command in a fresh network namespace, so that multicast tests cannot send a packet off this
// machine: the namespace has only a loopback interface, brought up with multicast on and a route
// for 224.0.0.0/4, and it disappears with the command. Needs root, `unshare` (Debian util-linux)
// and `ip` (Debian iproute2). Locally, without them, the tests that need a namespace skip with a
// message naming what is missing; under CI=true that is a failure instead, as with the liblo peers.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { onPath, skipOrFail } from './peers.js';

/** What the namespace's `sh` runs before the command: loopback up, multicast on, groups routed to it. */
export const NETNS_SETUP = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';

/**
 * For broadcast: a veth pair whose both ends stay in the namespace (nothing to leave by), one end
 * 10.99.0.1/24, and a default route through it, which sending to 255.255.255.255 needs.
 */
export const NETNS_BROADCAST_SETUP =
  'ip link set lo up && ip link add v0 type veth peer name v1 && ' +
  'ip addr add 10.99.0.1/24 broadcast 10.99.0.255 dev v0 && ip link set v0 up && ip link set v1 up && ' +
  'ip route add default dev v0';

/** The whole command line: `unshare -n sh -c '<setup> && exec "$@"' sh <argv...>`. */
export function netnsCommand(argv: readonly string[], setup = NETNS_SETUP): string[] {
  return ['unshare', '-n', 'sh', '-c', `${setup} && exec "$@"`, 'sh', ...argv];
}

export interface NetnsStatus {
  readonly available: boolean;
  /** Why not, naming what to install or how to run: undefined when available. */
  readonly missing: string | undefined;
}

function probe(): NetnsStatus {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (run the tests as root)');
  if (!onPath('unshare')) missing.push('unshare (apt-get install util-linux)');
  if (!onPath('ip')) missing.push('ip (apt-get install iproute2)');
  if (missing.length > 0) {
    return { available: false, missing: `network namespaces need ${missing.join(', ')}` };
  }
  // everything is there; make sure a namespace can really be made here (a container may forbid it)
  const [command, ...args] = netnsCommand(['true']);
  const r = spawnSync(command as string, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) {
    const why = r.error?.message ?? (r.stderr.trim() || `exit code ${r.status}, signal ${r.signal}`);
    return {
      available: false,
      missing: `cannot create a network namespace (${why}); needs root with CAP_SYS_ADMIN, util-linux and iproute2`,
    };
  }
  return { available: true, missing: undefined };
}

let status: NetnsStatus | undefined;

/** Whether namespaces can be made here (checked once: root, unshare, ip, and a real namespace). */
export function netnsStatus(): NetnsStatus {
  status ??= probe();
  return status;
}

export function netnsAvailable(): boolean {
  return netnsStatus().available;
}

/**
 * Call first in a test that needs a namespace. Returns false (having skipped the test) when none
 * can be made locally; under CI=true that is a failure.
 */
export function needNetns(t: TestContext): boolean {
  const { available, missing } = netnsStatus();
  if (available) return true;
  return skipOrFail(t, missing ?? 'no network namespace', 'the multicast tests');
}

export interface NetnsOptions {
  /** Kill the command (and everything it started) after this long. */
  readonly timeoutMs: number;
  readonly cwd?: string | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** What the namespace's `sh` runs first (default NETNS_SETUP). */
  readonly setup?: string | undefined;
}

export interface NetnsResult {
  /** Exit code, or null when killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Whether it was killed for running past `timeoutMs`. */
  readonly timedOut: boolean;
}

/** Runs `argv` in a fresh network namespace and resolves when it exits (or is killed at the timeout). */
export function runInNetns(argv: readonly string[], options: NetnsOptions): Promise<NetnsResult> {
  const [command, ...args] = netnsCommand(argv, options.setup);
  return new Promise((resolve, reject) => {
    // its own process group, so that a timeout kills whatever the command started too
    const child = spawn(command as string, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is gone already; make sure of the child
      }
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** A result for an assertion message: how it ended and what it printed. */
export function describeResult(r: NetnsResult): string {
  const end = r.timedOut ? 'timed out' : r.code !== null ? `exit code ${r.code}` : `signal ${r.signal}`;
  return `${end}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** A line a child in a namespace prints (test/netns/cases.ts): a case's result, or the summary. */
export interface CaseLine {
  readonly case?: string;
  readonly ok?: boolean;
  readonly error?: string;
  readonly done?: boolean;
  readonly passed?: number;
  readonly failed?: number;
  readonly [key: string]: unknown;
}

/** The JSON lines a child printed; a line that is not JSON fails the test, with the whole output. */
export function caseLines(r: NetnsResult): CaseLine[] {
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as CaseLine;
      } catch {
        throw new assert.AssertionError({ message: `not JSON: ${l}\n${describeResult(r)}` });
      }
    });
}

/** Every case the child reported passed, `passed` of them, and it exited 0. */
export function assertAllPassed(r: NetnsResult, passed: number): void {
  const lines = caseLines(r);
  for (const line of lines.filter((l) => l.case !== undefined)) {
    assert.equal(line.ok, true, `case ${line.case} failed: ${line.error}\n${describeResult(r)}`);
  }
  assert.equal(lines.find((l) => l.done)?.passed, passed, describeResult(r));
  assert.equal(r.code, 0, describeResult(r));
}

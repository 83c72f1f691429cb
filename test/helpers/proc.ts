// Child processes for the command-line tests: run to completion, or keep running and watch output.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './async.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** `aiolo` from the sources. */
export const AIOLO = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];

export interface Ran {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export function run(argv: readonly string[], timeout = 20_000): Promise<Ran> {
  const [cmd, ...args] = argv;
  return new Promise((resolve) => {
    execFile(cmd as string, args, { cwd: ROOT, encoding: 'buffer', timeout }, (err, stdout, stderr) => {
      const code =
        err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
      resolve({ code, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

/** A long-running process whose output is collected as it comes. */
export class Running {
  readonly child: ChildProcess;
  #out: Buffer[] = [];
  #err = '';
  #waiters: (() => void)[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** Runs `argv` in the repository's root, with `env` added to this process's environment. */
  constructor(argv: readonly string[], env: Readonly<Record<string, string>> = {}) {
    const [cmd, ...args] = argv;
    this.child = spawn(cmd as string, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.child.stdout?.on('data', (c: Buffer) => {
      this.#out.push(c);
      this.#wake();
    });
    this.child.stderr?.on('data', (c: Buffer) => {
      this.#err += c.toString('utf8');
      this.#wake();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.#wake());
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  get stdout(): Buffer {
    return Buffer.concat(this.#out);
  }

  get stderr(): string {
    return this.#err;
  }

  async until(predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
    await within(
      ms,
      what,
      (async () => {
        while (!predicate()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
      })(),
    );
  }

  /** The UDP or TCP port this process listens on (from `ss`, as it may have asked for port 0). */
  async port(proto: 'udp' | 'tcp'): Promise<number> {
    let found: number | undefined;
    await within(
      10_000,
      `${this.child.pid} to listen on ${proto}`,
      (async () => {
        while (found === undefined) {
          const out = execFileSync('ss', [proto === 'udp' ? '-ulpnH' : '-tlpnH'], { encoding: 'utf8' });
          const line = out.split('\n').find((l) => l.includes(`pid=${this.child.pid},`));
          const local = line?.split(/\s+/)[3]; // State Recv-Q Send-Q Local-Address:Port ...
          const m = local === undefined ? null : /:(\d+)$/.exec(local);
          if (m !== null) found = Number(m[1]);
          else await new Promise((r) => setTimeout(r, 20)); // polling ss: there is no event to wait for
        }
      })(),
    );
    return found as number;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return within(10_000, `the process to exit on ${signal}`, this.exited);
  }
}

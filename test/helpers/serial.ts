// Serial lines without hardware: socat links two pseudo-terminals (one for aiolo, one for the
// board), and test/peers/slip_peer.c, compiled at test time, plays a board speaking SLIP as
// CNMAT's SLIPEncodedSerial does. Locally a missing socat or gcc skips the tests, naming the Debian
// packages; under CI=true it fails them.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { within } from './async.js';
import { hex, unhex } from './hex.js';
import { onPath, type Peer } from './peers.js';

const SOURCE = fileURLToPath(new URL('../peers/slip_peer.c', import.meta.url));

export const SERIAL_PEER: Peer = {
  name: 'a serial line (socat) and the SLIP board peer (gcc)',
  command: 'socat',
  debianPackages: 'socat gcc libc6-dev',
  available: onPath('socat') && onPath('gcc'),
};

let built: string | undefined;

/** Compiles slip_peer.c (once, cached by its hash) and returns the binary's path. */
export function slipPeerBinary(): string {
  if (built !== undefined) return built;
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const binary = join(tmpdir(), `aiolo-slip-peer-${hash}`);
  if (!existsSync(binary)) {
    const partial = `${binary}.${process.pid}`;
    execFileSync('gcc', ['-O2', '-Wall', '-o', partial, SOURCE]);
    execFileSync('mv', [partial, binary]);
  }
  built = binary;
  return binary;
}

/**
 * Two linked pseudo-terminals at `aiolo` and `board` (symlinks made by socat), ready once socat
 * has said it is transferring data. `stop()` ends socat: both ptys go away, as when a board is
 * unplugged; starting another pair at the same paths is the board coming back.
 */
export class PtyPair {
  readonly aiolo: string;
  readonly board: string;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #exited: Promise<void>;

  private constructor(dir: string, child: ChildProcessWithoutNullStreams, exited: Promise<void>) {
    this.aiolo = join(dir, 'aiolo');
    this.board = join(dir, 'board');
    this.#child = child;
    this.#exited = exited;
  }

  static async start(dir: string): Promise<PtyPair> {
    const child = spawn('socat', [
      '-d',
      '-d',
      `pty,raw,echo=0,link=${join(dir, 'aiolo')}`,
      `pty,raw,echo=0,link=${join(dir, 'board')}`,
    ]);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdout.resume();
    let said = '';
    const ready = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        // socat prints each pty's name, then this, once both ends (and their links) exist
        if (said.includes('starting data transfer loop')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`socat exited (${code}): ${said}`)));
    });
    try {
      await within(5000, 'socat to link two ptys', ready);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return new PtyPair(dir, child, exited);
  }

  /** Ends socat (both ptys close, its links are removed); resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    await within(5000, 'socat to exit', this.#exited);
  }
}

/** What the board peer says: a packet received, or a line hangup. */
export type BoardLine = { readonly kind: 'recv'; readonly bytes: Uint8Array } | { readonly kind: 'hangup' };

/** The board: slip_peer on the board's end of a pty pair, driven over its stdin and stdout. */
export class Board {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: BoardLine[] = [];
  readonly #acks: (() => void)[] = [];
  #wake: (() => void) | undefined;
  readonly #exited: Promise<number | null>;
  #stderr = '';

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin.on('error', () => {}); // (a peer whose line hung up has exited: EPIPE)
    child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
  }

  /** Starts the peer on `device` (`echo`: it sends back every packet it receives). */
  static async start(device: string, echo = false): Promise<Board> {
    const child = spawn(slipPeerBinary(), [...(echo ? ['-e'] : []), device]);
    const board = new Board(child);
    const ready = new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      let first = true;
      lines.on('line', (line) => {
        if (first) {
          first = false;
          if (line === 'ready') resolve();
          else reject(new Error(`slip_peer: ${line}`));
          return;
        }
        board.#line(line);
      });
      child.once('exit', (code) => reject(new Error(`slip_peer exited (${code}): ${board.#stderr}`)));
    });
    try {
      await within(5000, 'slip_peer to open its end', ready);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return board;
  }

  #line(line: string): void {
    if (line === 'sent') {
      this.#acks.shift()?.();
      return;
    }
    if (line.startsWith('recv ')) this.#lines.push({ kind: 'recv', bytes: unhex(line.slice(5)) });
    else if (line === 'hangup') this.#lines.push({ kind: 'hangup' });
    else this.#lines.push({ kind: 'recv', bytes: new Uint8Array(0) }); // (a "bad" line: the test fails on it)
    this.#wake?.();
  }

  #command(line: string): Promise<void> {
    const acked = new Promise<void>((resolve) => this.#acks.push(resolve));
    this.#child.stdin.write(`${line}\n`);
    return within(5000, `slip_peer to do "${line.slice(0, 40)}"`, acked);
  }

  /** Sends one packet as CNMAT's SLIPEncodedSerial does (END, escaped bytes, END). */
  send(packet: Uint8Array): Promise<void> {
    return this.#command(`send ${hex(packet)}`);
  }

  /** Writes bytes as they are: garbage, or a frame cut short. */
  raw(bytes: Uint8Array): Promise<void> {
    return this.#command(`raw ${hex(bytes)}`);
  }

  /** The next thing the board saw (a packet, or its line hanging up), within `ms`. */
  async next(ms = 5000): Promise<BoardLine> {
    const deadline = Date.now() + ms;
    while (this.#lines.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for the board (stderr: ${this.#stderr})`);
      await within(
        left,
        'the board to receive a packet',
        new Promise<void>((resolve) => {
          this.#wake = resolve;
        }),
      ).finally(() => {
        this.#wake = undefined;
      });
    }
    return this.#lines.shift() as BoardLine;
  }

  /** The next packet the board received, as bytes. */
  async packet(ms = 5000): Promise<Uint8Array> {
    const line = await this.next(ms);
    if (line.kind !== 'recv') throw new Error(`the board's line hung up instead of a packet arriving`);
    return line.bytes;
  }

  /** Ends the peer; resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.stdin.end('quit\n');
      this.#child.kill('SIGTERM');
    }
    await within(5000, 'slip_peer to exit', this.#exited);
  }
}

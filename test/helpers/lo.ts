// liblo itself as a test peer: test/peers/lo_peer.c, compiled once per run against Debian's liblo,
// driven over stdin/stdout in an exact text form (see the C file's header).
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type Bundle,
  Char,
  INFINITUM,
  Message,
  Midi,
  type OscArg,
  OscSymbol,
  TimeTag,
  typespecString,
} from '../../src/index.js';
import { within } from './async.js';
import { onPath, type Peer } from './peers.js';

const SOURCE = fileURLToPath(new URL('../peers/lo_peer.c', import.meta.url));

function hasGccAndLiblo(): boolean {
  return onPath('gcc') && existsSync('/usr/include/lo/lo.h');
}

export const LO_PEER: Peer = {
  name: 'liblo C peer (gcc and liblo-dev)',
  command: 'gcc',
  debianPackages: 'gcc liblo-dev',
  available: hasGccAndLiblo(),
};

let built: string | undefined;

/** Compiles lo_peer.c (once, cached by its hash) and returns the binary's path. */
export function loPeerBinary(): string {
  if (built !== undefined) return built;
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const binary = join(tmpdir(), `aiolo-lo-peer-${hash}`);
  if (!existsSync(binary)) {
    const partial = `${binary}.${process.pid}`;
    execFileSync('gcc', ['-O2', '-Wall', '-o', partial, SOURCE, '-llo']);
    execFileSync('mv', [partial, binary]);
  }
  built = binary;
  return binary;
}

// ---- the exact text form of values

const hex = (bytes: Uint8Array): string => `x${Buffer.from(bytes).toString('hex')}`;
const unhex = (token: string): Buffer => Buffer.from(token.slice(1), 'hex');
const f32 = new Float32Array(1);
const f32bits = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const f64bits = new BigUint64Array(f64.buffer);

export function loToken(tag: string, value: OscArg): string {
  switch (tag) {
    case 'i':
      return String(value);
    case 'h':
      return String(value);
    case 'f':
      f32[0] = value as number;
      return (f32bits[0] as number).toString(16).padStart(8, '0');
    case 'd':
      f64[0] = value as number;
      return (f64bits[0] as bigint).toString(16).padStart(16, '0');
    case 's':
      return hex(Buffer.from(value as string));
    case 'S':
      return hex(Buffer.from((value as OscSymbol).value));
    case 'c':
      return String((value as Char).code);
    case 'b':
      return hex(value as Uint8Array);
    case 'm':
      return hex((value as Midi).toBytes()).slice(1);
    case 't':
      return String(value as TimeTag);
    default:
      return '-';
  }
}

export function fromLoToken(tag: string, token: string): OscArg {
  switch (tag) {
    case 'i':
      return Number(token);
    case 'h':
      return BigInt(token);
    case 'f':
      f32bits[0] = Number.parseInt(token, 16);
      return f32[0] as number;
    case 'd':
      f64bits[0] = BigInt(`0x${token}`);
      return f64[0] as number;
    case 's':
      return unhex(token).toString('utf8');
    case 'S':
      return new OscSymbol(unhex(token).toString('utf8'));
    case 'c':
      return new Char(Number(token));
    case 'b':
      return new Uint8Array(unhex(token));
    case 'm': {
      const b = Buffer.from(token, 'hex');
      return new Midi(b[0] as number, b[1] as number, b[2] as number, b[3] as number);
    }
    case 't': {
      const [s, f] = token.split('.');
      return new TimeTag(Number.parseInt(s as string, 16), Number.parseInt(f as string, 16));
    }
    case 'T':
      return true;
    case 'F':
      return false;
    case 'N':
      return null;
    default:
      return INFINITUM;
  }
}

/** `msg PATH TYPES ARGS...` for lo_peer send. */
export function loMessageCommand(m: Message): string {
  const tokens = m.typetags.split('').map((t, i) => loToken(t, m.args[i] as OscArg));
  return ['msg', hex(Buffer.from(m.path)), m.typetags || '-', ...tokens].join(' ');
}

/** One message liblo dispatched, as lo_peer printed it. */
export interface LoMessage {
  readonly timetag: TimeTag;
  readonly path: string;
  readonly message: Message;
  readonly source: string;
  /** When liblo dispatched it (lo_timetag_now). */
  readonly at: TimeTag;
}

export function parseMsgLine(line: string): LoMessage {
  const parts = line.split(' ');
  const [, tt, pathHex, types = '-'] = parts;
  const src = parts.indexOf('SRC');
  const tags = types === '-' ? '' : types;
  const args = parts.slice(4, src).map((tok, i) => fromLoToken(tags[i] as string, tok));
  const path = unhex(pathHex as string).toString('utf8');
  typespecString(tags);
  const timetag = (token: string): TimeTag => {
    const [s, f] = token.split('.');
    return new TimeTag(Number.parseInt(s as string, 16), Number.parseInt(f as string, 16));
  };
  return {
    timetag: timetag(tt as string),
    path,
    message: Message.typed(path, tags, ...(args as never[])),
    source: parts[src + 1] as string,
    at: timetag(parts[src + 3] as string),
  };
}

/** Lines from a child's stdout, handed out to waiters in order. */
class Lines {
  readonly all: string[] = [];
  #waiters: (() => void)[] = [];
  constructor(child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.all.push(line);
      for (const w of this.#waiters.splice(0)) w();
    });
    child.on('exit', () => {
      for (const w of this.#waiters.splice(0)) w();
    });
  }
  async waitFor(predicate: (lines: string[]) => boolean, what: string, ms = 5000): Promise<void> {
    await within(
      ms,
      what,
      (async () => {
        while (!predicate(this.all)) await new Promise<void>((resolve) => this.#waiters.push(resolve));
      })(),
    );
  }
}

/** `lo_peer recv`: a liblo server printing what it dispatches. */
export class LoReceiver implements AsyncDisposable {
  readonly child: ChildProcessWithoutNullStreams;
  readonly #lines: Lines;
  port = 0;
  url = '';

  private constructor(args: string[]) {
    this.child = spawn(loPeerBinary(), ['recv', ...args]);
    this.child.stderr.resume();
    this.#lines = new Lines(this.child);
  }

  /** `spec`: 'udp', 'tcp' or a liblo server URL; `flags`: -r (reply), -g, -m PATH:TYPES. */
  static async start(spec: string, ...flags: string[]): Promise<LoReceiver> {
    const r = new LoReceiver([spec, ...flags]);
    await r.#lines.waitFor((l) => l.some((x) => x.startsWith('READY')), 'liblo to start');
    const ready = r.#lines.all.find((x) => x.startsWith('READY')) as string;
    const [, port, url] = ready.split(' ');
    r.port = Number(port);
    r.url = url as string;
    return r;
  }

  get messages(): LoMessage[] {
    return this.#lines.all.filter((l) => l.startsWith('MSG ')).map(parseMsgLine);
  }

  get errors(): number[] {
    return this.#lines.all.filter((l) => l.startsWith('ERR ')).map((l) => Number(l.split(' ')[1]));
  }

  /** Waits until what liblo dispatched satisfies `predicate`. */
  async waitUntil(predicate: (messages: LoMessage[]) => boolean, what: string, ms = 5000): Promise<LoMessage[]> {
    await this.#lines.waitFor(() => predicate(this.messages), what, ms);
    return this.messages;
  }

  /** Waits until liblo has dispatched `n` messages (and reported `errors` errors). */
  async waitFor(n: number, errors = 0, ms = 5000): Promise<LoMessage[]> {
    await this.#lines.waitFor(
      (l) =>
        l.filter((x) => x.startsWith('MSG ')).length >= n && l.filter((x) => x.startsWith('ERR ')).length >= errors,
      `liblo to dispatch ${n} message(s) and report ${errors} error(s)`,
      ms,
    );
    return this.messages;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
  }
}

/** `lo_peer send`: liblo building and sending messages and bundles. */
export class LoSender implements AsyncDisposable {
  readonly child: ChildProcessWithoutNullStreams;
  readonly #lines: Lines;
  #answered = 0;

  constructor() {
    this.child = spawn(loPeerBinary(), ['send']);
    this.child.stderr.resume();
    this.#lines = new Lines(this.child);
  }

  /** Sends one command and returns lo_peer's answer to it. */
  async command(line: string): Promise<string> {
    this.child.stdin.write(`${line}\n`);
    const index = this.#answered++;
    const answers = () => this.#lines.all.filter((l) => !l.startsWith('MSG ') && !l.startsWith('ERR '));
    await this.#lines.waitFor(
      (_l) => answers().length > index,
      `lo_peer to answer ${JSON.stringify(line.slice(0, 60))}`,
    );
    const answer = answers()[index] as string;
    if (answer.startsWith('FAIL')) throw new Error(`lo_peer: ${answer} for ${line.slice(0, 80)}`);
    return answer;
  }

  /** Has liblo build a message or a bundle (nested bundles too) and send it. */
  async packet(p: Message | Bundle): Promise<void> {
    if (p instanceof Message) {
      await this.command(loMessageCommand(p));
      return;
    }
    await this.command(`bundle ${p.timetag.seconds.toString(16)} ${p.timetag.fraction.toString(16)}`);
    for (const e of p.elements) await this.packet(e);
    await this.command('end');
  }

  /** Replies our own server received (after `server udp|tcp`). */
  get messages(): LoMessage[] {
    return this.#lines.all.filter((l) => l.startsWith('MSG ')).map(parseMsgLine);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.stdin.end('quit\n');
      await exited;
    }
  }
}

/** A received message (an `Incoming` record) as a `Message`, to compare with `equals`. */
export function asMessage(m: {
  readonly path: string;
  readonly typetags: string;
  readonly args: readonly OscArg[];
}): Message {
  return Message.typed(m.path, m.typetags, ...(m.args as never[]));
}

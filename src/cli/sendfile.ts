// aiolo sendfile: liblo 0.31's oscsendfile — its command line, the way it reads oscdump's text
// (sendfile-lines.ts), its bundling and timing, its messages and exit codes.
import { open } from 'node:fs/promises';
import { Address, Bundle, Message, OscConfigError, TimeTag } from '../index.js';
import { strtofloat } from './cnum.js';
import type { Io } from './io.js';
import { libloReason } from './liblo-errors.js';
import { Fgets, Refused, SendfileReader } from './sendfile-lines.js';

export const SENDFILE_USAGE = `Usage: aiolo sendfile hostname port file [speed]
or     aiolo sendfile url file [speed]
Send OpenSound Control messages from a file, as liblo's oscsendfile does.

url   : a liblo URL: UDP "osc.udp://localhost:9000", multicast "osc.udp://224.0.1.9:9000",
        TCP "osc.tcp://localhost:9000", Unix "osc.unix:///tmp/x.sock"
file  : oscdump's (or aiolo dump's) text, one message per line: [SEC.FRAC] path types values...
        Lines with the same timetag go in one bundle, sent at that time counted from the first
        timetag in the file, which is now; lines without one go in immediate bundles.
        Values are split on spaces (a quoted string keeps only its first word); types i h f d
        s S (sent as s) c m T F N I; a line with b or t, or a value that does not parse, stops it.
speed : a speed multiplier (2 plays twice as fast)

Example
$ aiolo sendfile localhost 7777 myfile.txt 2.5
`;

/** liblo's words for a failed send; a URL liblo cannot resolve a port of is its getaddrinfo error. */
function sendfileReason(err: unknown): string {
  return err instanceof OscConfigError ? 'Servname not supported for ai_socktype' : libloReason(err);
}

type Target = { readonly url: string } | { readonly host: string; readonly port: string };

/** Where liblo sends for a port: a decimal one is taken modulo 2^16, as getaddrinfo does. */
function libloPort(port: string): string {
  return /^[0-9]+$/.test(port) ? String(Number(BigInt(port) % 65536n)) : port;
}

/** Sends bundles to one target; opened at the first send, where liblo reports what is wrong. */
class Sender {
  #address: Address | undefined;
  constructor(readonly target: Target) {}
  async send(bundle: Bundle): Promise<string | undefined> {
    try {
      this.#address ??=
        'url' in this.target
          ? new Address({ url: this.target.url })
          : new Address({ host: this.target.host, port: libloPort(this.target.port) });
      await this.#address.bundle(bundle);
      return undefined;
    } catch (err) {
      return sendfileReason(err);
    }
  }
  async close(): Promise<void> {
    await this.#address?.close();
  }
}

/** Resolves once the clock has reached `tt` as oscsendfile computes the wait (never before). */
async function waitFor(tt: TimeTag): Promise<void> {
  for (;;) {
    const now = TimeTag.now();
    const delay = (tt.fraction - now.fraction) * 2 ** -32 + (tt.seconds - now.seconds);
    if (!(delay > 0)) return;
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(delay * 1000))));
  }
}

/** Runs `aiolo sendfile`; resolves with the exit code. */
export async function sendfile(argv: readonly string[], io: Io): Promise<number> {
  const fail = (text: string): number => {
    io.stderr.write(text);
    return 1;
  };
  if (argv[0] === '--help') {
    io.stdout.write(SENDFILE_USAGE);
    return 0;
  }
  const first = argv[0];
  if (first === undefined) {
    io.stdout.write(SENDFILE_USAGE);
    return 1;
  }
  let target: Target;
  let fileAt: number;
  if (first.includes('://')) {
    // liblo refuses a URL of a protocol it lacks now; anything else it finds at the first send
    const scheme = /^osc\.([^:/]*):\/\//.exec(first)?.[1];
    if (scheme === undefined || !['udp', 'tcp', 'unix'].includes(scheme)) {
      return fail(`liblo: protocol '${scheme ?? '(null)'}' not supported by this version\nFailed to open ${first}\n`);
    }
    target = { url: first };
    fileAt = 1;
  } else {
    const port = argv[1];
    if (port === undefined) return fail('No port number is given.\n');
    target = { host: first, port };
    fileAt = 2;
  }
  const file = argv[fileAt];
  if (file === undefined) return fail('No path given.\n');
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch {
    return fail(`Failed to open file \`${file}' for reading.\n`);
  }
  const speedArg = argv[fileAt + 1];
  // strtod, unchecked: "abc" is 0, and 1/0 is infinity (every timetag at once)
  const speed = speedArg === undefined ? 1 : strtofloat(speedArg, 'double').value;
  const sender = new Sender(target);
  try {
    const failed = await play(handle, new SendfileReader(TimeTag.now(), 1 / speed), sender, io);
    return failed === undefined ? 0 : fail(`An error occurred: ${failed}\n`);
  } finally {
    await handle.close();
    await sender.close();
  }
}

/** Reads and sends the file; resolves with liblo's words when a send (but the last) failed. */
async function play(
  handle: Awaited<ReturnType<typeof open>>,
  reader: SendfileReader,
  sender: Sender,
  io: Io,
): Promise<string | undefined> {
  const lines = new Fgets();
  const chunk = Buffer.alloc(65536);
  let bundle: Bundle | undefined;
  for (;;) {
    let line = lines.next();
    while (line === null) {
      let n = 0;
      try {
        n = (await handle.read(chunk, 0, chunk.length, null)).bytesRead;
      } catch {
        // a read error (a directory, say) ends the input, as fgets returning NULL
      }
      if (n === 0) lines.end();
      else lines.push(Buffer.from(chunk.subarray(0, n)));
      line = lines.next();
    }
    if (line === undefined) break;
    let parsed: ReturnType<SendfileReader['line']>;
    try {
      parsed = reader.line(line);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      // oscsendfile stops here, the pending bundle unsent, and exits with 0
      io.stderr.write(Buffer.concat([err.lines, Buffer.from('Failed to create OSC message.\n')]));
      return undefined;
    }
    if (parsed === undefined) continue;
    const message = Message.typed(parsed.path, parsed.typetags, ...(parsed.args as never[]));
    if (bundle !== undefined && reader.sameAsPending()) {
      bundle.add(message);
      continue;
    }
    let failed: string | undefined;
    if (bundle !== undefined) {
      await waitFor(reader.pending);
      failed = await sender.send(bundle);
    }
    bundle = new Bundle(message, parsed.timetag);
    reader.started();
    if (failed !== undefined) return failed;
  }
  if (bundle !== undefined) {
    await waitFor(reader.pending);
    await sender.send(bundle); // the last send's result is not looked at
  }
  return undefined;
}

// aiolo send: oscsend 0.31's command line, value parsing, messages and exit codes, plus what
// oscsend lacks: b (hex) and t (%08x.%08x) arguments, --slip for TCP, and bundles (--at, --delay).
import { writeFile } from 'node:fs/promises';
import {
  Address,
  Bundle,
  Char,
  encode,
  INFINITUM,
  Message,
  Midi,
  type OscArg,
  OscConfigError,
  OscSymbol,
  TimeTag,
} from '../index.js';
import { INT_MAX, INT_MIN, LLONG_MAX, LLONG_MIN, scanHex8, strtofloat, strtoll } from './cnum.js';
import { flush, type Io, write } from './io.js';
import { libloReason } from './liblo-errors.js';

export const SEND_USAGE = `Usage: aiolo send [options] hostname port address types values...
or     aiolo send [options] url address types values...
Send an OpenSound Control message, as liblo's oscsend does.

url     : a liblo URL: UDP "osc.udp://localhost:9000", multicast "osc.udp://224.0.1.9:9000",
          TCP "osc.tcp://localhost:9000", Unix "osc.unix:///tmp/x.sock",
          serial "osc.serial:///dev/ttyACM0?baud=115200" (SLIP; a board that resets when
          the port opens may miss it),
          file "file:///tmp/dump.osc" (writes the packet), or - (writes it to stdout)
address : the OSC address the message is sent to
types   : the types of the values that follow
          i - 32bit integer          h - 64bit integer
          f - 32bit float            d - 64bit (double) float
          s - string                 S - symbol
          c - char (the first byte)  m - 4 byte midi packet (8 hex digits)
          b - blob (hex digits)      t - timetag (%08x.%08x, seconds and fraction since 1900)
          T F N I - true, false, nil, infinitum (no value)
values  : space separated values

options : --slip           TCP: SLIP framing instead of a length prefix
          --at TIMETAG     send in a bundle for that time (%08x.%08x, or "now")
          --delay SECONDS  send in a bundle for that many seconds from now

Example
$ aiolo send localhost 7777 /sample/address iTfs 1 3.14 hello
`;

/** A command line oscsend refuses: the message is printed, then "Failed to create OSC message.". */
class Refused extends Error {}

function fail(io: Io, ...lines: string[]): number {
  for (const l of lines) io.stderr.write(`${l}\n`);
  return 1;
}

/** The typetags that take a value from the command line (oscsend's list). */
const TAKES_VALUE = 'ifsbhtdScm';
/** The typetags that stand for their value and take none from the command line. */
const NO_VALUE = new Map<string, OscArg>([
  ['T', true],
  ['F', false],
  ['N', null],
  ['I', INFINITUM],
]);

/** C's errno as oscsend's checks see it: set by one strtol/strtod, never reset. */
interface Errno {
  erange: boolean;
}

/** oscsend's create_message, value for value. C's errno is never reset there, so an ERANGE
 * from one argument still shows in the checks (and perror) of the arguments after it. */
function oscsendMessage(path: string, types: string | undefined, values: readonly string[]): Message {
  const errno: Errno = { erange: false };
  const args: OscArg[] = [];
  const tags = types ?? '';
  let v = 0;
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i] as string;
    if (NO_VALUE.has(tag)) {
      args.push(NO_VALUE.get(tag) as OscArg);
      continue;
    }
    if (!TAKES_VALUE.includes(tag)) throw new Refused(`Type '${tag}' is not supported or invalid.`);
    const given = values[v];
    if (given === undefined) throw new Refused(`Value #${i + 1} is not given.`);
    args.push(parseValue(tag, given, errno));
    v++;
  }
  return Message.typed(path, tags, ...(args as never[]));
}

/** One command-line value for a typetag of {@link TAKES_VALUE}, as oscsend reads it. */
function parseValue(tag: string, arg: string, errno: Errno): OscArg {
  switch (tag) {
    case 'i':
    case 'h': {
      const r = strtoll(arg);
      errno.erange ||= r.erange;
      if (!r.whole) throw new Refused(`An invalid value was given: '${arg}'`);
      // strtoll clamps to the int64 limits on ERANGE: oscsend takes a limit with errno set as overflow
      const limit = r.value === LLONG_MAX || r.value === LLONG_MIN;
      if ((limit && errno.erange) || (tag === 'i' && (r.value > INT_MAX || r.value < INT_MIN))) {
        throw new Refused(`Value out of range: '${arg}'`);
      }
      return tag === 'i' ? Number(r.value) : r.value;
    }
    case 'f':
    case 'd': {
      const r = strtofloat(arg, tag === 'f' ? 'float' : 'double');
      errno.erange ||= r.erange;
      // oscsend calls perror() first for d, which prints errno's text
      const perror = tag === 'd' ? `${errno.erange ? 'Numerical result out of range' : 'Success'}\n` : '';
      if (!r.whole) throw new Refused(`${perror}An invalid value was given: '${arg}'`);
      return r.value;
    }
    case 's':
      return arg;
    case 'S':
      return new OscSymbol(arg);
    case 'c':
      return new Char(Buffer.from(arg, 'utf8')[0] ?? 0);
    case 'm': {
      const u = scanHex8(arg);
      if (u === undefined) throw new Refused(`An invalid hexadecimal value was given: '${arg}'`);
      return new Midi(u >>> 24, (u >>> 16) & 0xff, (u >>> 8) & 0xff, u & 0xff);
    }
    case 'b': {
      const hex = arg.replace(/^0x/i, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Refused(`An invalid hexadecimal value was given: '${arg}'`);
      return new Uint8Array(Buffer.from(hex, 'hex'));
    }
    case 't': {
      const tt = parseTimetag(arg);
      if (tt === undefined) throw new Refused(`An invalid timetag was given: '${arg}'`);
      return tt;
    }
    default:
      throw new Refused(`Type '${tag}' is not supported or invalid.`);
  }
}

function parseTimetag(text: string): TimeTag | undefined {
  if (text === 'now') return TimeTag.now();
  const m = /^([0-9a-fA-F]{1,8})\.([0-9a-fA-F]{1,8})$/.exec(text);
  return m === null ? undefined : new TimeTag(Number.parseInt(m[1] as string, 16), Number.parseInt(m[2] as string, 16));
}

type Target =
  | { readonly kind: 'stdout' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'host'; readonly host: string; readonly port: string };

interface SendOptions {
  /** Where the positional arguments start. */
  readonly next: number;
  readonly slip: boolean;
  readonly at: TimeTag | undefined;
}

/** aiolo's options before the positional arguments; an exit code when there is nothing to send. */
function parseOptions(argv: readonly string[], io: Io): SendOptions | number {
  let i = 0;
  let slip = false;
  let at: TimeTag | undefined;
  for (; i < argv.length && (argv[i] as string).startsWith('--'); i++) {
    const a = argv[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (a === '--help') {
      io.stdout.write(SEND_USAGE);
      return 0;
    }
    if (a === '--slip') {
      slip = true;
    } else if (a === '--at' || a === '--delay') {
      const value = argv[i + 1];
      if (value === undefined) return fail(io, `${a} needs a value`);
      i++;
      const delay = /^\s*$/.test(value) ? Number.NaN : Number(value);
      // a delay within a day (86400 s) either way; an absolute timetag as %08x.%08x or "now"
      at = a === '--at' ? parseTimetag(value) : Math.abs(delay) <= 86400 ? TimeTag.now().add(delay) : undefined;
      if (at === undefined) return fail(io, `An invalid ${a.slice(2)} was given: '${value}'`);
    } else {
      return fail(io, `Unknown option \`${a}'`);
    }
  }
  return { next: i, slip, at };
}

/**
 * The target, as oscsend reads it, and where the path is among `rest`; the lines oscsend prints
 * when the target is refused. Like liblo, nothing is opened before the message is made.
 */
function parseTarget(rest: readonly string[]): { target: Target; pathAt: number } | string[] {
  const first = rest[0] as string;
  if (first.includes('://')) {
    if (first.startsWith('file://') && first.length > 'file://'.length) {
      return { target: { kind: 'file', path: first.slice('file://'.length) }, pathAt: 1 };
    }
    const scheme = /^osc\.([^:/]*):\/\//.exec(first)?.[1];
    if (scheme === undefined || !['udp', 'tcp', 'unix', 'serial'].includes(scheme)) {
      return [`liblo: protocol '${scheme ?? '(null)'}' not supported by this version`, `Failed to open ${first}`];
    }
    return { target: { kind: 'url', url: first }, pathAt: 1 };
  }
  if (first === '-') return { target: { kind: 'stdout' }, pathAt: 1 };
  if (rest[1] === undefined) return ['No port number is given.'];
  return { target: { kind: 'host', host: first, port: rest[1] }, pathAt: 2 };
}

/**
 * An Address for a URL or host target, or liblo's words for why there is none: getaddrinfo's
 * for an empty host, and for what Address refuses (every such refusal of a URL or a host and port
 * is about the port or names it: getaddrinfo's "Servname" words).
 */
function openAddress(target: Target & { kind: 'url' | 'host' }, slip: boolean): Address | string {
  if (target.kind === 'host' && target.host === '') return 'Name or service not known';
  try {
    return target.kind === 'url'
      ? new Address({ url: target.url }, { slip })
      : new Address({ host: target.host, port: target.port });
  } catch (err) {
    return err instanceof OscConfigError ? 'Servname not supported for ai_socktype' : 'Invalid argument';
  }
}

/** Writes or sends the packet; resolves with the exit code. */
async function deliver(packet: Message | Bundle, target: Target, slip: boolean, io: Io): Promise<number> {
  if (target.kind === 'stdout') {
    await write(io.stdout, encode(packet));
    await flush(io.stdout);
    return 0;
  }
  if (target.kind === 'file') {
    try {
      await writeFile(target.path, encode(packet));
      return 0;
    } catch {
      return fail(io, `An error occurred: Could not open file for writing OSC message: '${target.path}'`);
    }
  }
  const address = openAddress(target, slip);
  if (typeof address === 'string') return fail(io, `An error occurred: ${address}`);
  try {
    await (packet instanceof Bundle ? address.bundle(packet) : address.message(packet));
    return 0;
  } catch (err) {
    return fail(io, `An error occurred: ${libloReason(err)}`);
  } finally {
    await address.close();
  }
}

/** Runs `aiolo send`; resolves with the exit code. */
export async function send(argv: readonly string[], io: Io): Promise<number> {
  const options = parseOptions(argv, io);
  if (typeof options === 'number') return options;
  const rest = argv.slice(options.next);
  if (rest.length < 2) {
    io.stdout.write(SEND_USAGE);
    return 1;
  }
  const where = parseTarget(rest);
  if (Array.isArray(where)) return fail(io, ...where);
  const path = rest[where.pathAt];
  if (path === undefined) return fail(io, 'No path is given.');
  let message: Message;
  try {
    message = oscsendMessage(path, rest[where.pathAt + 1], rest.slice(where.pathAt + 2));
  } catch (err) {
    return fail(io, (err as Error).message, 'Failed to create OSC message.');
  }
  return deliver(options.at === undefined ? message : new Bundle(message, options.at), where.target, options.slip, io);
}

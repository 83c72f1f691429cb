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
  OscSymbol,
  SendError,
  TimeTag,
} from '../index.js';
import { scanHex8, strtofloat, strtoll } from './cnum.js';
import { flush, type Io, write } from './io.js';

export const SEND_USAGE = `Usage: aiolo send [options] hostname port address types values...
or     aiolo send [options] url address types values...
Send an OpenSound Control message, as liblo's oscsend does.

url     : a liblo URL: UDP "osc.udp://localhost:9000", multicast "osc.udp://224.0.1.9:9000",
          TCP "osc.tcp://localhost:9000", Unix "osc.unix:///tmp/x.sock",
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

class Refused extends Error {}

function fail(io: Io, ...lines: string[]): number {
  for (const l of lines) io.stderr.write(`${l}\n`);
  return 1;
}

/** oscsend's create_message, value for value. C's errno is never reset there, so an ERANGE
 * from one argument still shows in the checks (and perror) of the arguments after it. */
function createMessage(path: string, types: string | undefined, values: readonly string[]): Message {
  let erange = false;
  const args: OscArg[] = [];
  const tags = types ?? '';
  let v = 0;
  const needs = 'ifsbhtdScm';
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i] as string;
    let arg = '';
    if (needs.includes(tag)) {
      const given = values[v];
      if (given === undefined) throw new Refused(`Value #${i + 1} is not given.`);
      arg = given;
    }
    switch (tag) {
      case 'i':
      case 'h': {
        const r = strtoll(arg);
        erange ||= r.erange;
        if (!r.whole) throw new Refused(`An invalid value was given: '${arg}'`);
        const limit = r.value === 2n ** 63n - 1n || r.value === -(2n ** 63n);
        if ((limit && erange) || (tag === 'i' && (r.value > 2147483647n || r.value < -2147483648n))) {
          throw new Refused(`Value out of range: '${arg}'`);
        }
        args.push(tag === 'i' ? Number(r.value) : r.value);
        v++;
        break;
      }
      case 'f':
      case 'd': {
        const r = strtofloat(arg, tag === 'f' ? 'float' : 'double');
        erange ||= r.erange;
        // oscsend calls perror() first for d, which prints errno's text
        const perror = tag === 'd' ? `${erange ? 'Numerical result out of range' : 'Success'}\n` : '';
        if (!r.whole) throw new Refused(`${perror}An invalid value was given: '${arg}'`);
        args.push(r.value);
        v++;
        break;
      }
      case 's':
        args.push(arg);
        v++;
        break;
      case 'S':
        args.push(new OscSymbol(arg));
        v++;
        break;
      case 'c':
        args.push(new Char(Buffer.from(arg, 'utf8')[0] ?? 0));
        v++;
        break;
      case 'm': {
        const u = scanHex8(arg);
        if (u === undefined) throw new Refused(`An invalid hexadecimal value was given: '${arg}'`);
        args.push(new Midi(u >>> 24, (u >>> 16) & 0xff, (u >>> 8) & 0xff, u & 0xff));
        v++;
        break;
      }
      case 'b': {
        const hex = arg.replace(/^0x/i, '');
        if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Refused(`An invalid hexadecimal value was given: '${arg}'`);
        args.push(new Uint8Array(Buffer.from(hex, 'hex')));
        v++;
        break;
      }
      case 't': {
        const tt = parseTimetag(arg);
        if (tt === undefined) throw new Refused(`An invalid timetag was given: '${arg}'`);
        args.push(tt);
        v++;
        break;
      }
      case 'T':
        args.push(true);
        break;
      case 'F':
        args.push(false);
        break;
      case 'N':
        args.push(null);
        break;
      case 'I':
        args.push(INFINITUM);
        break;
      default:
        throw new Refused(`Type '${tag}' is not supported or invalid.`);
    }
  }
  return Message.typed(path, tags, ...(args as never[]));
}

function parseTimetag(text: string): TimeTag | undefined {
  if (text === 'now') return TimeTag.now();
  const m = /^([0-9a-fA-F]{1,8})\.([0-9a-fA-F]{1,8})$/.exec(text);
  return m === null ? undefined : new TimeTag(Number.parseInt(m[1] as string, 16), Number.parseInt(m[2] as string, 16));
}

// liblo's words (strerror, gai_strerror, its own) for what can go wrong when sending
function libloReason(err: unknown): string {
  if (err instanceof SendError && err.code === 'ERR_OSC_PACKET_TOO_LARGE') {
    return 'Attempted to send message in excess of maximum message size';
  }
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const known: Record<string, string> = {
    ECONNREFUSED: 'Connection refused',
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    ENOTFOUND: 'Name or service not known',
    EAI_AGAIN: 'Temporary failure in name resolution',
    ENETUNREACH: 'Network is unreachable',
    EHOSTUNREACH: 'No route to host',
    ECONNRESET: 'Connection reset by peer',
    EPIPE: 'Broken pipe',
  };
  if (known[code] !== undefined) return known[code];
  if (err instanceof SendError && /no such socket/.test(err.message)) return 'No such file or directory';
  if (err instanceof SendError && /nobody is listening/.test(err.message)) return 'Connection refused';
  return (err as Error).message;
}

type Target =
  | { readonly kind: 'stdout' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'host'; readonly host: string; readonly port: string };

/** Runs `aiolo send`; resolves with the exit code. */
export async function send(argv: readonly string[], io: Io): Promise<number> {
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
      // a delay within a day either way; an absolute timetag as %08x.%08x or "now"
      at = a === '--at' ? parseTimetag(value) : Math.abs(delay) <= 86400 ? TimeTag.now().add(delay) : undefined;
      if (at === undefined) return fail(io, `An invalid ${a.slice(2)} was given: '${value}'`);
    } else {
      return fail(io, `Unknown option \`${a}'`);
    }
  }
  const rest = argv.slice(i);
  if (rest.length < 2) {
    io.stdout.write(SEND_USAGE);
    return 1;
  }
  // the target, as oscsend reads it; like liblo, nothing is opened before the message is made
  const first = rest[0] as string;
  let target: Target;
  let p = 1;
  if (first.includes('://')) {
    if (first.startsWith('file://') && first.length > 7) {
      target = { kind: 'file', path: first.slice(7) };
    } else {
      const scheme = /^osc\.([^:/]*):\/\//.exec(first)?.[1];
      if (scheme === undefined || !['udp', 'tcp', 'unix'].includes(scheme)) {
        return fail(
          io,
          `liblo: protocol '${scheme ?? '(null)'}' not supported by this version`,
          `Failed to open ${first}`,
        );
      }
      target = { kind: 'url', url: first };
    }
  } else if (first === '-') {
    target = { kind: 'stdout' };
  } else if (rest[1] === undefined) {
    return fail(io, 'No port number is given.');
  } else {
    target = { kind: 'host', host: first, port: rest[1] };
    p = 2;
  }
  const path = rest[p];
  if (path === undefined) return fail(io, 'No path is given.');
  let message: Message;
  try {
    message = createMessage(path, rest[p + 1], rest.slice(p + 2));
  } catch (err) {
    return fail(io, (err as Error).message, 'Failed to create OSC message.');
  }
  const packet = at === undefined ? message : new Bundle(message, at);
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
  let address: Address;
  try {
    if (target.kind === 'host' && target.host === '') throw new Error('Name or service not known');
    address =
      target.kind === 'url'
        ? new Address({ url: target.url }, { slip })
        : new Address({ host: target.host, port: target.port });
  } catch (err) {
    const why = /port/.test((err as Error).message) ? 'Servname not supported for ai_socktype' : 'Invalid argument';
    return fail(
      io,
      `An error occurred: ${(err as Error).message === 'Name or service not known' ? 'Name or service not known' : why}`,
    );
  }
  try {
    await (packet instanceof Bundle ? address.bundle(packet) : address.message(packet));
    return 0;
  } catch (err) {
    return fail(io, `An error occurred: ${libloReason(err)}`);
  } finally {
    await address.close();
  }
}

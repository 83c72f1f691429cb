// aiolo send: oscsend 0.31's command line, value parsing, messages and exit codes, plus what
// oscsend lacks: b (hex) and t (%08x.%08x) arguments, --slip for TCP, and bundles (--at, --delay).
import { writeFile } from 'node:fs/promises';
import { Address, Bundle, Char, encode, INFINITUM, Message, Midi, type OscArg, OscSymbol, TimeTag } from '../index.js';
import { scanHex8, strtod, strtoll } from './cnum.js';
import { flush, type Io } from './io.js';

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

/** oscsend's create_message, value for value. */
function createMessage(path: string, types: string | undefined, values: readonly string[]): Message {
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
        if (!r.whole) throw new Refused(`An invalid value was given: '${arg}'`);
        if (r.erange || (tag === 'i' && (r.value > 2147483647n || r.value < -2147483648n))) {
          throw new Refused(`Value out of range: '${arg}'`);
        }
        args.push(tag === 'i' ? Number(r.value) : r.value);
        v++;
        break;
      }
      case 'f':
      case 'd': {
        const r = strtod(arg);
        // oscsend calls perror() first for d, which prints errno's text: "Success"
        if (!r.whole) throw new Refused(`${tag === 'd' ? 'Success\n' : ''}An invalid value was given: '${arg}'`);
        args.push(tag === 'f' ? Math.fround(r.value) : r.value);
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

/** Runs `aiolo send`; resolves with the exit code. */
export async function send(argv: readonly string[], io: Io): Promise<number> {
  let i = 0;
  let slip = false;
  let at: TimeTag | undefined;
  for (; i < argv.length && (argv[i] as string).startsWith('--'); i++) {
    const a = argv[i] as string;
    if (a === '--help') {
      io.stdout.write(SEND_USAGE);
      return 0;
    }
    if (a === '--slip') slip = true;
    else if (a === '--at' || a === '--delay') {
      const value = argv[++i] ?? '';
      const delay = Number(value);
      at =
        a === '--at'
          ? parseTimetag(value)
          : Number.isFinite(delay) && value !== ''
            ? TimeTag.now().add(delay)
            : undefined;
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
  const target = rest[0] as string;
  let address: Address | undefined;
  let file: string | undefined;
  let toStdout = false;
  let p = 1;
  if (target.includes('://')) {
    if (target.startsWith('file://') && target.length > 7) {
      file = target.slice(7);
    } else {
      try {
        address = new Address({ url: target }, { slip });
      } catch {
        return fail(io, `Failed to open ${target}`);
      }
    }
  } else if (target === '-') {
    toStdout = true;
  } else if (rest[1] === undefined) {
    return fail(io, 'No port number is given.');
  } else {
    try {
      address = new Address({ host: target, port: rest[1] });
    } catch {
      return fail(io, `Failed to open ${target}:${rest[1]}`);
    }
    p = 2;
  }
  const path = rest[p];
  if (path === undefined) return fail(io, 'No path is given.');
  let message: Message;
  try {
    message = createMessage(path, rest[p + 1], rest.slice(p + 2));
  } catch (err) {
    if (err instanceof Refused) return fail(io, err.message, 'Failed to create OSC message.');
    return fail(io, `${(err as Error).message}`, 'Failed to create OSC message.');
  }
  const packet = at === undefined ? message : new Bundle(message, at);
  try {
    if (address !== undefined) {
      await (packet instanceof Bundle ? address.bundle(packet) : address.message(packet));
    } else if (file !== undefined) {
      await writeFile(file, encode(packet));
    } else if (toStdout) {
      io.stdout.write(encode(packet));
      await flush(io.stdout);
    }
  } catch (err) {
    return fail(io, `An error occurred: ${(err as Error).message}`);
  } finally {
    await address?.close();
  }
  return 0;
}

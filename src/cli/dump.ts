// aiolo dump: oscdump 0.31's command line and output, byte for byte, over every transport aiolo has.
import { isIP } from 'node:net';
import {
  ANY_PATH,
  encodeMessage,
  type Incoming,
  libloReport,
  MultiCast,
  OscConfigError,
  type OscDecodeError,
  Server,
  StartError,
} from '../index.js';
import { dumpLine, jsonLine } from './format.js';
import { flush, type Io, onStop, write } from './io.js';

export const DUMP_USAGE = `Usage: aiolo dump [-L] [-r] [--json] <port> [<group>]
or     aiolo dump [-L] [-r] [--json] <url>
Receive OpenSound Control messages and dump them to standard output, as liblo's oscdump does.

-L      : line buffering (output is always written as it comes; accepted for oscdump's sake)
-r      : dump the raw message data to stdout (binary), re-serialised, one message after another
--json  : one JSON object per message instead, lossless (int64 as strings, blobs and MIDI as hex,
          timetags as %08x.%08x), with the sender's URL
port    : the UDP port to listen on (all interfaces)
group   : a multicast group to join on that port
url     : a liblo URL: UDP "osc.udp://:9000", multicast "osc.udp://224.0.1.9:9000",
          TCP "osc.tcp://:9000" (length-prefixed or SLIP, detected), Unix "osc.unix:///tmp/x.sock",
          serial "osc.serial:///dev/ttyACM0?baud=115200" (SLIP, as CNMAT's OSC for Arduino)

Stops on SIGINT or SIGTERM, having written everything received.
`;

interface DumpOptions {
  raw: boolean;
  json: boolean;
  port: string;
  group: string | undefined;
}

// oscdump reads one option, the first argument, by its second character (-L, -r, -h); aiolo also
// takes --json there, and any number of them.
function parse(argv: readonly string[], io: Io): DumpOptions | number {
  let raw = false;
  let json = false;
  let i = 0;
  for (; i < argv.length && (argv[i] as string).startsWith('-'); i++) {
    const a = argv[i] as string;
    if (a === '--json') json = true;
    else if (a[1] === 'L') continue;
    else if (a[1] === 'r') raw = true;
    else if (a[1] === 'h' || a === '--help') {
      io.stdout.write(DUMP_USAGE);
      return 0;
    } else {
      io.stderr.write(`Unknown option \`${a}'\n`);
      return 1;
    }
  }
  const port = argv[i];
  if (port === undefined) {
    io.stdout.write(DUMP_USAGE);
    return 1;
  }
  return { raw, json, port, group: argv[i + 1] };
}

function subscribe(server: Server) {
  return server.route(ANY_PATH).sub({
    incoming: true,
    highWaterMark: 65536,
    overflow: 'pause', // TCP waits for a slow stdout; nothing is dropped
  });
}

function makeServer(o: DumpOptions): Server {
  if (o.group !== undefined)
    return new Server({ multicast: new MultiCast(o.group, { port: o.port }), extendedTypes: false });
  if (/^[0-9]/.test(o.port)) return new Server({ port: o.port, extendedTypes: false });
  return new Server({ url: o.port, extendedTypes: false });
}

/** Runs `aiolo dump`; resolves with the exit code once stopped (by `signal`, or SIGINT/SIGTERM). */
export async function dump(argv: readonly string[], io: Io, signal?: AbortSignal): Promise<number> {
  const o = parse(argv, io);
  if (typeof o === 'number') return o;
  let server: Server;
  let messages: ReturnType<typeof subscribe>;
  try {
    server = makeServer(o);
    // routed before it starts: nothing that arrives while it binds goes unmatched
    messages = subscribe(server);
    await server.start();
  } catch (err) {
    // liblo says which protocol it could not serve before oscdump gives up
    const scheme = /^osc\.([^:/]*):\/\//.exec(o.port)?.[1];
    const served = scheme !== undefined && ['udp', 'tcp', 'unix', 'serial'].includes(scheme);
    if (o.group === undefined && !/^[0-9]/.test(o.port) && !served) {
      io.stderr.write(`liblo: protocol '${scheme ?? '(null)'}' not supported by this version\n`);
    } else if (o.group !== undefined && isIP(o.group) !== 4) {
      io.stderr.write('liblo server error 0 in path inet_aton(): Success\n'); // liblo's words for a bad group
    } else if (!(err instanceof StartError) && !(err instanceof OscConfigError)) {
      throw err;
    }
    io.stderr.write(
      `Could not start a server with port ${o.port}${o.group === undefined ? '\n' : `, multicast group ${o.group}\n`}`,
    );
    return 1;
  }
  // stopping the server ends the subscription after what it holds: everything received is printed
  const stop = (): void => {
    void server.stop();
  };
  const unlisten = onStop(stop, signal);
  server.on('malformed', (error: OscDecodeError, _source, packet) => {
    // liblo's report; a packet liblo would take (only aiolo's own limits refuse it) is told by aiolo's error
    const r = libloReport(packet) ?? { code: error.libloCode, where: '(null)', text: error.message };
    io.stderr.write(`liblo server error ${r.code} in path ${r.where}: ${r.text}\n`);
  });
  try {
    for await (const m of messages) await write(io.stdout, render(m, o));
  } finally {
    unlisten();
    await server.stop();
    await flush(io.stdout);
  }
  return 0;
}

function render(m: Incoming, o: DumpOptions): string | Uint8Array {
  if (o.json) return jsonLine(m);
  // -r: the message re-serialised, as oscdump's lo_message_serialise
  if (o.raw) return encodeMessage(m.path, m.typetags, m.args);
  return dumpLine(m);
}

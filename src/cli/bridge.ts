// aiolo bridge: listens on FROM and forwards every packet, unchanged, to TO; replies go back to the
// client that caused them. --verbose prints what crosses in aiolo dump's format, marked with its
// direction and client; the counters go to stderr on SIGUSR1 and at exit.
import {
  type Bridge,
  type BridgedPacket,
  type BridgeLoss,
  type BridgeStats,
  Bundle,
  bridge,
  type Message,
  OscError,
  type Received,
  TimeTag,
} from '../index.js';
import { dumpLine, jsonLine } from './format.js';
import { flush, type Io, onStop } from './io.js';

export const BRIDGE_USAGE = `Usage: aiolo bridge [options] FROM TO
Listen on FROM and forward every OSC packet to TO unchanged (the same bytes: bundles and timetags
as they came). What TO sends back goes to the client that caused it: each client has its own
upstream socket (UDP) or connection (TCP) to TO.

FROM, TO : liblo URLs, any transport: "osc.udp://:9000", "osc.tcp://localhost:57110",
           "osc.unix:///tmp/x.sock" (a Unix TO cannot reply: liblo's clients are unbound sockets)

options  : --verbose        print each message that crosses, on stdout, as aiolo dump does, after
                            a direction and the client: "> CLIENT TIMETAG PATH TYPES ARGS..." from
                            a client to TO, "< CLIENT ..." from TO back to that client; on stderr
                            "+ CLIENT UPSTREAM" when a client's upstream opens, "- CLIENT REASON"
                            when it closes, "! DIRECTION CLIENT REASON: ERROR" for a packet lost
           --json           those lines as JSON objects, and the counters as one JSON object
           --slip           TCP to TO: SLIP framing instead of a length prefix
           --max-clients N  clients served at once (default 64)
           --refuse         when full, do not forward a new client's packets (counted); by
                            default the client silent the longest makes room
           --idle SECONDS   close a client's upstream after this long with no packet either way
                            (default 60; 0: never)

Prints "aiolo bridge: FROM -> TO" on stderr once listening (FROM with its real port), the counters
on stderr on SIGUSR1 and when it stops: on SIGINT or SIGTERM, having sent on what it had received.
`;

interface BridgeCli {
  readonly verbose: boolean;
  readonly json: boolean;
  readonly slip: boolean;
  readonly refuse: boolean;
  readonly maxClients: number | undefined;
  readonly idleTimeout: number | undefined;
  readonly from: string;
  readonly to: string;
}

function fail(io: Io, message: string): number {
  io.stderr.write(`aiolo bridge: ${message}\n`);
  return 1;
}

function parse(argv: readonly string[], io: Io): BridgeCli | number {
  let verbose = false;
  let json = false;
  let slip = false;
  let refuse = false;
  let maxClients: number | undefined;
  let idleTimeout: number | undefined;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    if (a === '--help') {
      io.stdout.write(BRIDGE_USAGE);
      return 0;
    }
    if (a === '--verbose') verbose = true;
    else if (a === '--json') json = true;
    else if (a === '--slip') slip = true;
    else if (a === '--refuse') refuse = true;
    else if (a === '--max-clients' || a === '--idle') {
      const value = argv[++i];
      const n = value === undefined || !/^\d+(\.\d+)?$/.test(value) ? Number.NaN : Number(value);
      if (a === '--max-clients') {
        if (!Number.isInteger(n) || n < 1) return fail(io, `--max-clients takes a whole number >= 1, got '${value}'`);
        maxClients = n;
      } else {
        if (!Number.isFinite(n)) return fail(io, `--idle takes seconds (a number >= 0), got '${value}'`);
        idleTimeout = Math.round(n * 1000);
      }
    } else {
      io.stderr.write(`Unknown option \`${a}'\n`);
      return 1;
    }
  }
  if (positional.length !== 2) {
    io.stderr.write(BRIDGE_USAGE);
    return 1;
  }
  const [from, to] = positional as [string, string];
  return { verbose, json, slip, refuse, maxClients, idleTimeout, from, to };
}

/** The messages of a packet with the timetag each is printed with (a nested bundle's own). */
function* messages(packet: Message | Bundle, timetag: TimeTag): Generator<[Message, TimeTag]> {
  if (packet instanceof Bundle) {
    for (const element of packet.elements) yield* messages(element, packet.timetag);
  } else {
    yield [packet, timetag];
  }
}

/** One line per message: "D CLIENT " and aiolo dump's line, or a JSON object with direction and client. */
function packetLines(p: BridgedPacket, json: boolean): Buffer {
  const lines: Buffer[] = [];
  for (const [m, timetag] of messages(p.packet, TimeTag.IMMEDIATE)) {
    const received = {
      path: m.path,
      typetags: m.typetags,
      args: m.args,
      timetag,
      source: { url: p.from },
    } as unknown as Received; // the format reads the source's URL only
    if (json) {
      const head = JSON.stringify({ direction: p.direction, client: p.client });
      lines.push(Buffer.from(`${head.slice(0, -1)},${jsonLine(received).slice(1)}`));
    } else {
      lines.push(Buffer.from(`${p.direction} ${p.client} `), dumpLine(received));
    }
  }
  return Buffer.concat(lines);
}

function lossLine(loss: BridgeLoss, json: boolean): string {
  const err = loss.error as { code?: unknown; message?: unknown } | undefined;
  const code = err instanceof OscError ? err.code : typeof err?.code === 'string' ? err.code : undefined;
  const message = typeof err?.message === 'string' ? err.message : undefined;
  if (json) {
    return `${JSON.stringify({ lost: loss.reason, direction: loss.direction, client: loss.client ?? null, code: code ?? null, error: message ?? null })}\n`;
  }
  const why = message === undefined ? '' : `: ${code === undefined ? '' : `${code} `}${message}`;
  return `! ${loss.direction} ${loss.client ?? '-'} ${loss.reason}${why}\n`;
}

const STAT_NAMES: readonly (keyof BridgeStats)[] = [
  'forwarded',
  'forwardedBytes',
  'returned',
  'returnedBytes',
  'clients',
  'clientsTotal',
  'evicted',
  'refused',
  'forwardFailed',
  'returnFailed',
  'overflowed',
  'malformed',
  'kernelDropped',
  'lost',
];

/** The counters: one line of NAME=VALUE, or one JSON object; `unlogged` counts --verbose lines skipped. */
function statsLine(stats: Readonly<BridgeStats>, unlogged: number, json: boolean): string {
  const values: [string, number | null][] = STAT_NAMES.map((name) => [name, stats[name] ?? null]);
  values.push(['unlogged', unlogged]);
  if (json) return `${JSON.stringify(Object.fromEntries(values))}\n`;
  return `aiolo bridge: ${values.map(([k, v]) => `${k}=${v ?? '-'}`).join(' ')}\n`;
}

/**
 * Log lines waiting for a slow stdout beyond this are skipped (and counted in `unlogged`), so that
 * --verbose never holds more than this in memory nor slows the bridge down.
 */
const MAX_LOG_BACKLOG = 4 * 1024 * 1024;

function log(stream: NodeJS.WritableStream, data: string | Buffer, skipped: () => void): void {
  const backlog = (stream as { writableLength?: number }).writableLength ?? 0;
  if (backlog > MAX_LOG_BACKLOG) skipped();
  else stream.write(data);
}

/** Runs `aiolo bridge`; resolves with the exit code once stopped (by `signal`, or SIGINT/SIGTERM). */
export async function bridgeCommand(argv: readonly string[], io: Io, signal?: AbortSignal): Promise<number> {
  const o = parse(argv, io);
  if (typeof o === 'number') return o;
  let b: Bridge;
  try {
    b = await bridge(o.from, o.to, {
      maxClients: o.maxClients,
      whenFull: o.refuse ? 'refuse' : 'evict',
      idleTimeout: o.idleTimeout,
      address: o.slip ? { slip: true } : {},
    });
  } catch (err) {
    if (!(err instanceof OscError)) throw err;
    return fail(io, `${err.code} ${err.message}`);
  }
  let unlogged = 0;
  const skipped = (): void => {
    unlogged++;
  };
  if (o.verbose) {
    b.on('packet', (p) => log(io.stdout, packetLines(p, o.json), skipped));
    b.on('lost', (loss) => log(io.stderr, lossLine(loss, o.json), skipped));
    b.on('client', (client, upstream) =>
      log(io.stderr, o.json ? `${JSON.stringify({ client, upstream })}\n` : `+ ${client} ${upstream}\n`, skipped),
    );
    b.on('clientClosed', (client, reason) =>
      log(io.stderr, o.json ? `${JSON.stringify({ client, closed: reason })}\n` : `- ${client} ${reason}\n`, skipped),
    );
  }
  io.stderr.write(`aiolo bridge: ${b.url} -> ${b.to}\n`);
  const stop = (): void => {
    void b.stop().catch(() => undefined); // (awaited below)
  };
  const report = (): void => {
    io.stderr.write(statsLine(b.stats, unlogged, o.json));
  };
  const unlisten = onStop(stop, signal);
  // (a SIGUSR1 listener keeps Node from starting its inspector on SIGUSR1 while the bridge runs)
  process.on('SIGUSR1', report);
  let code = 0;
  try {
    await b.closed;
  } catch (err) {
    io.stderr.write(`aiolo bridge: ${(err as Error).message}\n`);
    code = 1;
  } finally {
    unlisten();
    process.off('SIGUSR1', report);
    report();
    await Promise.all([flush(io.stdout), flush(io.stderr)]);
  }
  return code;
}

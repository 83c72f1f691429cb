// aiolo discover: OSC and OSCQuery services on the network, as they come and go (mDNS / DNS-SD).
// (Imports the discovery modules directly until src/index.ts exports them.)
import { type BrowseEvent, browse, OscConfigError, SERVICE_TYPES, type ServiceType, StartError } from '../index.js';
import { flush, type Io, onStop, write } from './io.js';

export const DISCOVER_USAGE = `Usage: aiolo discover [--json] [--type TYPE]... [--interface IFACE]
List OSC and OSCQuery services advertised by mDNS / DNS-SD, live: one line per event,
  + NAME TYPE HOST:PORT ADDRESSES TXT...   a service is up (resolved)
  ~ NAME TYPE HOST:PORT ADDRESSES TXT...   its port, addresses or TXT changed
  - NAME TYPE HOST:PORT                    it is gone (goodbye, or its TTL ran out)
NAME is a JSON string.

--json            : one JSON object per event instead: {"event", "name", "type", "host", "port", "addresses", "txt"}
--type TYPE       : _osc._udp, _osc._tcp or _oscjson._tcp (repeatable; default all three)
--interface IFACE : listen and ask on this interface only (a name, an IPv4 address or "loopback")

Stops on SIGINT or SIGTERM.
`;

function line(ev: BrowseEvent, json: boolean): string {
  const s = ev.service;
  if (json) return `${JSON.stringify({ event: ev.type, ...s })}\n`;
  const mark = ev.type === 'up' ? '+' : ev.type === 'down' ? '-' : '~';
  const head = `${mark} ${JSON.stringify(s.name)} ${s.type} ${s.host}:${s.port}`;
  if (ev.type === 'down') return `${head}\n`;
  const txt = Object.entries(s.txt).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  return `${[head, s.addresses.join(','), ...txt].join(' ')}\n`;
}

/** Runs `aiolo discover`; resolves with the exit code once stopped (by `signal`, or SIGINT/SIGTERM). */
export async function discover(argv: readonly string[], io: Io, signal?: AbortSignal): Promise<number> {
  let json = false;
  const types: ServiceType[] = [];
  let iface: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      io.stdout.write(DISCOVER_USAGE);
      return 0;
    } else if (a === '--type' || a === '--interface') {
      const v = argv[++i];
      if (v === undefined) {
        io.stderr.write(`aiolo discover: ${a} needs a value\n\n${DISCOVER_USAGE}`);
        return 1;
      }
      if (a === '--interface') iface = v;
      else if ((SERVICE_TYPES as readonly string[]).includes(v)) types.push(v as ServiceType);
      else {
        io.stderr.write(`aiolo discover: unknown type '${v}' (${SERVICE_TYPES.join(', ')})\n`);
        return 1;
      }
    } else {
      io.stderr.write(`aiolo discover: unknown argument '${a}'\n\n${DISCOVER_USAGE}`);
      return 1;
    }
  }
  const stopper = new AbortController();
  const stop = (): void => stopper.abort();
  const unlisten = onStop(stop, signal);
  try {
    const browser = browse({
      types: types.length > 0 ? types : SERVICE_TYPES,
      interface: iface,
      signal: stopper.signal,
    });
    for await (const ev of browser) await write(io.stdout, line(ev, json));
  } catch (err) {
    if (!(err instanceof StartError) && !(err instanceof OscConfigError)) throw err;
    io.stderr.write(`aiolo discover: ${err.message}\n`);
    return 1;
  } finally {
    unlisten();
    await flush(io.stdout);
  }
  return 0;
}

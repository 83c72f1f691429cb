// aiolo monitor: listens on every URL given and serves one live web page of what arrives.
import { OscConfigError, StartError } from '../index.js';
import { startMonitor } from '../monitor/monitor.js';
import { flush, type Io, onStop, write } from './io.js';

export const MONITOR_USAGE = `Usage: aiolo monitor [--http HOST:PORT] [--json] [URL ...]
Listen for OSC on each URL (default osc.udp://:9000; any transport: several at once) and serve a
live web page of it: a filterable log, a table of addresses with their latest values and rates,
plots, counters. The first line on stdout is the page's URL.

--http HOST:PORT : where the page is served (default 127.0.0.1:0, any free port; [::1]:8080)
--json           : stdout in JSON lines: {"page":URL,"listening":[URL...]} first, the counters last

Stops on SIGINT or SIGTERM.
`;

interface MonitorArgs {
  urls: string[];
  host: string;
  port: number;
  json: boolean;
}

function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function parse(argv: readonly string[], io: Io): MonitorArgs | number {
  const o: MonitorArgs = { urls: [], host: '127.0.0.1', port: 0, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') {
      io.stdout.write(MONITOR_USAGE);
      return 0;
    } else if (a === '--http' || a.startsWith('--http=')) {
      const value = a === '--http' ? argv[++i] : a.slice('--http='.length);
      const hp = value === undefined ? undefined : parseHostPort(value);
      if (hp === undefined) {
        io.stderr.write(`aiolo monitor: --http takes HOST:PORT, not '${value ?? ''}'\n`);
        return 1;
      }
      o.host = hp.host;
      o.port = hp.port;
    } else if (a.startsWith('-')) {
      io.stderr.write(`aiolo monitor: unknown option '${a}'\n\n${MONITOR_USAGE}`);
      return 1;
    } else o.urls.push(a);
  }
  if (o.urls.length === 0) o.urls.push('osc.udp://:9000');
  return o;
}

/** Runs `aiolo monitor`; resolves with the exit code once stopped (by `signal`, or SIGINT/SIGTERM). */
export async function monitor(argv: readonly string[], io: Io, signal?: AbortSignal): Promise<number> {
  const o = parse(argv, io);
  if (typeof o === 'number') return o;
  let m: Awaited<ReturnType<typeof startMonitor>>;
  try {
    m = await startMonitor({ urls: o.urls, host: o.host, port: o.port });
  } catch (err) {
    if (!(err instanceof StartError) && !(err instanceof OscConfigError) && !isListenError(err)) throw err;
    io.stderr.write(`aiolo monitor: ${(err as Error).message}\n`);
    return 1;
  }
  const listening = m.servers.map((s) => s.url ?? '');
  if (o.json) await write(io.stdout, `${JSON.stringify({ page: m.url, listening })}\n`);
  else await write(io.stdout, `${m.url}\n${listening.map((u) => `listening on ${u}\n`).join('')}`);
  const monitorRef = m;
  let unlisten = (): void => {};
  await new Promise<void>((resolve) => {
    unlisten = onStop(resolve, signal);
  });
  unlisten();
  const counters = monitorRef.counters();
  await monitorRef.stop();
  const { servers: _servers, lastMalformed: _last, ...totals } = counters;
  if (o.json) await write(io.stdout, `${JSON.stringify({ stats: totals })}\n`);
  else
    io.stderr.write(
      `aiolo monitor: ${Object.entries(totals)
        .map(([k, v]) => `${k}=${v ?? '-'}`)
        .join(' ')}\n`,
    );
  await flush(io.stdout);
  return 0;
}

/** The HTTP server could not listen (EADDRINUSE, EACCES, EADDRNOTAVAIL...). */
function isListenError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

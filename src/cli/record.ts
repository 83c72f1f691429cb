// aiolo record: listens on one or more URLs and writes every packet that arrives, losslessly and
// timed, to a recording (JSON Lines; README "Record and replay"). Stops on SIGINT or SIGTERM.
import type { Writable } from 'node:stream';
import { OscError, type Recorder, type RecorderStats, record } from '../index.js';
import { flush, type Io, onStop } from './io.js';

export const RECORD_USAGE = `Usage: aiolo record [--json] URL [URL...] FILE
Listen on URL (any transport: "osc.udp://:9000", "osc.tcp://:9000", "osc.unix:///tmp/x.sock",
"osc.ws://:9000/") and write every packet that arrives to FILE ("-": standard output), one JSON
line each: its exact bytes (base64), when it arrived (nanoseconds from the start), its transport
and sender; malformed packets too, marked with their error code. The first line is a header (format
version, start time, the URLs).

--json  : the counters at the end as one JSON object

Prints "aiolo record: URL... -> FILE" on stderr once listening; stops on SIGINT or SIGTERM, having
written everything received, and prints the counters on stderr: packets, bytes, malformed, and
dropped (datagrams that came faster than FILE could take them; TCP and WebSocket senders are
held back instead).
`;

function statsLine(stats: RecorderStats, json: boolean): string {
  if (json) return `${JSON.stringify(stats)}\n`;
  return `aiolo record: packets=${stats.packets} bytes=${stats.bytes} malformed=${stats.malformed} dropped=${stats.dropped}\n`;
}

/** Runs `aiolo record`; resolves with the exit code once stopped (by `signal`, or SIGINT/SIGTERM). */
export async function recordCommand(argv: readonly string[], io: Io, signal?: AbortSignal): Promise<number> {
  let json = false;
  const positional: string[] = [];
  for (const a of argv) {
    if (a === '--help') {
      io.stdout.write(RECORD_USAGE);
      return 0;
    }
    if (a === '--json') json = true;
    else if (a.startsWith('--')) {
      io.stderr.write(`Unknown option \`${a}'\n`);
      return 1;
    } else positional.push(a);
  }
  if (positional.length < 2) {
    io.stderr.write(RECORD_USAGE);
    return 1;
  }
  const file = positional.pop() as string;
  let recorder: Recorder;
  try {
    recorder = await record(positional, file === '-' ? (io.stdout as Writable) : file);
  } catch (err) {
    if (!(err instanceof OscError)) throw err;
    io.stderr.write(`aiolo record: ${err.code} ${err.message}\n`);
    return 1;
  }
  io.stderr.write(`aiolo record: ${recorder.urls.join(' ')} -> ${file}\n`);
  const stop = (): void => {
    void recorder.stop().catch(() => undefined); // (awaited below)
  };
  const unlisten = onStop(stop, signal);
  let code = 0;
  try {
    await recorder.closed;
  } catch (err) {
    io.stderr.write(`aiolo record: ${(err as Error).message}\n`);
    code = 1;
  } finally {
    unlisten();
    io.stderr.write(statsLine(recorder.stats, json));
    await Promise.all([flush(io.stdout), flush(io.stderr)]);
  }
  return code;
}

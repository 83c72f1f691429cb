// aiolo replay: sends a recording made by aiolo record again, byte for byte, with its timing.
import { OscError, type ReplayOptions, type ReplayStats, replay } from '../index.js';
import { flush, type Io, onStop } from './io.js';

export const REPLAY_USAGE = `Usage: aiolo replay [options] FILE URL
Send the packets of FILE (written by aiolo record, or by hand) to URL, byte for byte (bundles and
their timetags as recorded), with the recorded spacing: each packet is sent at its time from the
start, never early.

options  : --speed X     X times faster (2: half the gaps; 0.5: twice as long)
           --loop        start again after the last packet, until stopped
           --from T      skip packets recorded less than T seconds after the recording started
           --to T        stop after T seconds of the recording
           --malformed   send packets recorded as malformed too, raw (by default: skipped, counted)
           --json        the counters at the end as one JSON object

Stops on SIGINT or SIGTERM. Prints the counters on stderr at the end: packets sent, bytes, skipped,
passes, and how late the sends were (max, p99, mean, in milliseconds).
`;

function statsLine(s: ReplayStats, json: boolean): string {
  if (json) return `${JSON.stringify(s)}\n`;
  const ms = (v: number) => v.toFixed(3);
  return `aiolo replay: sent=${s.sent} bytes=${s.bytes} skipped=${s.skipped} passes=${s.passes} late max=${ms(s.late.max)}ms p99=${ms(s.late.p99)}ms mean=${ms(s.late.mean)}ms\n`;
}

function fail(io: Io, message: string): number {
  io.stderr.write(`aiolo replay: ${message}\n`);
  return 1;
}

/** Runs `aiolo replay`; resolves with the exit code once done or stopped (by `signal`, or SIGINT/SIGTERM). */
export async function replayCommand(argv: readonly string[], io: Io, signal?: AbortSignal): Promise<number> {
  let json = false;
  const options: { -readonly [K in keyof ReplayOptions]: ReplayOptions[K] } = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--') || a === '--') {
      if (a === '--') positional.push(...argv.slice(i + 1));
      else positional.push(a);
      if (a === '--') break;
      continue;
    }
    if (a === '--help') {
      io.stdout.write(REPLAY_USAGE);
      return 0;
    }
    if (a === '--json') json = true;
    else if (a === '--loop') options.loop = true;
    else if (a === '--malformed') options.malformed = true;
    else if (a === '--speed' || a === '--from' || a === '--to') {
      const value = argv[++i];
      const n = value === undefined || !/^\d+(\.\d+)?$/.test(value) ? Number.NaN : Number(value);
      if (!Number.isFinite(n) || (a === '--speed' && n <= 0))
        return fail(io, `${a} takes ${a === '--speed' ? 'a number > 0' : 'seconds (a number >= 0)'}, got '${value}'`);
      options[a === '--speed' ? 'speed' : a === '--from' ? 'from' : 'to'] = n;
    } else {
      io.stderr.write(`Unknown option \`${a}'\n`);
      return 1;
    }
  }
  if (positional.length !== 2) {
    io.stderr.write(REPLAY_USAGE);
    return 1;
  }
  const [file, url] = positional as [string, string];
  let replayer: ReturnType<typeof replay>;
  try {
    replayer = replay(file, url, options);
  } catch (err) {
    if (!(err instanceof OscError)) throw err;
    return fail(io, `${err.code} ${err.message}`);
  }
  const stop = (): void => {
    void replayer.stop().catch(() => undefined); // (awaited below)
  };
  const unlisten = onStop(stop, signal);
  let code = 0;
  try {
    await replayer.closed;
  } catch (err) {
    if (!(err instanceof OscError)) throw err;
    io.stderr.write(`aiolo replay: ${file}: ${err.code} ${err.message}\n`);
    code = 1;
  } finally {
    unlisten();
    io.stderr.write(statsLine(replayer.stats, json));
    await Promise.all([flush(io.stdout), flush(io.stderr)]);
  }
  return code;
}

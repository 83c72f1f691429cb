// The `aiolo` command's subcommands, callable in-process (the tests do) or from bin (main.ts).
import { DUMP_USAGE, dump } from './dump.js';
import type { Io } from './io.js';
import { SEND_USAGE, send } from './send.js';

export const USAGE = `Usage: aiolo dump ...   receive OSC and print it, as liblo's oscdump
       aiolo send ...   send an OSC message, as liblo's oscsend
       aiolo <command> --help

${DUMP_USAGE}
${SEND_USAGE}`;

/** Runs `aiolo ARGV`; resolves with the exit code. */
export async function main(argv: readonly string[], io: Io, signal?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dump':
      return dump(rest, io, signal);
    case 'send':
      return send(rest, io);
    case '-h':
    case '--help':
      io.stdout.write(USAGE);
      return 0;
    default:
      io.stderr.write(USAGE);
      return 1;
  }
}

// The `aiolo` command's subcommands, callable in-process (the tests do) or from bin (main.ts).
import { readFileSync } from 'node:fs';
import { BRIDGE_USAGE, bridgeCommand } from './bridge.js';
import { DISCOVER_USAGE, discover } from './discover.js';
import { DUMP_USAGE, dump } from './dump.js';
import type { Io } from './io.js';
import { MONITOR_USAGE, monitor } from './monitor.js';
import { QUERY_USAGE, query } from './query.js';
import { RECORD_USAGE, recordCommand } from './record.js';
import { REPLAY_USAGE, replayCommand } from './replay.js';
import { SEND_USAGE, send } from './send.js';
import { SENDFILE_USAGE, sendfile } from './sendfile.js';

export const USAGE = `Usage: aiolo dump ...   receive OSC and print it, as liblo's oscdump
       aiolo send ...   send an OSC message, as liblo's oscsend
       aiolo sendfile ... send the messages of an oscdump text file, timed, as liblo's oscsendfile
       aiolo record ... record OSC packets to a file, losslessly, with their timing
       aiolo replay ... send a recording again, with its timing
       aiolo bridge ... forward OSC from one endpoint to another, replies back to each client
       aiolo discover ... list OSC and OSCQuery services (mDNS / DNS-SD) as they come and go
       aiolo query ...  print an OSCQuery server's namespace
       aiolo monitor ... a live web page of the OSC arriving: log, table, plots, counters
       aiolo <command> --help
       aiolo --version

${DUMP_USAGE}
${SEND_USAGE}
${SENDFILE_USAGE}
${RECORD_USAGE}
${REPLAY_USAGE}
${BRIDGE_USAGE}
${DISCOVER_USAGE}
${QUERY_USAGE}
${MONITOR_USAGE}`;

/** The package's version, from its package.json (two levels up from both src/cli and dist/cli). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs `aiolo ARGV`; resolves with the exit code. */
export async function main(argv: readonly string[], io: Io, signal?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dump':
      return dump(rest, io, signal);
    case 'send':
      return send(rest, io);
    case 'sendfile':
      return sendfile(rest, io);
    case 'record':
      return recordCommand(rest, io, signal);
    case 'replay':
      return replayCommand(rest, io, signal);
    case 'bridge':
      return bridgeCommand(rest, io, signal);
    case 'discover':
      return discover(rest, io, signal);
    case 'query':
      return query(rest, io, signal);
    case 'monitor':
      return monitor(rest, io, signal);
    case '-h':
    case '--help':
      io.stdout.write(USAGE);
      return 0;
    case '-V':
    case '--version':
      io.stdout.write(`${version()}\n`);
      return 0;
    case undefined:
      io.stderr.write(USAGE);
      return 1;
    default:
      io.stderr.write(`aiolo: unknown ${command.startsWith('-') ? 'option' : 'command'} '${command}'\n\n${USAGE}`);
      return 1;
  }
}

#!/usr/bin/env node
// The `aiolo` command: `aiolo dump` and `aiolo send`, drop-in for liblo's oscdump and oscsend.
import { main } from './commands.js';

// a reader that went away (`aiolo dump | head`): stop quietly, as liblo's tools die of SIGPIPE
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });

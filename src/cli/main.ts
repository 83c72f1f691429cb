#!/usr/bin/env node
// The `aiolo` command: `aiolo dump` and `aiolo send`, drop-in for liblo's oscdump and oscsend.
import { main } from './commands.js';

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });

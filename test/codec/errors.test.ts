// Every error aiolo throws is an OscError with a stable code: no built-in Error,
// TypeError or RangeError is thrown or rejected with anywhere in src/. A scan of the source, as the
// codec's Node-free test is.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const BUILTIN_THROW =
  /\b(?:throw|reject)\s*\(?\s*new\s+(?:Error|TypeError|RangeError|SyntaxError|ReferenceError)\s*\(/g;

async function sources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts')) found.push(path);
  }
  return found;
}

test('src/ throws and rejects with no built-in Error, TypeError or RangeError', async () => {
  const files = await sources(SRC);
  assert.ok(files.length >= 40);
  const offenders: string[] = [];
  for (const file of files) {
    const name = relative(SRC, file).split('\\').join('/');
    // the monitor's page script runs in the browser, not in a user's program: its errors are the page's
    if (name.startsWith('monitor/page/')) continue;
    const text = (await readFile(file, 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(BUILTIN_THROW)) offenders.push(`${name}: ${m[0]}`);
  }
  assert.deepEqual(offenders, []);
});

test('the scan finds what it looks for', () => {
  const sample =
    "if (x) throw new RangeError('no'); p.then(() => reject(new Error('x'))); throw new OscError('E', 'm');";
  assert.equal([...sample.matchAll(BUILTIN_THROW)].length, 2);
});

test('SendError takes errno and syscall from a Node system error cause, or as given', async () => {
  const { SendError, OscSendError, OscError } = await import('../../src/index.js');
  const refused = Object.assign(new Error('connect ECONNREFUSED'), {
    errno: -111,
    code: 'ECONNREFUSED',
    syscall: 'connect',
  });
  const err = new SendError('ERR_OSC_SEND_FAILED', 'cannot connect', { cause: refused });
  assert.ok(err instanceof OscError && err instanceof OscSendError);
  assert.equal(err.errno, -111);
  assert.equal(err.syscall, 'connect');
  const given = new SendError('ERR_OSC_SEND_FAILED', 'x', { errno: -2, syscall: 'send' });
  assert.deepEqual([given.errno, given.syscall], [-2, 'send']);
  const none = new SendError('ERR_OSC_CLOSED', 'closed', { cause: 'a string' });
  assert.deepEqual([none.errno, none.syscall], [undefined, undefined]);
});

// The ported Python aiolo README examples run and print what they should.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('examples/echo_server.ts (what npm start runs)', { timeout: 30_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/echo_server.ts'], {
    cwd: ROOT,
    timeout: 25_000,
  });
  const lines = stdout.trim().split('\n');
  const received = lines.filter((l) => l.includes(': received'));
  assert.deepEqual(received, [
    '/foo: received [0, 0.5, Midi(0, 0, 0, 0)]',
    '/bar: received [hello, world]',
    '/foo: received [1, 1.5, Midi(1, 1, 1, 1)]',
    '/bar: received [hello, world]',
    '/foo: received [2, 2.5, Midi(2, 2, 2, 2)]',
    '/bar: received [hello, world]',
    '/foo: received [0, 0, Midi(0, 0, 0, 0)]',
    '/foo: received [10, 10, Midi(10, 10, 10, 10)]',
    '/foo: received [20, 20, Midi(20, 20, 20, 20)]',
    '/exit: received []',
  ]);
  assert.match(lines[0] ?? '', /^Address\(osc\.tcp:\/\/127\.0\.0\.1:\d+\/\): sending messages\.\.\.$/);
});

// The `aiolo` command itself: --version, --help, and what it says about commands it does not know.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { USAGE } from '../../src/cli/commands.js';
import { aiolo } from '../helpers/io.js';
import { AIOLO, run } from '../helpers/proc.js';

const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('aiolo', () => {
  for (const flag of ['--version', '-V']) {
    test(`${flag} prints the package's version and exits 0`, async () => {
      assert.deepEqual(await aiolo([flag]), { code: 0, stdout: Buffer.from(`${version}\n`), stderr: '' });
    });
  }

  test('--help prints the usage on stdout and exits 0', async () => {
    const r = await aiolo(['--help']);
    assert.deepEqual([r.code, r.stdout.toString(), r.stderr], [0, USAGE, '']);
    assert.match(USAGE, /aiolo --version/);
  });

  test('no command: the usage on stderr, exit 1', async () => {
    const r = await aiolo([]);
    assert.deepEqual([r.code, r.stdout.length, r.stderr], [1, 0, USAGE]);
  });

  test('an unknown command or option is named, before the usage; exit 1', async () => {
    for (const [argv, line] of [
      [['dupm', '-L', '9000'], "aiolo: unknown command 'dupm'"],
      [['--verbose'], "aiolo: unknown option '--verbose'"],
    ] as const) {
      const r = await aiolo(argv);
      assert.deepEqual([r.code, r.stdout.length, r.stderr], [1, 0, `${line}\n\n${USAGE}`]);
    }
  });

  test('the binary: --version from the bin script, exit 0', async () => {
    const r = await run([...AIOLO, '--version']);
    assert.deepEqual([r.code, r.stdout.toString(), r.stderr], [0, `${version}\n`, '']);
  });
});

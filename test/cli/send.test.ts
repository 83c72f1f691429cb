// aiolo send against liblo's oscsend: the same arguments give the same bytes (`-` writes the
// packet to stdout), and the same failures, messages and exit codes for bad values.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Message, Server, TimeTag } from '../../src/index.js';
import { take } from '../helpers/async.js';
import { aiolo } from '../helpers/io.js';
import { needPeer, OSCSEND } from '../helpers/peers.js';
import { AIOLO, run } from '../helpers/proc.js';

const CASES: string[][] = [
  ['/a'],
  ['/a', ''],
  ['/a', 'ifsdhScm', '1', '2.5', 'hello world', '3.25', '-9223372036854775808', 'sym', 'A', '90403f7f'],
  ['/a', 'TFNI'],
  ['/a', 'i', '-2147483648'],
  ['/a', 'i', ''],
  ['/a', 'i', ' 5'],
  ['/a', 'i', '+5'],
  ['/a', 'f', 'inf'],
  ['/a', 'f', '-0'],
  ['/a', 'f', '0x1p3'],
  ['/a', 'f', '1e-46'],
  ['/a', 'f', '3.4e39'],
  ['/a', 'd', '1e300'],
  ['/a', 'd', '0x1.8p1'],
  ['/a', 'd', ''],
  ['/a', 's', ''],
  ['/a', 's', 'héllo 日本'],
  ['/a', 'c', ''],
  ['/a', 'c', 'é'],
  ['/a', 'm', 'ff'],
  ['/a', 'm', '0x90'],
  ['/a', 'm', '12zz'],
  ['/a', 'm', '123456789'],
  ['/a', 'ii', '1', '2', 'ignored', 'extra'],
  // rounding once from the exact value, hex floats, glibc's ERANGE
  ['/a', 'f', '1.0000000596046447753906251'],
  ['/a', 'f', '340282356779733661637539395458142568447.9999999999'],
  ['/a', 'f', '0x1.00000100000000001p0'],
  ['/a', 'd', '0x0p99999'],
  ['/a', 'd', '0x3p-1076'],
  ['/a', 'd', '0xffffffffffffffffffffp-1100'],
  ['/a', 'd', '2.2250738585072011e-308'],
  ['/a', 'f', '1.17549421e-38'],
  // (not NaN signs and payloads: JavaScript arrays may canonicalise NaN; the README says so)
  ['/a', 'fdd', '.5', '-.5e-3', 'infinity'],
  ['/a', 'fh', '1e400', '9223372036854775807'],
  ['/a', 'fh', '1e-50', '-9223372036854775808'],
  ['/a', 'mmmmmm', '0x12345678', '0xFFFFFFFF', '+0x12345678', '-12345678', '-ffffffff', '0x'],
  // failures
  ['/a', 'd', '1e400x'],
  ['/a', 'fd', '1e-45', 'x'],
  ['/a', 'f', '1e'],
  ['/a', 'i', 'x'],
  ['/a', 'i', '1.5'],
  ['/a', 'i', '0x10'],
  ['/a', 'i', '99999999999'],
  ['/a', 'i', '99999999999999999999999'],
  ['/a', 'h', '99999999999999999999999'],
  ['/a', 'h', '-9223372036854775809'],
  ['/a', 'f', 'x'],
  ['/a', 'd', 'x'],
  ['/a', 'd', '1.5e'],
  ['/a', 'm', 'zz'],
  ['/a', 'x', '1'],
  ['/a', 'i'],
  ['/a', 'is', '1'],
];

describe('aiolo send, side by side with oscsend', () => {
  test(`${CASES.length} argument vectors give the same bytes, messages and exit codes`, {
    timeout: 120_000,
  }, async (t) => {
    if (!needPeer(t, OSCSEND)) return;
    for (const args of CASES) {
      const [theirs, ours] = await Promise.all([run([OSCSEND.command, '-', ...args]), aiolo(['send', '-', ...args])]);
      const what = JSON.stringify(args);
      assert.equal(ours.code, theirs.code, `exit code for ${what}: ${ours.stderr}`);
      assert.equal(ours.stdout.toString('hex'), theirs.stdout.toString('hex'), `bytes for ${what}`);
      assert.equal(ours.stderr, theirs.stderr, `stderr for ${what}`);
    }
  });

  test('file:// writes the packet; usage and missing parts fail as oscsend does', async (t) => {
    if (!needPeer(t, OSCSEND)) return;
    const dir = tmpdir();
    const a = join(dir, `aiolo-send-${process.pid}-a.osc`);
    const b = join(dir, `aiolo-send-${process.pid}-b.osc`);
    try {
      await run([OSCSEND.command, `file://${a}`, '/f', 'is', '7', 'x']);
      const ours = await aiolo(['send', `file://${b}`, '/f', 'is', '7', 'x']);
      assert.equal(ours.code, 0);
      assert.deepEqual(await readFile(b), await readFile(a));
    } finally {
      await Promise.all([rm(a, { force: true }), rm(b, { force: true })]);
    }
    for (const args of [
      ['localhost'],
      ['localhost', '9000'],
      ['-'],
      ['osc.udp://127.0.0.1', '/a', 'i', 'x'], // the message is made before the target is opened
      ['osc.foo://127.0.0.1:9', '/a'],
      ['http://x', '/a'],
      ['file:///nonexistent-dir/x.osc', '/a'],
      ['osc.tcp://127.0.0.1:1', '/a'],
      ['-x', '/a', 'i', '1'],
    ]) {
      const [theirs, ours] = await Promise.all([run([OSCSEND.command, ...args]), aiolo(['send', ...args])]);
      assert.equal(ours.code, theirs.code, JSON.stringify(args));
      assert.equal(ours.stderr, theirs.stderr, JSON.stringify(args));
    }
  });
});

describe('aiolo send, beyond oscsend', () => {
  test('b and t arguments; TCP with --slip; a bundle with --at', async () => {
    const server = new Server({ proto: 'tcp', host: '127.0.0.1', port: 0 });
    await server.start();
    try {
      const sub = server.route('/x').sub({ incoming: true });
      const r1 = await aiolo([
        'send',
        '--slip',
        `osc.tcp://127.0.0.1:${server.port}/`,
        '/x',
        'bt',
        '0102ff',
        '00000001.80000000',
      ]);
      assert.equal(r1.code, 0, r1.stderr);
      const r3 = await aiolo([
        'send',
        '--at',
        '00000002.00000000',
        `osc.tcp://127.0.0.1:${server.port}`,
        '/x',
        'i',
        '5',
      ]);
      assert.equal(r3.code, 0, r3.stderr);
      const [m1, m2] = await take(sub, 2);
      assert.ok(
        Message.typed('/x', 'bt', Uint8Array.of(1, 2, 0xff), new TimeTag(1, 0x80000000)).equals(
          new Message(m1?.path ?? '', ...(m1?.args ?? [])),
        ),
      );
      assert.deepEqual(m2?.args, [5]);
      assert.ok(m2?.timetag.equals(new TimeTag(2, 0)));
    } finally {
      await server.stop();
    }
  });

  test('--help, and a send that fails reports it', async () => {
    const help = await run([...AIOLO, 'send', '--help']); // the installed command, once
    assert.equal(help.code, 0);
    assert.match(help.stdout.toString(), /Usage: aiolo send/);
    const refused = await aiolo(['send', 'osc.tcp://127.0.0.1:1/', '/x']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^An error occurred: /);
  });
});

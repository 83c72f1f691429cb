// aiolo record and aiolo replay, in-process (main with an AbortSignal) and as a process stopped by
// SIGINT: the file format, the counters on stderr, usage errors, a bad line named.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../src/cli/commands.js';
import { Address, encode, Message, Server } from '../../src/index.js';
import { take, until } from '../helpers/async.js';
import { aiolo, Capture } from '../helpers/io.js';
import { AIOLO, Running } from '../helpers/proc.js';

const LOCAL = '127.0.0.1';
let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiolo-cli-record-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('aiolo record / aiolo replay', () => {
  test('record to stdout until aborted; replay --speed 2 of that file to a fresh server', {
    timeout: 30_000,
  }, async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const ac = new AbortController();
    const exit = main(['record', `osc.tcp://${LOCAL}:0`, '-'], { stdout, stderr }, ac.signal);
    let code: number | undefined;
    const target = await new Server({ host: LOCAL, port: 0 }).start();
    const received = target.packets();
    try {
      await until(5000, 'the recorder to listen', () => /aiolo record: \S+ -> -\n/.test(stderr.text));
      const url = (/aiolo record: (\S+) -> /.exec(stderr.text) as RegExpExecArray)[1] as string;
      const a = new Address(url);
      await a.send('/c', 1);
      await a.send('/c', 2.5);
      await until(5000, 'two lines', () => jsonLines(stdout.text).length >= 3);
      await a.close();
      ac.abort();
      code = await exit;
      assert.equal(code, 0);
      const [header, ...lines] = jsonLines(stdout.text);
      assert.deepEqual(header, {
        aiolo: 'recording',
        version: 1,
        start: header?.start,
        urls: [url],
      });
      assert.match(String(header?.start), /^[0-9a-f]{8}\.[0-9a-f]{8}$/);
      assert.equal(lines.length, 2);
      for (const l of lines) {
        assert.deepEqual(Object.keys(l), ['ns', 'proto', 'source', 'data']);
        assert.ok(Number.isSafeInteger(l.ns));
        assert.equal(l.proto, 'tcp');
        assert.match(String(l.source), /^osc\.tcp:\/\/127\.0\.0\.1:\d+\/$/);
      }
      assert.equal(lines[0]?.data, Buffer.from(encode(Message.typed('/c', 'i', 1))).toString('base64'));
      assert.match(stderr.text, /aiolo record: packets=2 bytes=\d+ malformed=0 dropped=0\n$/);

      const file = join(dir, 'cli.jsonl');
      await writeFile(file, stdout.bytes);
      const replayed = await aiolo(['replay', '--speed', '2', '--json', file, target.url]);
      assert.equal(replayed.code, 0, replayed.stderr);
      const stats = JSON.parse(replayed.stderr) as {
        sent: number;
        skipped: number;
        late: { max: number; p99: number };
      };
      assert.deepEqual([stats.sent, stats.skipped], [2, 0]);
      assert.ok(stats.late.max >= 0 && stats.late.p99 >= 0);
      assert.deepEqual(
        (await take(received, 2)).map((p) => Buffer.from(p.data).toString('base64')),
        lines.map((l) => l.data),
      );
    } finally {
      ac.abort();
      code ??= await exit;
      await received.return();
      await target.stop();
    }
  });

  test('a process stopped by SIGINT has written everything, and says how much', { timeout: 30_000 }, async () => {
    const file = join(dir, 'sigint.jsonl');
    const proc = new Running([...AIOLO, 'record', `osc.udp://${LOCAL}:0`, file]);
    try {
      await proc.until(() => /aiolo record: \S+ -> /.test(proc.stderr), 'the recorder to listen', 20_000);
      const url = (/aiolo record: (\S+) -> /.exec(proc.stderr) as RegExpExecArray)[1] as string;
      const a = new Address(url);
      for (let i = 0; i < 20; i++) await a.send('/n', i);
      await a.close();
      await until(10_000, '20 lines in the file', () => readFileSync(file, 'utf8').split('\n').length >= 22);
      const end = await proc.stop('SIGINT');
      assert.deepEqual(end, { code: 0, signal: null }, proc.stderr);
      assert.match(proc.stderr, /aiolo record: packets=20 bytes=\d+ malformed=0 dropped=0\n$/);
      assert.equal(jsonLines(readFileSync(file, 'utf8')).length, 21);
    } finally {
      await proc.stop('SIGKILL');
    }
  });

  test('replay: a bad line named, usage errors', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, '{"aiolo":"recording","version":1}\n{"ns":0,"data":"L2EAACwAAAA="}\n{"ns":1}\n');
    const bad = await aiolo(['replay', file, `osc.udp://${LOCAL}:9`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^aiolo replay: .*bad\.jsonl: ERR_OSC_RECORDING_INVALID line 3: "data" must be/);
    const usage = await aiolo(['replay', file]);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /^Usage: aiolo replay/);
    const speed = await aiolo(['replay', '--speed', '0', file, `osc.udp://${LOCAL}:9`]);
    assert.deepEqual([speed.code, speed.stderr], [1, "aiolo replay: --speed takes a number > 0, got '0'\n"]);
    const unknown = await aiolo(['record', '--nope', 'osc.udp://:0', '-']);
    assert.deepEqual([unknown.code, unknown.stderr], [1, "Unknown option `--nope'\n"]);
    const rec = await aiolo(['record', 'osc.udp://:0']);
    assert.equal(rec.code, 1);
    assert.match(rec.stderr, /^Usage: aiolo record/);
    const badUrl = await aiolo(['record', 'nonsense', '-']);
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.stderr, /^aiolo record: ERR_OSC_INVALID_URL /);
    const help = await aiolo(['--help']);
    assert.match(help.stdout.toString(), /aiolo record \.\.\./);
    assert.match(help.stdout.toString(), /aiolo replay \.\.\./);
  });
});

// aiolo bridge: liblo's oscsend through a bridge to liblo's oscdump prints what oscsend straight to
// oscdump prints; the command's --verbose lines, counters (SIGUSR1, exit, --json) and usage errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { main } from '../../src/cli/commands.js';
import { ANY_PATH, type Bridge, Bundle, bridge, Message, Server, type Started, TimeTag } from '../../src/index.js';
import { until } from '../helpers/async.js';
import { aiolo, Capture } from '../helpers/io.js';
import { needPeer, OSCDUMP, OSCSEND, OSCSEND_ARGS } from '../helpers/peers.js';
import { Running, run } from '../helpers/proc.js';

const LOCAL = '127.0.0.1';

const lines = (b: Buffer | string) =>
  b
    .toString()
    .split('\n')
    .filter((l) => l !== '');

async function echoServer(): Promise<Started> {
  const server = new Server({ host: LOCAL, port: 0 });
  server.route(ANY_PATH).on(async (args, m) => {
    await m.source.send('/echo', ...args);
  });
  return server.start();
}

describe('aiolo bridge with liblo at both ends', () => {
  test('oscsend → bridge → oscdump prints what oscsend → oscdump prints', { timeout: 60_000 }, async (t) => {
    if (!needPeer(t, OSCSEND) || !needPeer(t, OSCDUMP)) return;
    const dump = new Running([OSCDUMP.command, '-L', '0']);
    let b: Bridge | undefined;
    try {
      const port = await dump.port('udp');
      const n = OSCSEND_ARGS.length;
      for (const args of OSCSEND_ARGS)
        assert.equal((await run([OSCSEND.command, LOCAL, String(port), ...args])).code, 0);
      await dump.until(() => lines(dump.stdout).length >= n, `${n} lines straight from oscsend`);
      b = await bridge(`osc.udp://${LOCAL}:0`, `osc.udp://${LOCAL}:${port}`);
      const via = (b.url.match(/:(\d+)\/$/) as RegExpMatchArray)[1] as string;
      for (const args of OSCSEND_ARGS) assert.equal((await run([OSCSEND.command, LOCAL, via, ...args])).code, 0);
      await dump.until(() => lines(dump.stdout).length >= 2 * n, `${n} lines through the bridge`);
      const all = lines(dump.stdout);
      // the same lines but for the timestamp of each (immediate) message: the time oscdump printed it
      const text = (l: string) => {
        assert.match(l.slice(0, 18), /^[0-9a-f]{8}\.[0-9a-f]{8} $/);
        return l.slice(18);
      };
      assert.deepEqual(all.slice(n).map(text), all.slice(0, n).map(text));
      assert.equal(all.length, 2 * n);
      assert.equal(b.stats.forwarded, n);
      assert.equal(b.stats.lost, 0);
      assert.equal(dump.stderr, '');
    } finally {
      await b?.stop();
      await dump.stop('SIGKILL');
    }
  });
});

/** Runs `aiolo bridge ARGV` in this process until `stop()`; `url` is where it listens. */
async function running(argv: readonly string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const ac = new AbortController();
  const exit = main(['bridge', ...argv], { stdout, stderr }, ac.signal);
  await until(5000, 'the bridge to listen', () => /aiolo bridge: \S+ -> /.test(stderr.text));
  const url = (/aiolo bridge: (\S+) -> /.exec(stderr.text) as RegExpExecArray)[1] as string;
  return {
    url,
    stdout,
    stderr,
    async stop(): Promise<number> {
      ac.abort();
      return exit;
    },
  };
}

describe('aiolo bridge, the command', () => {
  test('--verbose prints each message with its direction and client; the counters on SIGUSR1 and at exit', {
    timeout: 30_000,
  }, async () => {
    const far = await echoServer();
    const cli = await running(['--verbose', `osc.udp://${LOCAL}:0`, far.url]);
    const client = await new Server({ host: LOCAL, port: 0 }).start();
    const echoed = client.route('/echo').sub();
    const me = `osc.udp://${LOCAL}:${client.port}/`;
    let code: number | undefined;
    try {
      const to = client.address(cli.url);
      await to.send('/ping', 7);
      await to.bundle(new Bundle([Message.typed('/a', 'i', 1), Message.typed('/b', 's', 'x')], new TimeTag(1, 2)));
      await until(5000, 'six lines', () => lines(cli.stdout.text).length >= 6);
      for (let i = 0; i < 3; i++) await echoed.next();
      const out = lines(cli.stdout.text);
      const stamp = '[0-9a-f]{8}\\.[0-9a-f]{8}';
      const esc = me.replace(/[./]/g, '\\$&');
      // the order of a reply and the next request is the network's; each direction keeps its own
      assert.deepEqual(
        out.filter((l) => l.startsWith('>')).map((l) => l.replace(new RegExp(`^> ${esc} ${stamp} `), '> ME TT ')),
        ['> ME TT /ping i 7', '> ME TT /a i 1', '> ME TT /b s "x"'],
      );
      assert.ok(out.some((l) => l === `> ${me} 00000001.00000002 /a i 1`));
      assert.deepEqual(
        out.filter((l) => l.startsWith('<')).map((l) => l.replace(new RegExp(`^< ${esc} ${stamp} `), '< ME TT ')),
        ['< ME TT /echo i 7', '< ME TT /echo i 1', '< ME TT /echo s "x"'],
      );
      assert.match(cli.stderr.text, new RegExp(`^\\+ ${esc} osc\\.udp://localhost:\\d+/$`, 'm'));
      process.kill(process.pid, 'SIGUSR1');
      await until(5000, 'the counters on SIGUSR1', () => cli.stderr.text.includes('forwarded='));
      assert.match(cli.stderr.text, /forwarded=2 forwardedBytes=\d+ returned=3 returnedBytes=\d+ clients=1 /);
      code = await cli.stop();
      await to.close();
    } finally {
      code ??= await cli.stop();
      await client.stop();
      await far.stop();
    }
    assert.equal(code, 0);
    assert.match(cli.stderr.text, new RegExp(`^- ${me.replace(/[./]/g, '\\$&')} stopped$`, 'm'));
    const last = lines(cli.stderr.text).at(-1) as string;
    assert.match(
      last,
      /^aiolo bridge: forwarded=2 forwardedBytes=\d+ returned=3 returnedBytes=\d+ clients=0 clientsTotal=1 evicted=0 refused=0 forwardFailed=0 returnFailed=0 overflowed=0 malformed=0 kernelDropped=\d+ lost=0 unlogged=0$/,
    );
    assert.equal(process.listenerCount('SIGUSR1'), 0, 'the SIGUSR1 handler is removed');
  });

  test('--json: the lines and the counters as JSON', { timeout: 30_000 }, async () => {
    const far = await echoServer();
    const farUrl = far.url;
    const cli = await running(['--verbose', '--json', `osc.tcp://${LOCAL}:0`, far.url]);
    const client = await new Server({ host: LOCAL, port: 0 }).start();
    let code: number | undefined;
    try {
      const to = client.address(cli.url);
      await to.send('/j', 5n);
      await until(5000, 'two lines', () => lines(cli.stdout.text).length >= 2);
      code = await cli.stop();
      await to.close();
    } finally {
      code ??= await cli.stop();
      await client.stop();
      await far.stop();
    }
    assert.equal(code, 0);
    const [out, back] = lines(cli.stdout.text).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.match(String(out?.client), /^osc\.tcp:\/\/127\.0\.0\.1:\d+\/$/);
    assert.deepEqual([out?.direction, out?.path, out?.args, out?.source], ['>', '/j', [['h', '5']], out?.client]);
    assert.deepEqual(
      [back?.direction, back?.client, back?.path, back?.args],
      ['<', out?.client, '/echo', [['h', '5']]],
    );
    assert.equal(back?.source, farUrl);
    const stats = JSON.parse(lines(cli.stderr.text).at(-1) as string) as Record<string, unknown>;
    assert.deepEqual(
      [stats.forwarded, stats.returned, stats.clientsTotal, stats.lost, stats.unlogged],
      [1, 1, 1, 0, 0],
    );
  });

  test('usage errors and a port in use exit 1', async () => {
    const usage = await aiolo(['bridge']);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /^Usage: aiolo bridge/);
    const unknown = await aiolo(['bridge', '--nope', 'osc.udp://:0', 'osc.udp://localhost:9']);
    assert.deepEqual([unknown.code, unknown.stderr], [1, "Unknown option `--nope'\n"]);
    const bad = await aiolo(['bridge', '--max-clients', '0', 'osc.udp://:0', 'osc.udp://localhost:9']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--max-clients takes a whole number/);
    const url = await aiolo(['bridge', 'osc.udp://:0', 'nonsense']);
    assert.equal(url.code, 1);
    assert.match(url.stderr, /^aiolo bridge: ERR_OSC_INVALID_URL /);
    const b = await bridge(`osc.udp://${LOCAL}:0`, 'osc.udp://localhost:9');
    try {
      const inUse = await aiolo(['bridge', b.url, 'osc.udp://localhost:9']);
      assert.equal(inUse.code, 1);
      assert.match(inUse.stderr, /^aiolo bridge: ERR_OSC_ADDRESS_IN_USE /);
    } finally {
      await b.stop();
    }
    const help = await aiolo(['--help']);
    assert.match(help.stdout.toString(), /aiolo bridge \.\.\./);
  });
});

// aiolo/browser in a real browser (Debian's chromium) over WebSocket: pages talking to a Node
// Server (each tab gets its own replies), to liblo through `aiolo bridge` both ways (oscdump prints
// what it prints for oscsend; a pyliblo echo answers the page), reconnecting after the server
// restarts, and a burst of 10,000 messages from a page arriving whole and in order.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Bridge, bridge, Server, type Started } from '../../src/index.js';
import { take, within } from '../helpers/async.js';
import { bundle, type Chromium, launchChromium, needBrowser, type OpenPage, openPage } from '../helpers/browser.js';
import { needPeer, OSCDUMP, OSCSEND, OSCSEND_ARGS, PYLIBLO } from '../helpers/peers.js';
import { Running, run } from '../helpers/proc.js';

type Aiolo = typeof import('../../src/browser/index.js');
type PageClient = InstanceType<Aiolo['Client']>;
/** What the pages keep between evaluations. */
interface PageGlobals {
  aiolo: Aiolo;
  osc: PageClient;
  got: unknown[];
}

const LOCAL = '127.0.0.1';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let chromium: Chromium | undefined;
let script = '';

describe('aiolo/browser over WebSocket, in chromium', () => {
  before(async () => {
    // the browser entry, as a bundler would take it: it must not pull in anything of Node's
    script = await bundle({
      contents: `import * as aiolo from './src/browser/index.ts'; (globalThis as { aiolo?: unknown }).aiolo = aiolo;`,
      resolveDir: ROOT,
    });
  });
  after(async () => {
    await chromium?.[Symbol.asyncDispose]();
  });

  /** A page with aiolo/browser loaded, and a Client in it connected to `url` (as `osc`). */
  async function page(t: { skip(m: string): void }, url: string): Promise<OpenPage> {
    chromium ??= await launchChromium();
    const p = await openPage({ chromium, scripts: { 'aiolo.js': script } });
    await p.evaluate(async (u) => {
      const g = globalThis as unknown as PageGlobals;
      g.osc = new g.aiolo.Client(u);
      g.got = [];
      await g.osc.open({ timeout: 5000 });
    }, url);
    void t;
    return p;
  }

  test('three tabs and a Server: each tab gets the replies to what it sent, and no other', async (t) => {
    if (!needBrowser(t)) return;
    const server = await new Server(`osc.ws://${LOCAL}:0/`).start();
    server.route('/who', 'i').on((args, m) => m.source.send('/you', args[0]), { onError: () => {} });
    const tabs: OpenPage[] = [];
    try {
      for (let i = 0; i < 3; i++) tabs.push(await page(t, server.url));
      assert.equal(server.stats.connections, 3);
      const rounds = 20;
      const replies = await Promise.all(
        tabs.map((tab, i) =>
          tab.evaluate(
            async ({ id, rounds }) => {
              const g = globalThis as unknown as PageGlobals;
              const sub = g.osc.route('/you', 'i').sub();
              const got: number[] = [];
              for (let r = 0; r < rounds; r++) await g.osc.send('/who', id * 1000 + r);
              for await (const [n] of sub) {
                got.push(n);
                if (got.length === rounds) break;
              }
              return got;
            },
            { id: i + 1, rounds },
          ),
        ),
      );
      for (const [i, got] of replies.entries()) {
        assert.deepEqual(
          got,
          Array.from({ length: rounds }, (_, r) => (i + 1) * 1000 + r),
          `tab ${i + 1}`,
        );
      }
      assert.equal(server.stats.dispatched, 3 * rounds);
    } finally {
      for (const tab of tabs) await tab.close();
      await server.stop();
    }
  });

  test('a bundle from the server is dispatched in the page at its timetag, never before', async (t) => {
    if (!needBrowser(t)) return;
    const server = await new Server(`osc.ws://${LOCAL}:0/`).start();
    const connected = new Promise<import('../../src/index.js').Address>((resolve) =>
      server.once('connection', resolve),
    );
    const tab = await page(t, server.url);
    try {
      const client = await within(5000, 'the connection', connected);
      const waiting = tab.evaluate(async () => {
        const g = globalThis as unknown as PageGlobals;
        const m = await g.osc.route('/at', 'fs').next({ incoming: true, timeout: 5000 });
        // the page's own clock at dispatch against the bundle's time
        return { late: g.aiolo.TimeTag.now().diff(m.timetag), args: m.args };
      });
      await tab.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0))); // the route exists
      const { TimeTag, Message } = await import('../../src/index.js');
      await client.bundle([new Message('/at', 0.5, 'later')], TimeTag.now().add(0.2));
      const { late, args } = await waiting;
      assert.deepEqual(args, [0.5, 'later']);
      assert.ok(late >= 0, `dispatched ${-late} s early`);
    } finally {
      await tab.close();
      await server.stop();
    }
  });

  test('after the server restarts, the page reconnects; what it sent meanwhile arrives', async (t) => {
    if (!needBrowser(t)) return;
    const first = await new Server(`osc.ws://${LOCAL}:0/`).start();
    const port = first.port;
    const tab = await page(t, first.url);
    let second: Started | undefined;
    try {
      await first.stop();
      const state = await tab.evaluate(async () => {
        const g = globalThis as unknown as PageGlobals;
        // wait for the close, then send while down: held until the next connection
        if (g.osc.state === 'open') await new Promise((resolve) => g.osc.on('close', () => resolve(undefined)));
        g.got.push(g.osc.send('/while-down', 7).then((n) => n));
        return g.osc.state;
      });
      assert.notEqual(state, 'open');
      second = await new Server(`osc.ws://${LOCAL}:${port}/`).start();
      const sub = second.route('/while-down', 'i').sub();
      assert.deepEqual(await take(sub, 1, 15_000), [[7]]);
      const reconnects = await tab.evaluate(async () => {
        const g = globalThis as unknown as PageGlobals;
        await Promise.all(g.got);
        return g.osc.stats.reconnects;
      });
      assert.ok(reconnects >= 1);
    } finally {
      await tab.close();
      await second?.stop();
      await first.stop();
    }
  });

  test('a burst of 10,000 messages from the page arrives whole and in order, directly and through the bridge', async (t) => {
    if (!needBrowser(t)) return;
    const n = 10_000;
    const server = await new Server({ url: `osc.tcp://${LOCAL}:0/` }).start();
    const direct = await new Server(`osc.ws://${LOCAL}:0/`).start();
    let b: Bridge | undefined;
    const tabs: OpenPage[] = [];
    try {
      b = await bridge(`osc.ws://${LOCAL}:0/`, server.url);
      for (const [name, target, url] of [
        ['directly', direct, direct.url],
        ['through the bridge', server, b.url],
      ] as const) {
        const sub = target.route('/n', 'i').sub({ overflow: 'pause' });
        const tab = await page(t, url);
        tabs.push(tab);
        const sent = tab.evaluate(async (count) => {
          const g = globalThis as unknown as PageGlobals;
          const sends: Promise<number>[] = [];
          for (let i = 0; i < count; i++) sends.push(g.osc.send('/n', i));
          await Promise.all(sends);
          return g.osc.stats.sent;
        }, n);
        const got: number[] = [];
        await within(
          30_000,
          `${n} messages ${name}`,
          (async () => {
            for await (const [i] of sub) {
              got.push(i);
              if (got.length === n) break;
            }
          })(),
        );
        assert.equal(await sent, n);
        assert.equal(got.length, n, name);
        assert.ok(
          got.every((v, i) => v === i),
          `${name}: out of order at ${got.findIndex((v, i) => v !== i)}`,
        );
      }
      assert.equal(b.stats.forwarded, n);
      assert.equal(b.stats.lost, 0);
    } finally {
      for (const tab of tabs) await tab.close();
      await b?.stop();
      await direct.stop();
      await server.stop();
    }
  });

  test('page → aiolo bridge → liblo’s oscdump prints what oscsend → oscdump prints', { timeout: 60_000 }, async (t) => {
    if (!needBrowser(t) || !needPeer(t, OSCSEND) || !needPeer(t, OSCDUMP)) return;
    const dump = new Running([OSCDUMP.command, '-L', '0']);
    let b: Bridge | undefined;
    let tab: OpenPage | undefined;
    try {
      const port = await dump.port('udp');
      const lines = () =>
        dump.stdout
          .toString()
          .split('\n')
          .filter((l) => l !== '');
      const oscsend = OSCSEND_ARGS; // the page sends the same messages, typed as oscsend types them
      for (const args of oscsend) assert.equal((await run([OSCSEND.command, LOCAL, String(port), ...args])).code, 0);
      const n = oscsend.length;
      await dump.until(() => lines().length >= n, `${n} lines from oscsend`);
      b = await bridge(`osc.ws://${LOCAL}:0/`, `osc.udp://${LOCAL}:${port}`);
      tab = await page(t, b.url);
      await tab.evaluate(async () => {
        const g = globalThis as unknown as PageGlobals;
        const { osc } = g;
        const { Char, Midi, OscSymbol } = g.aiolo;
        await osc.send({ path: '/t/i', typespec: 'iii' }, 42, -2147483648, 2147483647);
        await osc.send({ path: '/t/h', typespec: 'h' }, 9223372036854775807n);
        await osc.send({ path: '/t/fd', typespec: 'fd' }, 3.25, -0.1);
        await osc.send({ path: '/t/s', typespec: 'sS' }, 'hello world', new OscSymbol('sym'));
        await osc.send({ path: '/t/c', typespec: 'c' }, new Char('A'));
        await osc.send({ path: '/t/m', typespec: 'm' }, new Midi(0x90, 0x40, 0x3f, 0x7f));
        await osc.send({ path: '/t/tfni', typespec: 'TFNI' }, true, false, null, g.aiolo.INFINITUM);
        await osc.send('/t/empty');
      });
      await dump.until(() => lines().length >= 2 * n, `${n} lines through the bridge`);
      // the same lines but for each immediate message's time stamp (when oscdump printed it)
      const text = (l: string) => l.replace(/^[0-9a-f]{8}\.[0-9a-f]{8} /, '');
      assert.deepEqual(lines().slice(n).map(text), lines().slice(0, n).map(text));
      assert.equal(b.stats.forwarded, n);
    } finally {
      await tab?.close();
      await b?.stop();
      await dump.stop('SIGKILL');
    }
  });

  test('liblo answers the page through the bridge: a pyliblo echo’s replies reach the page that asked', async (t) => {
    if (!needBrowser(t) || !needPeer(t, PYLIBLO)) return;
    const echo = new Running([PYLIBLO.command, 'test/peers/pyliblo_echo.py']);
    let b: Bridge | undefined;
    const tabs: OpenPage[] = [];
    try {
      await echo.until(() => echo.stdout.includes('\n'), 'the pyliblo echo server to print its port');
      const port = Number(echo.stdout.toString().trim());
      b = await bridge(`osc.ws://${LOCAL}:0/`, `osc.udp://${LOCAL}:${port}`);
      for (let i = 0; i < 2; i++) tabs.push(await page(t, (b as Bridge).url));
      const replies = await Promise.all(
        tabs.map((tab, i) =>
          tab.evaluate(async (id) => {
            const g = globalThis as unknown as PageGlobals;
            const reply = await g.osc.request('/ping', [id, 'from the page'], {
              reply: { path: '/echo', typespec: 'is' },
              timeout: 5000,
            });
            return reply.args;
          }, i + 1),
        ),
      );
      assert.deepEqual(replies, [
        [1, 'from the page'],
        [2, 'from the page'],
      ]);
      assert.equal(b.stats.returned, 2);
    } finally {
      for (const tab of tabs) await tab.close();
      await b?.stop();
      await echo.stop('SIGKILL');
    }
  });
});

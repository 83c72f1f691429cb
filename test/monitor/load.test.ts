// aiolo monitor under load: another process sends 50,000 messages/s over UDP for 4 s (200
// addresses, after 3,000 one-off addresses that push the table past its 1,000 rows), while a page
// in chromium plots one of them. The page must go on updating during the load, show the load's
// rates and, once it is over, the monitor's final counters; the monitor's heap and RSS, as it
// reports them with every update, must stay under the bounds the README states.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { encodeMessage } from '../../src/index.js';
import type { Update } from '../../src/monitor/protocol.js';
import { within } from '../helpers/async.js';
import { needBrowser, withChromium } from '../helpers/browser.js';
import { Running } from '../helpers/proc.js';
import { portOf, startMonitorProcess } from './helpers.js';

/** The bounds the README states for the monitor at 50,000 messages/s (run from the sources, under tsx). */
const HEAP_BOUND = 64 * 1024 * 1024;
const RSS_BOUND = 256 * 1024 * 1024;
const RATE = 50_000;
const SECONDS = 4;
const ADDRESSES = 200;
const DISTINCT = 3000;

const MiB = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

test('aiolo monitor at 50,000 messages/s: the page keeps updating, memory stays bounded', {
  timeout: 180_000,
}, async (t) => {
  if (!needBrowser(t)) return;
  const monitor = await startMonitorProcess(['osc.udp://127.0.0.1:0']);
  const port = portOf(monitor.listening[0] as string);
  const wsUrl = `${monitor.page.replace(/^http/, 'ws')}ws`;
  const watcher = new WebSocket(wsUrl);
  const probe = createSocket('udp4');
  let sender: Running | undefined;
  let maxHeap = 0;
  let maxRss = 0;
  let watcherUpdates = 0;
  watcher.on('message', (data) => {
    const u = JSON.parse(String(data)) as Update;
    watcherUpdates++;
    maxHeap = Math.max(maxHeap, u.counters.heapUsed);
    maxRss = Math.max(maxRss, u.counters.rss);
  });
  try {
    await within(
      10_000,
      'the watcher to connect',
      new Promise((resolve, reject) => {
        watcher.once('open', resolve);
        watcher.once('error', reject);
      }),
    );
    await withChromium(async (chromium) => {
      const page = await chromium.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(monitor.page);
      await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'connected');
      // one message first, to plot its address through the load
      probe.send(encodeMessage('/load/0', 'fi', [0, 0]), port, '127.0.0.1');
      await page.locator('tr[data-path="/load/0"]').click({ timeout: 10_000 });
      await page.waitForSelector('.plot[data-path="/load/0"] canvas');

      const updatesBefore = Number(await page.locator('#c-updates').textContent());
      const watcherBefore = watcherUpdates;
      sender = new Running([
        process.execPath,
        '--import',
        'tsx',
        'test/monitor/load-sender.ts',
        String(port),
        String(RATE),
        String(SECONDS),
        String(ADDRESSES),
        String(DISTINCT),
      ]);
      const s = sender;
      const sent = s
        .until(() => /sent \d+/.test(s.stdout.toString()) || s.child.exitCode !== null, 'the sender to finish', 60_000)
        .then(() => Number(/sent (\d+)/.exec(s.stdout.toString())?.[1]));
      // while the load runs, the page shows it: a load address at thousands of messages/s... (200
      // addresses share 50,000/s: 250/s each when the monitor keeps up)
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('tr[data-path="/load/1"]')?.dataset.rate) > 50,
        undefined,
        { timeout: 60_000 },
      );
      const total = await sent;
      assert.equal(total, RATE * SECONDS + DISTINCT, `the sender: ${s.stderr}`);
      const updatesDuring = Number(await page.locator('#c-updates').textContent()) - updatesBefore;
      const watcherDuring = watcherUpdates - watcherBefore;
      // ...and it went on updating through it (10 Hz: about 10 per second of load; far fewer would
      // mean the monitor's event loop was starved, or the page's)
      assert.ok(updatesDuring >= 2 * SECONDS, `the page updated ${updatesDuring} times during ${SECONDS} s of load`);
      assert.ok(watcherDuring >= 2 * SECONDS, `the watcher got ${watcherDuring} updates during the load`);

      // once the load is over, the page converges on the monitor's own counters
      await page.waitForFunction(
        async () => {
          const s = (await (await fetch('/stats.json')).json()) as { packets: number };
          const shown = Number(document.querySelector('#c-packets')?.textContent?.replaceAll(',', ''));
          return s.packets > 0 && shown === s.packets;
        },
        undefined,
        { timeout: 30_000, polling: 200 },
      );
      const stats = (await (await fetch(`${monitor.page}stats.json`)).json()) as Update['counters'];
      // every datagram was read or counted as dropped by the kernel (loopback loses nothing else)
      assert.equal(stats.packets + (stats.kernelDropped ?? 0), total + 1);
      // the table stayed within its bound, the oldest rows evicted
      assert.ok(stats.rows <= 1000, `${stats.rows} rows`);
      assert.ok(stats.rowsEvicted > 0, 'rows were evicted');
      const shownRows = await page.locator('#rows tr').count();
      assert.equal(shownRows, stats.rows);
      const points = await page.evaluate(() =>
        (globalThis as unknown as { aioloMonitor: { plotPoints(p: string): number } }).aioloMonitor.plotPoints(
          '/load/0',
        ),
      );
      assert.ok(points > 10 && points <= 20_000, `the plot holds ${points} points`);
      t.diagnostic(
        `sent ${total} in ${SECONDS} s; read ${stats.packets}, kernel dropped ${stats.kernelDropped}, monitor dropped ${stats.dropped}; ` +
          `page updates during the load ${updatesDuring}; max heap ${MiB(maxHeap)}, max RSS ${MiB(maxRss)}; rows ${stats.rows}, evicted ${stats.rowsEvicted}; plot points ${points}`,
      );
      assert.ok(maxHeap > 0 && maxHeap <= HEAP_BOUND, `heap reached ${MiB(maxHeap)} (bound ${MiB(HEAP_BOUND)})`);
      assert.ok(maxRss > 0 && maxRss <= RSS_BOUND, `RSS reached ${MiB(maxRss)} (bound ${MiB(RSS_BOUND)})`);
      assert.deepEqual(errors, []);
    });
  } finally {
    watcher.terminate();
    probe.close();
    await sender?.stop('SIGKILL').catch(() => undefined);
    await monitor.proc.stop('SIGKILL').catch(() => undefined);
  }
});

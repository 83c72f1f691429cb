// aiolo monitor in headless chromium: liblo's oscsend and oscsendfile send to it over UDP and TCP;
// the page shows the latest values and rates, filters the log, pauses and clears it, plots a row,
// counts a malformed datagram. A screenshot is saved to test-artifacts/monitor.png (git-ignored);
// AIOLO_DOCS_SCREENSHOT=1 also writes docs-assets/monitor.png, the README's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { TimeTag } from '../../src/index.js';
import { needBrowser, withChromium } from '../helpers/browser.js';
import { needPeer, OSCSEND } from '../helpers/peers.js';
import { ROOT } from '../helpers/proc.js';
import { portOf, startMonitorProcess } from './helpers.js';

const run = promisify(execFile);
const ARTIFACT = join(ROOT, 'test-artifacts', 'monitor.png');
const DOCS_ASSET = join(ROOT, 'docs-assets', 'monitor.png');

async function oscsend(...args: string[]): Promise<void> {
  await run('oscsend', args, { timeout: 10_000 });
}

/** The text of a cell of the row of `path` (`args`, `count`, `rate`, `source`, `types`), or null. */
function cell(page: Page, path: string, column: string): Promise<string | null> {
  return page.evaluate(
    ([p, c]) => document.querySelector(`tr[data-path="${CSS.escape(p as string)}"] td.${c}`)?.textContent ?? null,
    [path, column],
  );
}

async function waitCell(page: Page, path: string, column: string, expected: string): Promise<void> {
  try {
    await page.waitForFunction(
      ([p, c, e]) =>
        document.querySelector(`tr[data-path="${CSS.escape(p as string)}"] td.${c}`)?.textContent === (e as string),
      [path, column, expected],
      { timeout: 10_000 },
    );
  } catch (err) {
    throw new Error(`${path} ${column}: expected ${expected}, shows ${await cell(page, path, column)}`, {
      cause: err,
    });
  }
}

const logText = (page: Page): Promise<string> => page.evaluate(() => document.querySelector('#log')?.textContent ?? '');

test('aiolo monitor: latest values, rates, filter, pause, plots and malformed packets in the page', {
  timeout: 120_000,
}, async (t) => {
  if (!needPeer(t, OSCSEND) || !needBrowser(t)) return;
  const monitor = await startMonitorProcess(['osc.udp://127.0.0.1:0', 'osc.tcp://127.0.0.1:0']);
  const [udpUrl, tcpUrl] = monitor.listening as [string, string];
  assert.match(udpUrl, /^osc\.udp:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(tcpUrl, /^osc\.tcp:\/\/127\.0\.0\.1:\d+\/$/);
  const udpPort = String(portOf(udpUrl));
  const dir = await mkdtemp(join(tmpdir(), 'aiolo-monitor-'));
  const garbage = createSocket('udp4');
  try {
    await withChromium(async (chromium) => {
      const page = await chromium.context.newPage();
      await page.setViewportSize({ width: 1280, height: 860 });
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(monitor.page);
      await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'connected');

      // latest values, over UDP and TCP, in aiolo dump's format
      await oscsend('127.0.0.1', udpPort, '/synth/freq', 'f', '440.5');
      await oscsend('127.0.0.1', udpPort, '/synth/freq', 'f', '441.25');
      await oscsend('127.0.0.1', udpPort, '/synth/gate', 'is', '1', 'on');
      await oscsend(tcpUrl, '/tcp/v', 'ih', '7', '9000000000');
      await waitCell(page, '/synth/freq', 'count', '2');
      await waitCell(page, '/synth/freq', 'args', '441.250000');
      assert.equal(await cell(page, '/synth/freq', 'types'), 'f');
      assert.match((await cell(page, '/synth/freq', 'source')) ?? '', /^udp osc\.udp:\/\/127\.0\.0\.1:\d+\/$/);
      await waitCell(page, '/synth/gate', 'args', '1 "on"');
      await waitCell(page, '/tcp/v', 'args', '7 9000000000');
      assert.match((await cell(page, '/tcp/v', 'source')) ?? '', /^tcp osc\.tcp:\/\//);
      const log = await logText(page);
      assert.match(log, /udp osc\.udp:\/\/127\.0\.0\.1:\d+\/ [0-9a-f]{8}\.[0-9a-f]{8} \/synth\/freq f 441\.250000/);
      assert.match(log, /tcp osc\.tcp:\/\/\S+ [0-9a-f]{8}\.[0-9a-f]{8} \/tcp\/v ih 7 9000000000/);

      // a rate: 50 messages at once (oscsendfile: one timetag for all), all within the last second
      const now = TimeTag.now().toString();
      const burst = Array.from({ length: 50 }, (_, i) => `${now} /burst i ${i}\n`).join('');
      await writeFile(join(dir, 'burst.txt'), burst);
      await run('oscsendfile', ['127.0.0.1', udpPort, join(dir, 'burst.txt')], { timeout: 10_000 });
      await waitCell(page, '/burst', 'count', '50');
      await waitCell(page, '/burst', 'args', '49');
      // messages/s over the last second: the 50 are in it for about a second (the page updates at 10 Hz)
      await page.waitForFunction(
        () => {
          const r = Number(document.querySelector<HTMLElement>('tr[data-path="/burst"]')?.dataset.rate);
          return r >= 45 && r <= 51;
        },
        undefined,
        { timeout: 10_000 },
      );
      // ...and falls to 0 once they are older than a second
      await waitCell(page, '/burst', 'rate', '0.0');

      // the filter: an OSC address pattern, applied by the monitor
      await page.locator('#filter').fill('/synth/{freq,after}');
      await page.waitForFunction(
        () => document.querySelector<HTMLInputElement>('#filter')?.dataset.applied === '/synth/{freq,after}',
      );
      await page.locator('#clear').click();
      assert.equal(await logText(page), '');
      await oscsend('127.0.0.1', udpPort, '/other/y', 'i', '1');
      await oscsend('127.0.0.1', udpPort, '/synth/gate', 'is', '0', 'off');
      await oscsend('127.0.0.1', udpPort, '/synth/after', 'i', '5');
      await page.waitForFunction(() => document.querySelector('#log')?.textContent?.includes('/synth/after i 5'));
      await waitCell(page, '/other/y', 'count', '1'); // the table is not filtered
      const filtered = await logText(page);
      assert.doesNotMatch(filtered, /\/other\/y/);
      assert.doesNotMatch(filtered, /\/synth\/gate/);
      // a pattern that is not one says why
      await page.locator('#filter').fill('/a[');
      await page.waitForFunction(() => (document.querySelector('#filter-error')?.textContent ?? '') !== '');
      await page.locator('#filter').fill('');
      await page.waitForFunction(() => document.querySelector<HTMLInputElement>('#filter')?.dataset.applied === '');

      // pause: the table goes on, the log does not; resume and clear
      await page.locator('#pause').click();
      await oscsend('127.0.0.1', udpPort, '/while/paused', 'i', '1');
      await waitCell(page, '/while/paused', 'count', '1');
      assert.doesNotMatch(await logText(page), /\/while\/paused/);
      await page.locator('#pause').click();
      await oscsend('127.0.0.1', udpPort, '/after/resume', 'i', '2');
      await page.waitForFunction(() => document.querySelector('#log')?.textContent?.includes('/after/resume i 2'));

      // a plot: click a numeric row; values sent afterwards are plotted
      await page.locator('tr[data-path="/synth/freq"]').click();
      await page.waitForSelector('.plot[data-path="/synth/freq"] canvas');
      for (const v of ['442', '450.5', '445', '460']) await oscsend('127.0.0.1', udpPort, '/synth/freq', 'f', v);
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { aioloMonitor: { plotPoints(p: string): number } }).aioloMonitor.plotPoints(
            '/synth/freq',
          ) >= 4,
      );
      await waitCell(page, '/synth/freq', 'args', '460.000000');
      assert.equal(await page.locator('tr[data-path="/synth/freq"].plotted').count(), 1);
      // a row of strings only is not plotted
      await oscsend('127.0.0.1', udpPort, '/label', 's', 'hello');
      await waitCell(page, '/label', 'args', '"hello"');
      await page.locator('tr[data-path="/label"]').click();
      assert.equal(await page.locator('.plot[data-path="/label"]').count(), 0);

      // a malformed datagram: counted, its error shown
      await new Promise<void>((resolve, reject) =>
        garbage.send(Buffer.from('not OSC at all'), portOf(udpUrl), '127.0.0.1', (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      await page.waitForFunction(() => document.querySelector('#c-malformed')?.textContent === '1');
      assert.match(
        (await page.locator('#malformed-last').textContent()) ?? '',
        /latest malformed: ERR_OSC_\w+ .* from osc\.udp:\/\/127\.0\.0\.1:\d+\//,
      );
      // packets: 2 + 1 + 1 (TCP) + 50 burst messages (bundles) + ... ; messages as sent
      assert.notEqual(await page.locator('#c-messages').textContent(), '0');

      await mkdir(join(ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: ARTIFACT });
      if (process.env.AIOLO_DOCS_SCREENSHOT === '1') {
        await mkdir(join(ROOT, 'docs-assets'), { recursive: true });
        await page.screenshot({ path: DOCS_ASSET });
      }
      assert.deepEqual(errors, []);
    });
    // SIGINT: exits 0, counters on stderr
    const exit = await monitor.proc.stop('SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(monitor.proc.stderr, /aiolo monitor: packets=\d+ messages=\d+ malformed=1 /);
  } finally {
    garbage.close();
    await monitor.proc.stop('SIGKILL').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

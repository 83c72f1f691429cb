// examples/browser runs as the README says (`npm run example:browser`): its first line is the page's
// URL; in two tabs of chromium, moving one tab's slider moves the other's readout, through the Node
// server (which sends every /fader to every tab), and a UDP address given as OSC_FORWARD gets it too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Server } from '../../src/index.js';
import { take } from '../helpers/async.js';
import { needBrowser, withChromium } from '../helpers/browser.js';
import { Running } from '../helpers/proc.js';

test('examples/browser: a slider in one tab moves the readout of another', { timeout: 60_000 }, async (t) => {
  if (!needBrowser(t)) return;
  const synth = await new Server({ url: 'osc.udp://127.0.0.1:0' }).start();
  const example = new Running([process.execPath, '--import', 'tsx', 'examples/browser/server.ts'], {
    PORT: '0',
    OSC_FORWARD: synth.url,
  });
  try {
    await example.until(() => example.stdout.includes('\n'), 'the example to print its URL', 30_000);
    const url = example.stdout.toString().split('\n')[0] as string;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await withChromium(async (chromium) => {
      const [a, b] = [await chromium.context.newPage(), await chromium.context.newPage()];
      const errors: string[] = [];
      for (const p of [a, b]) {
        p.on('pageerror', (err) => errors.push(err.message));
        await p.goto(url);
        await p.waitForFunction(() => document.querySelector('#status')?.textContent === 'connected');
      }
      const forwarded = take(synth.route('/fader', 'f').sub(), 1, 10_000);
      await a.locator('#fader').fill('0.25'); // an input event, as a drag makes
      await b.waitForFunction(() => document.querySelector<HTMLOutputElement>('#value')?.value === '0.250');
      assert.equal(await b.locator('#fader').inputValue(), '0.25');
      assert.deepEqual(await forwarded, [[0.25]]);
      assert.deepEqual(errors, []);
    });
  } finally {
    await example.stop();
    await synth.stop();
  }
});

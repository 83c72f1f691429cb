// npm run example:browser — serves the page (index.html, and page.ts built for the browser by
// esbuild) and an OSC server over WebSocket at /osc on the same port. Every /fader a tab sends goes
// to every tab, and to an optional UDP address (OSC_FORWARD=osc.udp://localhost:57120) — a synth.
//   PORT=8080 (default; 0 for any free port)
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { Address, Server } from '../../src/index.js';

const here = new URL('.', import.meta.url);
const bundled = await build({
  entryPoints: [new URL('page.ts', here).pathname],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
});
const pageJs = bundled.outputFiles[0]?.contents ?? new Uint8Array(0);
const html = readFileSync(new URL('index.html', here));

const http = createServer((req, res) => {
  if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
  } else if (req.url === '/page.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(pageJs);
  } else {
    res.writeHead(404).end();
  }
});
await new Promise<void>((resolve) => http.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', resolve));

const osc = await new Server({ httpServer: http, path: '/osc' }).start();
const tabs = new Map<string, Address>();
osc.on('connection', (tab) => tabs.set(tab.url, tab));
osc.on('disconnect', (tab) => tabs.delete(tab.url));
const forward = process.env.OSC_FORWARD === undefined ? undefined : new Address(process.env.OSC_FORWARD);

osc.route('/fader', 'f').on(async ([value]) => {
  // every tab, the sender too (its readout shows what the server has); a tab gone meanwhile is skipped
  await Promise.allSettled([...tabs.values()].map((tab) => tab.send('/fader', value)));
  await forward?.send('/fader', value);
});

// the first line is where to point a browser
console.log(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`);
const stop = async () => {
  await osc.stop();
  await forward?.close();
  http.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

// Part of `npm run build` (after tsc): writes the monitor's page into dist/monitor/page/ — index.html,
// monitor.js (the page's script with uPlot bundled in, by esbuild) and monitor.css (uPlot's) — so
// that `aiolo monitor` from the package serves it without esbuild, which is a devDependency.
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { buildPage } from '../src/monitor/assets.js';

const out = new URL('../dist/monitor/page/', import.meta.url);
await mkdir(out, { recursive: true });
const { js, css } = await buildPage();
await writeFile(new URL('monitor.js', out), js);
await writeFile(new URL('monitor.css', out), css);
await copyFile(new URL('../src/monitor/page/index.html', import.meta.url), new URL('index.html', out));
// tsc compiled the page's source there too: the bundle replaces it
for (const f of ['main.js', 'main.d.ts']) await rm(new URL(f, out), { force: true });
console.log(`monitor page: dist/monitor/page/ (monitor.js ${js.length} bytes, monitor.css ${css.length} bytes)`);

// npm run size: what each OSC library costs a browser page, minified and gzipped, as a markdown
// table. Every row goes through the same steps: esbuild (minify, format esm, platform browser,
// target es2022), then node:zlib gzip at level 9.
//
// aiolo's entry points are bundled from source (all their exports kept). The other libraries ship
// prebuilt browser scripts that cannot be bundled for the browser as they are (osc.js's CommonJS
// entry and osc-js's UMD `require` Node modules), so their unminified browser builds are minified
// by esbuild the same way; the files they ship minified themselves are listed too, for reference.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));
const version = (pkg: string): string =>
  (JSON.parse(readFileSync(root(`node_modules/${pkg}/package.json`), 'utf8')) as { version: string }).version;

const ESBUILD: esbuild.BuildOptions = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  logLevel: 'silent',
};

interface Row {
  readonly name: string;
  readonly what: string;
  readonly bytes?: Uint8Array;
  readonly note?: string;
}

/** Bundles a TypeScript entry point of this repo; refuses Node built-ins like any browser bundle. */
async function bundleSource(entry: string): Promise<Uint8Array> {
  const result = await esbuild.build({ ...ESBUILD, entryPoints: [entry], outdir: 'out' });
  const js = result.outputFiles?.find((f) => f.path.endsWith('.js'));
  if (js === undefined) throw new Error(`esbuild produced no JavaScript for ${entry}`);
  return js.contents;
}

/** Minifies a prebuilt browser script the same way (it has no imports to bundle). */
async function minifyScript(file: string): Promise<Uint8Array> {
  const result = await esbuild.transform(readFileSync(file, 'utf8'), {
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    loader: 'js',
  });
  return new TextEncoder().encode(result.code);
}

async function rows(): Promise<Row[]> {
  const out: Row[] = [];
  out.push({
    name: 'aiolo/codec',
    what: 'src/codec/index.ts, bundled',
    bytes: await bundleSource(root('src/codec/index.ts')),
  });
  const browser = root('src/browser/index.ts');
  out.push(
    existsSync(browser)
      ? { name: 'aiolo/browser', what: 'src/browser/index.ts, bundled', bytes: await bundleSource(browser) }
      : { name: 'aiolo/browser', what: 'src/browser/index.ts', note: 'not written yet: skipped' },
  );
  const osc = `osc.js ${version('osc')}`;
  out.push({
    name: osc,
    what: 'dist/osc-browser.js (its browser build: codec, SLIP, WebSocket port, with Long, slip and EventEmitter inlined), minified by esbuild',
    bytes: await minifyScript(root('node_modules/osc/dist/osc-browser.js')),
  });
  out.push({
    name: osc,
    what: 'dist/osc.js (the codec alone; int64 needs Long besides), minified by esbuild',
    bytes: await minifyScript(root('node_modules/osc/dist/osc.js')),
  });
  out.push({
    name: osc,
    what: 'dist/osc-browser.min.js, as shipped',
    bytes: readFileSync(root('node_modules/osc/dist/osc-browser.min.js')),
  });
  const oscJs = `osc-js ${version('osc-js')}`;
  out.push({
    name: oscJs,
    what: 'lib/osc.js (UMD: codec, event API and all its plugins — WebSocket client, and UDP, bridge and WebSocket server, which need Node), minified by esbuild',
    bytes: await minifyScript(root('node_modules/osc-js/lib/osc.js')),
  });
  out.push({
    name: oscJs,
    what: 'lib/osc.min.js (its "browser" entry), as shipped',
    bytes: readFileSync(root('node_modules/osc-js/lib/osc.min.js')),
  });
  return out;
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

const table = ['| library | what is measured | minified | min + gzip -9 |', '|---|---|--:|--:|'];
for (const row of await rows()) {
  if (row.bytes === undefined) {
    table.push(`| ${row.name} | ${row.what} — ${row.note ?? 'missing'} | – | – |`);
    continue;
  }
  const gz = gzipSync(row.bytes, { level: 9 }).length;
  table.push(`| ${row.name} | ${row.what} | ${kib(row.bytes.length)} | **${kib(gz)}** (${gz} B) |`);
}
console.log(table.join('\n'));

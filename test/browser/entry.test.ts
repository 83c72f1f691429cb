// The browser entry stays a browser entry: bundled for the browser, nothing of Node comes in; and
// its published declarations compile without @types/node, against the DOM's own WebSocket.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test('aiolo/browser bundles for the browser with nothing of Node', async () => {
  const result = await build({
    entryPoints: [join(ROOT, 'src/browser/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  assert.deepEqual(result.warnings, []);
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.includes('src/server/dispatcher.ts'), `bundled the dispatch core (${inputs.length} files)`);
  const node = inputs.filter((f) => !/^src\/(codec|server|transport|address|browser)\/[\w-]+\.ts$/.test(f));
  assert.deepEqual(node, [], 'only aiolo sources, no node: module or package');
  const js = result.outputFiles[0]?.text ?? '';
  assert.doesNotMatch(js, /\brequire\(|from\s*["']node:/);
  // the Node-only files of the layers it borrows from never come in
  for (const file of ['src/server/server.ts', 'src/address/address.ts', 'src/transport/stream.ts']) {
    assert.ok(!inputs.includes(file), `${file} is not in the bundle`);
  }
});

test('an entry that imports Node fails the same check', async () => {
  await assert.rejects(
    build({
      stdin: { contents: "export * from './src/server/server.ts';", resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    }),
    /node:/,
  );
});

test("the browser entry's declarations compile with types: [] and the DOM library", () => {
  const out = mkdtempSync(join(tmpdir(), 'aiolo-browser-dts-'));
  try {
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    execFileSync(tsc, ['-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--outDir', join(out, 'dist')], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    writeFileSync(join(out, 'package.json'), '{ "type": "module" }');
    writeFileSync(
      join(out, 'use.ts'),
      [
        "import { Client, TimeTag } from './dist/browser/index.js';",
        "const osc = new Client('/osc', { WebSocket });",
        "const fader = osc.route('/fader', 'f');",
        'export const v: Promise<[number]> = fader.next();',
        'export const sent: Promise<number> = osc.bundle([], TimeTag.now().add(0.1));',
      ].join('\n'),
    );
    writeFileSync(
      join(out, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          exactOptionalPropertyTypes: true,
          types: [],
          lib: ['ES2022', 'DOM', 'ESNext.Disposable'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
        },
        files: ['use.ts'],
      }),
    );
    let output = '';
    try {
      execFileSync(tsc, ['-p', join(out, 'tsconfig.json')], { cwd: out, encoding: 'utf8' });
    } catch (err) {
      output = String((err as { stdout?: unknown }).stdout);
    }
    assert.equal(output, '', 'the declarations need nothing of Node');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

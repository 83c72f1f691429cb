// The codec is its own entry point (`aiolo/codec`) with no Node.js imports, so a browser bundle
// never reaches node:dgram; and `aiolo` re-exports all of it.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as codec from '../../src/codec/index.js';
import * as aiolo from '../../src/index.js';

const CODEC_DIR = fileURLToPath(new URL('../../src/codec/', import.meta.url));

test('src/codec imports nothing from Node.js and nothing outside src/codec', async () => {
  const files = (await readdir(CODEC_DIR)).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10);
  for (const file of files) {
    const source = await readFile(join(CODEC_DIR, file), 'utf8');
    const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
    for (const s of specifiers) {
      assert.ok(s.startsWith('./'), `${file} imports ${s}`);
    }
    assert.ok(!/\brequire\s*\(|\bprocess\.\w|\bBuffer\.\w/.test(text), `${file} uses a Node.js global`);
  }
});

test('aiolo re-exports every codec export', () => {
  for (const name of Object.keys(codec)) {
    assert.equal((aiolo as Record<string, unknown>)[name], (codec as Record<string, unknown>)[name], name);
  }
});

// The published declarations expose only what a user may call (issue 13): builds the `.d.ts` files
// as `npm run build` does, follows the imports from the package's entry points (the files a user's
// compiler reads), and fails if
// - an implementation class (RouteImpl, SubscriptionImpl...) is named in any of them: they live in
//   files of their own that no public declaration imports;
// - a class or interface the package exports declares an internal member (`push`, `deliver`...).
// Members keyed by a symbol the package does not export (`[SERVER_LINK]`) cannot be called by a user
// and are not looked at; nor are the members of types the package does not export by name.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The entry points of package.json's "exports". */
const ENTRIES = ['index.d.ts', 'codec/index.d.ts', 'browser/index.d.ts'];
/** Members only aiolo's own code may call (routes and servers, subscriptions and merge). */
const INTERNAL_MEMBERS = [
  'push',
  'take',
  'end',
  'notify',
  'claim',
  'headSeq',
  'deliver',
  'serving',
  'dropListeners',
  'errorListeners',
  'segments',
];
/** Implementation classes: never named by a public declaration. */
const INTERNAL_CLASSES = ['RouteImpl', 'SubscriptionImpl', 'IncomingRecord', 'OneShot'];

let out = '';

/** The names the entry points export (`export { A, type B } from`, `export declare class C`...). */
function exportedNames(files: Map<string, string>): Set<string> {
  const names = new Set<string>();
  for (const entry of ENTRIES) {
    const text = files.get(join(out, entry)) ?? '';
    for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
      for (const part of (m[1] ?? '').split(',')) {
        const name = part
          .replace(/^\s*type\s+/, '')
          .split(/\s+as\s+/)
          .pop()
          ?.trim();
        if (name) names.add(name);
      }
    }
    for (const m of text.matchAll(
      /export\s+(?:declare\s+)?(?:abstract\s+)?(?:class|interface|const|function|type)\s+(\w+)/g,
    )) {
      names.add(m[1] as string);
    }
  }
  return names;
}

/** The declaration files a user's compiler reads: the entries and what they import, transitively. */
function reachable(): Map<string, string> {
  const files = new Map<string, string>();
  const queue = ENTRIES.map((e) => join(out, e));
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    files.set(file, text);
    for (const m of text.matchAll(/\bfrom\s+'(\.[^']+)\.js'|import\('(\.[^']+)\.js'\)/g)) {
      queue.push(resolve(dirname(file), `${m[1] ?? m[2]}.d.ts`));
    }
  }
  return files;
}

describe('published declarations', () => {
  before(() => {
    out = mkdtempSync(join(tmpdir(), 'aiolo-dts-'));
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    execFileSync(tsc, ['-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--outDir', out], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  test('no internal member or implementation class in the public types', () => {
    const files = reachable();
    assert.ok(files.size > 10, `followed the imports of ${files.size} files`);
    const publicNames = exportedNames(files);
    assert.ok(publicNames.has('Route') && publicNames.has('Subscription'), 'read the entry points');
    const member = new RegExp(
      String.raw`^\s+(?:(?:readonly|get|set|static|protected|public)\s+)*(${INTERNAL_MEMBERS.join('|')})\??\s*[(:<]`,
    );
    const impl = new RegExp(String.raw`\b(${INTERNAL_CLASSES.join('|')})\b`);
    // a top-level class or interface, whose members follow indented
    const block = /^(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(?:class|interface)\s+(\w+)/;
    const leaks: string[] = [];
    for (const [file, text] of files) {
      let owner = '';
      text.split('\n').forEach((line, i) => {
        const starts = block.exec(line);
        if (starts !== null) owner = starts[1] as string;
        else if (!/^\s/.test(line)) owner = '';
        const where = `${file.slice(out.length + 1)}:${i + 1}`;
        if (impl.test(line)) leaks.push(`${where}: ${line.trim()}`);
        else if (publicNames.has(owner) && member.test(line)) leaks.push(`${where} (${owner}): ${line.trim()}`);
      });
    }
    assert.deepEqual(leaks, [], `internals in the published declarations:\n${leaks.join('\n')}`);
  });

  test('no public declaration imports a package whose types a user would not have', () => {
    // dependencies without types of their own (their @types are aiolo's devDependencies): a user's
    // compiler that reached an import of one would fail (TS7016) unless the user installed its types
    const untyped =
      /\bfrom\s+'(ws|multicast-dns|dns-packet|unix-dgram)'|import\('(ws|multicast-dns|dns-packet|unix-dgram)'\)/;
    const leaks: string[] = [];
    for (const [file, text] of reachable()) {
      const m = untyped.exec(text);
      if (m !== null) leaks.push(`${file.slice(out.length + 1)}: ${m[1] ?? m[2]}`);
    }
    assert.deepEqual(leaks, []);
    // and the check would see one: these files do import them, and no entry reaches them
    assert.match(readFileSync(join(out, 'oscquery/mdns.d.ts'), 'utf8'), untyped);
    assert.match(readFileSync(join(out, 'transport/ws.d.ts'), 'utf8'), untyped);
  });

  test('the check sees a leak: the implementation files would fail it', () => {
    const impl = readFileSync(join(out, 'server/subscription-impl.d.ts'), 'utf8');
    assert.match(impl, /^\s+push\(/m);
    assert.match(readFileSync(join(out, 'server/route-impl.d.ts'), 'utf8'), /^\s+deliver\(/m);
  });
});

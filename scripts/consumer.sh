#!/bin/sh
# npm run test:package: the package as a user gets it. Packs aiolo (prepack builds it), installs
# the tarball into a fresh project in a temporary directory, and there: imports it as ESM, requires
# it as CommonJS, type-checks a TypeScript file against it with @types/node (and shows that without
# @types/node the check fails), and runs the `aiolo` bin. Needs the npm cache or the registry for
# typescript and @types/node (the versions this repository uses). Exits non-zero on any failure.
# KEEP=1 keeps the project directory.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d /tmp/consumer-XXXXXX)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$DIR"' EXIT; fi
TS_VERSION=$(node -p "require('$ROOT/node_modules/typescript/package.json').version")
TYPES_VERSION=$(node -p "require('$ROOT/node_modules/@types/node/package.json').version")

step() { printf '\n== %s\n' "$*"; }

step "npm pack"
(cd "$ROOT" && npm pack --silent --pack-destination "$DIR" >/dev/null)
TARBALL=$(ls "$DIR"/aiolo-0*.tgz)
# the optional native UDP path is a package of its own (native/), installed beside aiolo as it would
# be from the registry, and compiled there by its install script
(cd "$ROOT/native" && npm pack --silent --pack-destination "$DIR" >/dev/null)
NATIVE_TARBALL=$(ls "$DIR"/aiolo-native-*.tgz)
tar -tzf "$TARBALL" | sort >"$DIR/contents.txt"
grep -qx 'package/LICENSE' "$DIR/contents.txt"
grep -qx 'package/dist/index.js' "$DIR/contents.txt"
grep -qx 'package/dist/index.d.ts' "$DIR/contents.txt"
grep -qx 'package/dist/codec/index.js' "$DIR/contents.txt"
grep -qx 'package/dist/browser/index.js' "$DIR/contents.txt"
grep -qx 'package/dist/monitor/page/monitor.js' "$DIR/contents.txt"
! grep -q '\.map$' "$DIR/contents.txt"
! grep -q '^package/\(src\|test\|bench\|scripts\)/' "$DIR/contents.txt"
echo "$(wc -l <"$DIR/contents.txt") files: LICENSE, README.md, package.json, dist/ (no maps, no sources)"

cd "$DIR"
cat >package.json <<'EOF'
{ "name": "consumer", "version": "1.0.0", "private": true }
EOF
step "npm install the tarballs (aiolo, aiolo-native), typescript@$TS_VERSION, @types/node@$TYPES_VERSION"
npm install --no-audit --no-fund --prefer-offline "$TARBALL" "$NATIVE_TARBALL" "typescript@$TS_VERSION" "@types/node@$TYPES_VERSION" >/dev/null

step "ESM: import 'aiolo', 'aiolo/codec' and 'aiolo/browser'; a message to a server and back"
cat >esm.mjs <<'EOF'
import { Address, Message, Server, encode } from 'aiolo';
import { decode } from 'aiolo/codec';
import { Client } from 'aiolo/browser';
if (typeof Client !== 'function') throw new Error('aiolo/browser');
const bytes = encode(Message.typed('/esm', 'is', 1, 'x'));
if (decode(bytes).path !== '/esm') throw new Error('codec');
const server = new Server({ host: '127.0.0.1' });
await server.start();
const sub = server.route('/esm', 'i').sub();
const a = new Address({ url: server.url });
await a.send('/esm', 42);
for await (const [n] of sub) {
  if (n !== 42) throw new Error(`got ${n}`);
  break;
}
await a.close();
await server.stop();
console.log('esm ok');
EOF
node esm.mjs
step "the same on each UDP path: the compiled native one (AIOLO_NATIVE=1 fails if it is not there) and node:dgram"
AIOLO_NATIVE=1 node esm.mjs
AIOLO_NATIVE=0 node esm.mjs

step "CommonJS: require('aiolo') (require of ESM, Node >= 20.19)"
cat >cjs.cjs <<'EOF'
const { Message, encode, TimeTag } = require('aiolo');
const { decode } = require('aiolo/codec');
const m = decode(encode(Message.typed('/cjs', 'h', 7n)));
if (m.args[0] !== 7n || !(TimeTag.now() instanceof TimeTag)) throw new Error('cjs');
console.log('cjs ok');
EOF
node cjs.cjs

step "TypeScript: tsc --noEmit (strict, NodeNext) with @types/node"
cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "types": ["node"]
  },
  "files": ["main.ts"]
}
EOF
cat >main.ts <<'EOF'
import { Address, Server, type OscArg } from 'aiolo';
import { encode, Message } from 'aiolo/codec';

const server = new Server({ proto: 'tcp', port: 0 });
const foo = server.route('/foo', 'hd');
export async function run(): Promise<void> {
  await server.start();
  for await (const [big, x] of foo.sub()) {
    const sum: bigint = big + 1n; // h is a bigint
    const half: number = x / 2; // d is a number
    console.log(sum, half);
    break;
  }
  const a = new Address({ url: server.url as string });
  const args: OscArg[] = [1, 'two'];
  await a.send('/bar', ...args);
  await a.send(foo, 1n, 2.5);
  // @ts-expect-error: the route's typespec 'hd' wants a bigint first
  await a.send(foo, 'one', 2.5);
}
export const bytes: Uint8Array = encode(Message.typed('/x', 'i', 1));
EOF
npx tsc -p tsconfig.json
echo "tsc ok"

step "TypeScript without @types/node: the declarations need it"
if npx tsc -p tsconfig.json --types '' >tsc-no-types.txt 2>&1; then
  echo "tsc passed without @types/node: the README's note would be wrong" >&2
  exit 1
fi
echo "fails as documented: $(grep -c 'error' tsc-no-types.txt) errors, e.g. $(grep -m1 -o "error TS[0-9]*: .*" tsc-no-types.txt | cut -c1-100)"

step "the aiolo bin"
test "$(npx --no-install aiolo --version)" = "$(node -p "require('aiolo/package.json').version")"
npx --no-install aiolo send - /bin i 1 | od -An -tx1 | tr -d ' \n' | grep -qx '2f62696e000000002c69000000000001'
echo "aiolo --version and aiolo send ok"

printf '\nthe package works as installed (%s)\n' "$DIR"

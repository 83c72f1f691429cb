// Differential: a generated set of messages serialised by liblo's own `oscsend - PATH TYPES ARGS`
// (which writes the packet to stdout) must equal aiolo's encoding byte for byte, and decode to the
// values that were asked for.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Char, decode, encode, INFINITUM, Message, Midi, type OscArg, OscSymbol } from '../../src/index.js';
import { hex } from '../helpers/hex.js';
import { needPeer, OSCSEND } from '../helpers/peers.js';
import { Random } from '../helpers/random.js';

const run = promisify(execFile);
const COUNT = 400;
const OSCSEND_TAGS = 'ihfdsScmTFNI';

interface Case {
  readonly argv: string[];
  readonly message: Message;
}

/** strtof/strtod spellings JavaScript's Number() does not read. */
function cNumber(text: string): number {
  const t = text.toLowerCase();
  if (t === 'inf' || t === 'infinity') return Number.POSITIVE_INFINITY;
  if (t === '-inf' || t === '-infinity') return Number.NEGATIVE_INFINITY;
  if (t === 'nan') return Number.NaN;
  return Number(text);
}

const FLOAT_SPELLINGS = ['0', '-0', '1', '-1.5', 'inf', '-inf', 'nan', '3.4e38', '1e-7', '123456789', '1e-46', '0.1'];
const TEXT = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,;:!?"\'#$%&()*+/<=>@[]^`{|}~';
const UNICODE = ['é', 'ü', '日本', '🎛', 'Ω'];

function generate(r: Random): Case {
  const path = `/${Array.from({ length: r.int(1, 4) }, () => r.string(r.int(1, 9), 'abcdefghijklmnopqrstuvwxyz0123456789_')).join('/')}`;
  const n = r.int(0, 8);
  let tags = '';
  const argv: string[] = [];
  const args: OscArg[] = [];
  for (let k = 0; k < n; k++) {
    const tag = r.pick([...OSCSEND_TAGS]);
    tags += tag;
    switch (tag) {
      case 'i': {
        const v = r.bool(0.1) ? r.pick([-2147483648, 2147483647, 0, -1]) : r.int(-2147483648, 2147483647);
        argv.push(String(v));
        args.push(v);
        break;
      }
      case 'h': {
        const v = r.bool(0.1)
          ? r.pick([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n])
          : BigInt.asIntN(64, (BigInt(r.uint32()) << 32n) | BigInt(r.uint32()));
        argv.push(String(v));
        args.push(v);
        break;
      }
      case 'f':
      case 'd': {
        const text = r.bool(0.3)
          ? r.pick(FLOAT_SPELLINGS)
          : r.bool(0.5)
            ? ((r.next() - 0.5) * 10 ** r.int(-3, 8)).toFixed(r.int(0, 6))
            : `${((r.next() - 0.5) * 20).toFixed(r.int(1, 4))}e${r.int(-30, 30)}`;
        argv.push(text);
        args.push(cNumber(text));
        break;
      }
      case 's':
      case 'S': {
        const text = r.bool(0.2) ? r.pick(UNICODE) + r.string(r.int(0, 3), TEXT) : r.string(r.int(0, 13), TEXT);
        argv.push(text);
        args.push(tag === 's' ? text : new OscSymbol(text));
        break;
      }
      case 'c': {
        const ch = r.string(1, TEXT);
        argv.push(ch);
        args.push(new Char(ch));
        break;
      }
      case 'm': {
        const b = r.bytes(4);
        argv.push(hex(b));
        args.push(new Midi(b[0] as number, b[1] as number, b[2] as number, b[3] as number));
        break;
      }
      case 'T':
        args.push(true);
        break;
      case 'F':
        args.push(false);
        break;
      case 'N':
        args.push(null);
        break;
      case 'I':
        args.push(INFINITUM);
        break;
    }
  }
  const cmd = n === 0 && r.bool() ? [path] : [path, tags, ...argv];
  return { argv: cmd, message: Message.typed(path, tags, ...args) };
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** Runs `oscsend - ARGV` for every case from one shell script (spawning from Node is the slow part). */
async function oscsendAll(cases: readonly Case[]): Promise<Uint8Array[]> {
  const dir = await mkdtemp(join(tmpdir(), 'aiolo-oscsend-'));
  try {
    const script = cases
      .map((c, i) => `${OSCSEND.command} - ${c.argv.map(shellQuote).join(' ')} > ${i}.bin || exit 1`)
      .join('\n');
    await writeFile(join(dir, 'run.sh'), `set -e\ncd ${shellQuote(dir)}\n${script}\n`);
    await run('sh', [join(dir, 'run.sh')]);
    return await Promise.all(cases.map(async (_c, i) => new Uint8Array(await readFile(join(dir, `${i}.bin`)))));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('aiolo encodes exactly as liblo’s oscsend', () => {
  test(`${COUNT} generated messages over i h f d s S c m T F N I`, async (t) => {
    if (!needPeer(t, OSCSEND)) return;
    const r = new Random();
    const cases = Array.from({ length: COUNT }, () => generate(r));
    const outputs = await oscsendAll(cases);
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i] as Case;
      const lo = outputs[i] as Uint8Array;
      const what = `oscsend - ${c.argv.map((a) => JSON.stringify(a)).join(' ')} ${r.replay}`;
      assert.equal(hex(encode(c.message)), hex(lo), what);
      const back = decode(lo);
      assert.ok(back instanceof Message && back.equals(c.message), `decoded ${String(back)}: ${what}`);
    }
  });

  test('edge values: int32/int64 limits, -0, inf, nan, empty and non-ASCII strings', async (t) => {
    if (!needPeer(t, OSCSEND)) return;
    const argv = [
      '/edge',
      'iihhffffddsSsc',
      '-2147483648',
      '2147483647',
      '-9223372036854775808',
      '9223372036854775807',
    ];
    argv.push('-0', 'inf', 'nan', '3.4e38', '-0', '1e300', '', 'sym', 'héllo 日本', 'é');
    const { stdout } = await run(OSCSEND.command, ['-', ...argv], { encoding: 'buffer' });
    const m = Message.typed(
      '/edge',
      'iihhffffddsSsc',
      -2147483648,
      2147483647,
      -(2n ** 63n),
      2n ** 63n - 1n,
      -0,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      3.4e38,
      -0,
      1e300,
      '',
      new OscSymbol('sym'),
      'héllo 日本',
      new Char(0xc3), // oscsend sends the first byte of the UTF-8
    );
    assert.equal(hex(encode(m)), hex(new Uint8Array(stdout)));
  });
});

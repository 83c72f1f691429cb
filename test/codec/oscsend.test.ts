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
import { type Random, seeded } from '../helpers/random.js';

const run = promisify(execFile);
const COUNT = 400;
const OSCSEND_TAGS = 'ihfdsScmTFNI';

interface Case {
  readonly argv: string[];
  readonly message: Message;
  /** What oscsend prints on stderr when it refuses this case (see `refusal`); undefined if it accepts it. */
  readonly refused: string | undefined;
}

const INT64_LIMITS = ['9223372036854775807', '-9223372036854775808'];

/**
 * Whether glibc's strtof (`f`) or strtod (`d`) sets errno to ERANGE for `text`: on overflow to
 * infinity, and on underflow — a nonzero value in the subnormal range (or flushed to zero) that
 * is not exact. The generator's spellings are decimal, and none of them is an exact subnormal, so
 * "tiny and nonzero" is "tiny and inexact" here.
 */
function setsErange(tag: 'f' | 'd', text: string): boolean {
  if (/^[-+]?(inf|infinity|nan)$/i.test(text)) return false; // spelled out: exact
  const x = cNumber(text);
  // a mantissa with a nonzero digit that came out as zero underflowed all the way
  if (x === 0) return /^[-+]?(0x[0.]*[1-9a-f]|[0.]*[1-9])/i.test(text);
  const v = tag === 'f' ? Math.fround(x) : x;
  if (!Number.isFinite(v)) return true; // overflow
  return Math.abs(x) < (tag === 'f' ? 2 ** -126 : 2 ** -1022);
}

/**
 * liblo 0.31's oscsend never resets errno, and checks an int64 with
 * `(v == LONG_MAX || v == LONG_MIN) && errno == ERANGE`: once a float or double argument has set
 * ERANGE (1e-46 as f underflows), a later h argument at exactly INT64_MAX or INT64_MIN is refused
 * as out of range (`oscsend - /x fh 1e-46 9223372036854775807`). An i argument cannot reach
 * LONG_MAX without being out of int32's range anyway. Returns oscsend's stderr for such a case.
 */
function refusal(tags: string, values: readonly (string | undefined)[]): string | undefined {
  let erange = false;
  for (let k = 0; k < tags.length; k++) {
    const tag = tags[k] as string;
    const text = values[k] as string;
    if (tag === 'f' || tag === 'd') erange ||= setsErange(tag, text);
    if (tag === 'h' && erange && INT64_LIMITS.includes(text)) {
      return `Value out of range: '${text}'\nFailed to create OSC message.\n`;
    }
  }
  return undefined;
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
  const values: (string | undefined)[] = []; // the argument text for each tag (none for T F N I)
  for (let k = 0; k < n; k++) {
    const tag = r.pick([...OSCSEND_TAGS]);
    tags += tag;
    values[k] = undefined;
    switch (tag) {
      case 'i': {
        const v = r.bool(0.1) ? r.pick([-2147483648, 2147483647, 0, -1]) : r.int(-2147483648, 2147483647);
        argv.push(String(v));
        values[k] = String(v);
        args.push(v);
        break;
      }
      case 'h': {
        const v = r.bool(0.1)
          ? r.pick([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n])
          : BigInt.asIntN(64, (BigInt(r.uint32()) << 32n) | BigInt(r.uint32()));
        argv.push(String(v));
        values[k] = String(v);
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
        values[k] = text;
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
  return { argv: cmd, message: Message.typed(path, tags, ...args), refused: refusal(tags, values) };
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

interface Output {
  readonly status: number;
  readonly stdout: Uint8Array;
  readonly stderr: string;
}

/** Runs `oscsend - ARGV` for every case from one shell script (spawning from Node is the slow part). */
async function oscsendAll(cases: readonly Case[]): Promise<Output[]> {
  const dir = await mkdtemp(join(tmpdir(), 'aiolo-oscsend-'));
  try {
    const script = cases
      .map(
        (c, i) => `${OSCSEND.command} - ${c.argv.map(shellQuote).join(' ')} > ${i}.bin 2> ${i}.err; echo $? > ${i}.rc`,
      )
      .join('\n');
    await writeFile(join(dir, 'run.sh'), `cd ${shellQuote(dir)} || exit 1\n${script}\n`);
    await run('sh', [join(dir, 'run.sh')]);
    return await Promise.all(
      cases.map(async (_c, i) => ({
        status: Number(await readFile(join(dir, `${i}.rc`), 'utf8')),
        stdout: new Uint8Array(await readFile(join(dir, `${i}.bin`))),
        stderr: await readFile(join(dir, `${i}.err`), 'utf8'),
      })),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('aiolo encodes exactly as liblo’s oscsend', () => {
  test(
    `${COUNT} generated messages over i h f d s S c m T F N I`,
    seeded(async (r, t) => {
      if (!needPeer(t, OSCSEND)) return;
      const cases = Array.from({ length: COUNT }, () => generate(r));
      const outputs = await oscsendAll(cases);
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i] as Case;
        const out = outputs[i] as Output;
        const what = `oscsend - ${c.argv.map((a) => JSON.stringify(a)).join(' ')} ${r.replay}`;
        if (c.refused !== undefined) {
          // liblo's quirk (see refusal): oscsend is wrong here, and is expected to be
          assert.deepEqual([out.status, out.stderr, out.stdout.length], [1, c.refused, 0], what);
          continue;
        }
        assert.deepEqual([out.status, out.stderr], [0, ''], what);
        assert.equal(hex(encode(c.message)), hex(out.stdout), what);
        const back = decode(out.stdout);
        assert.ok(back instanceof Message && back.equals(c.message), `decoded ${String(back)}: ${what}`);
      }
    }),
  );

  test('oscsend’s sticky ERANGE: an int64 limit after a float that under- or overflowed is refused', async (t) => {
    if (!needPeer(t, OSCSEND)) return;
    const cases: [string, string, ...string[]][] = [
      ['/x', 'fh', '1e-46', '9223372036854775807'],
      ['/x', 'fh', '1e-45', '-9223372036854775808'], // subnormal and inexact: ERANGE too
      ['/x', 'fih', '3.5e38', '5', '9223372036854775807'], // overflow to inf
      ['/x', 'dh', '1e-400', '9223372036854775807'],
      ['/x', 'fh', '1e-46', '9223372036854775806'], // not a limit: accepted
      ['/x', 'hf', '9223372036854775807', '1e-46'], // the limit before the float: accepted
      ['/x', 'fh', '1e-38', '1'],
      ['/x', 'fh', 'inf', '9223372036854775807'], // inf spelled out is exact: accepted
      ['/x', 'fh', '0e-50', '-9223372036854775808'], // zero is exact: accepted
    ];
    for (const [path, tags, ...values] of cases) {
      const argv = [path, tags, ...values];
      const want = refusal(tags, values);
      const got = await run(OSCSEND.command, ['-', ...argv], { encoding: 'buffer' }).then(
        ({ stdout, stderr }) => ({ status: 0, stdout, stderr: stderr.toString() }),
        (err: { code: number; stdout: Buffer; stderr: Buffer }) => ({
          status: err.code,
          stdout: err.stdout,
          stderr: err.stderr.toString(),
        }),
      );
      assert.deepEqual(
        [got.status, got.stderr],
        want === undefined ? [0, ''] : [1, want],
        `oscsend - ${argv.join(' ')}`,
      );
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

// aiolo query, in-process, against the fixture OSCQuery server: the text format line by line,
// --json, and the errors (exit code 1, one line on stderr with the code).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aiolo } from '../helpers/io.js';
import { fixture, type Json, type OscQueryFixture } from '../helpers/oscq-fixture.js';

const TREE: Json = {
  FULL_PATH: '/',
  CONTENTS: {
    avatar: {
      FULL_PATH: '/avatar',
      ACCESS: 0,
      CONTENTS: {
        change: { FULL_PATH: '/avatar/change', TYPE: 's', ACCESS: 3, VALUE: ['avtr_0001'] },
        parameters: {
          FULL_PATH: '/avatar/parameters',
          CONTENTS: {
            Speed: {
              FULL_PATH: '/avatar/parameters/Speed',
              TYPE: 'f',
              ACCESS: 3,
              VALUE: [0.5],
              RANGE: [{ MIN: 0, MAX: 1 }],
              UNIT: ['speed.m/s'],
              DESCRIPTION: 'how "fast"',
            },
            Grounded: { FULL_PATH: '/avatar/parameters/Grounded', TYPE: 'T', ACCESS: 1, VALUE: [false] },
            Mode: {
              FULL_PATH: '/avatar/parameters/Mode',
              TYPE: 'i',
              ACCESS: 3,
              VALUE: [2],
              RANGE: { VALS: [0, 1, 2] },
            },
          },
        },
      },
    },
    pos: {
      FULL_PATH: '/pos',
      TYPE: 'ffh',
      ACCESS: 2,
      VALUE: [null, 1.5, '9007199254740993'],
      RANGE: [null, { MIN: -1 }, { MAX: 10 }],
      CLIPMODE: 'both',
      TAGS: ['xyz'],
      CRITICAL: true,
    },
    odd: { FULL_PATH: '/odd', TYPE: 'i', ACCESS: 7 },
  },
};

async function withFixture(body: (f: OscQueryFixture) => Promise<void>): Promise<void> {
  const f = await fixture({
    tree: TREE,
    hostInfo: (port) => ({ NAME: 'fixture', OSC_IP: '0.0.0.0', OSC_PORT: 9000, OSC_TRANSPORT: 'UDP', WS_PORT: port }),
  });
  try {
    await body(f);
  } finally {
    await f.stop();
  }
}

test('aiolo query prints one node per line, indented, with its attributes', async () => {
  await withFixture(async (f) => {
    const { code, stdout, stderr } = await aiolo(['query', f.url]);
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout.toString(),
      [
        `# ${f.url}/ name="fixture" osc=osc.udp://127.0.0.1:9000/ ws=ws://127.0.0.1:${f.port}/`,
        '/',
        '  avatar/ -',
        '    change ,s rw = "avtr_0001"',
        '    parameters/',
        '      Speed ,f rw = 0.5 range=0..1 unit=speed.m/s desc="how \\"fast\\""',
        '      Grounded ,T r = false',
        '      Mode ,i rw = 2 range={0|1|2}',
        '  pos ,ffh w = - 1.5 9007199254740993 range=-,-1..,..10 clip=both,both,both tags=xyz critical',
        '  odd ,i',
        '',
      ].join('\n'),
    );
    assert.equal(stderr, '/odd: ACCESS 7 is not 0, 1, 2 or 3; left out\n'.replace(/^/, 'aiolo query: warning: '));
  });
});

test('aiolo query host:port/path prints that subtree', async () => {
  await withFixture(async (f) => {
    const { code, stdout } = await aiolo(['query', `127.0.0.1:${f.port}/avatar/parameters`]);
    assert.equal(code, 0);
    const lines = stdout.toString().split('\n');
    assert.deepEqual(lines.slice(1), [
      '/avatar/parameters',
      '  Speed ,f rw = 0.5 range=0..1 unit=speed.m/s desc="how \\"fast\\""',
      '  Grounded ,T r = false',
      '  Mode ,i rw = 2 range={0|1|2}',
      '',
    ]);
  });
});

test('aiolo query --json prints the parsed namespace', async () => {
  await withFixture(async (f) => {
    const { code, stdout } = await aiolo(['query', '--json', f.url]);
    assert.equal(code, 0);
    const doc = JSON.parse(stdout.toString());
    assert.equal(doc.url, `${f.url}/`);
    assert.equal(doc.osc, 'osc.udp://127.0.0.1:9000/');
    assert.equal(doc.hostInfo.NAME, 'fixture');
    assert.equal(doc.hostInfo.WS_PORT, f.port);
    assert.deepEqual(doc.warnings, ['/odd: ACCESS 7 is not 0, 1, 2 or 3; left out']);
    assert.deepEqual(doc.root.CONTENTS.pos, {
      FULL_PATH: '/pos',
      TYPE: 'ffh',
      ACCESS: 2,
      VALUE: [null, 1.5, '9007199254740993'],
      RANGE: [null, { MIN: -1, MAX: null }, { MIN: null, MAX: '10' }],
      TAGS: ['xyz'],
      CLIPMODE: ['both', 'both', 'both'],
      CRITICAL: true,
    });
    assert.deepEqual(doc.root.CONTENTS.avatar.CONTENTS.parameters.CONTENTS.Mode.RANGE, [
      { MIN: null, MAX: null, VALS: [0, 1, 2] },
    ]);
  });
});

test('aiolo query: errors exit 1 with the code', async () => {
  await withFixture(async (f) => {
    const missing = await aiolo(['query', `${f.url}/nowhere`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^aiolo query: GET .*\/nowhere: HTTP 404 Not Found \[ERR_OSC_QUERY_HTTP\]\n$/);
    assert.equal(missing.stdout.length, 0);
    const bad = await aiolo(['query', `${f.url}/bad-json`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\[ERR_OSC_QUERY_INVALID\]\n$/);
  });
  // (a service name is looked up over mDNS: tested inside a network namespace, test/oscquery/vrchat.test.ts)
  const usage = await aiolo(['query']);
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /^Usage: aiolo query/);
  const help = await aiolo(['query', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout.toString(), /one node per line/);
  const option = await aiolo(['query', '--frobnicate', 'x:1']);
  assert.equal(option.code, 1);
  assert.match(option.stderr, /unknown option '--frobnicate'/);
  const timeout = await aiolo(['query', '--timeout', 'soon', 'x:1']);
  assert.equal(timeout.code, 1);
});

// liblo's URL forms (reference A.3), parsed and formatted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, formatUrl, OscConfigError, parseUrl, Server } from '../../src/index.js';

describe('URLs', () => {
  const cases: [string, string, string | undefined, number | undefined, string | undefined][] = [
    ['osc.udp://localhost:9999/a/path', 'udp', 'localhost', 9999, undefined],
    ['osc.udp://127.0.0.1:9999', 'udp', '127.0.0.1', 9999, undefined],
    ['osc.tcp://localhost:7000/', 'tcp', 'localhost', 7000, undefined],
    ['osc.udp://:9000', 'udp', undefined, 9000, undefined],
    ['osc.udp://localhost/', 'udp', 'localhost', undefined, undefined],
    ['osc.udp://[::1]:9999/', 'udp', '::1', 9999, undefined],
    ['osc.udp://[::ffff:127.0.0.1]:1/', 'udp', '::ffff:127.0.0.1', 1, undefined],
    ['osc.unix:///tmp/sock', 'unix', undefined, undefined, '/tmp/sock'],
    ['osc.unix:///tmp/sock/', 'unix', undefined, undefined, '/tmp/sock'],
    ['osc.unix://localhost/tmp/sock', 'unix', 'localhost', undefined, '/tmp/sock'],
    ['osc.unix:////tmp/probe3.sock', 'unix', undefined, undefined, '/tmp/probe3.sock'], // liblo's server URL
    ['osc://localhost:1234/', 'udp', 'localhost', 1234, undefined], // liblo assumes UDP
    ['osc.sctp://localhost:1/', 'sctp', 'localhost', 1, undefined], // parses; using it fails
  ];
  for (const [url, proto, host, port, path] of cases) {
    test(url, () => {
      assert.deepEqual(parseUrl(url), { proto, host, port, path });
    });
  }

  test('malformed URLs throw OscConfigError saying what to use', () => {
    for (const url of [
      'udp://localhost:1',
      'osc.://localhost/',
      'http://x',
      'osc.udp://host:port/',
      'osc.udp://h:99999',
      'osc.udp://::1:5/',
      'osc.udp://[::1/',
      'osc.unix://',
      'osc.unix:///',
    ]) {
      assert.throws(
        () => parseUrl(url),
        (e: unknown) =>
          e instanceof OscConfigError && e.code === 'ERR_OSC_INVALID_URL' && /osc\.udp:\/\/host:port/.test(e.message),
        url,
      );
    }
  });

  test('formatting, as lo_address_get_url', () => {
    assert.equal(formatUrl('tcp', 'foo.example.com', 9999), 'osc.tcp://foo.example.com:9999/');
    assert.equal(formatUrl('udp', '::1', 5), 'osc.udp://[::1]:5/');
    assert.equal(formatUrl('unix', undefined, undefined, '/tmp/x'), 'osc.unix:///tmp/x');
    assert.equal(new Address({ url: 'osc.tcp://foo.example.com:9999' }).url, 'osc.tcp://foo.example.com:9999/');
    assert.equal(new Address({ port: 9000 }).url, 'osc.udp://localhost:9000/');
    assert.equal(new Address({ host: '::1', port: '9000', proto: 'tcp' }).url, 'osc.tcp://[::1]:9000/');
  });

  test('Address options: conflicts and missing parts throw at construction', () => {
    const bad: unknown[] = [
      { url: 'osc.udp://h:1', port: 1 },
      { url: 'osc.udp://h:1', host: 'x' },
      { url: 'osc.udp://h' }, // no port
      {},
      { host: 'x' },
      { port: 1, proto: 'sctp' },
      { port: -1 },
    ];
    for (const target of bad) assert.throws(() => new Address(target as never), OscConfigError, JSON.stringify(target));
    assert.throws(() => new Address({ port: 1 }, { slip: true }), OscConfigError); // SLIP is for TCP
  });
});

describe('Address interfaces (Python aiolo test 8, on loopback)', () => {
  test("iface and ip pick a UDP address's multicast interface; anything else throws at construction", () => {
    assert.equal(new Address({ port: 9000 }, { iface: 'lo' }).proto, 'udp');
    assert.equal(new Address({ port: 9000 }, { ip: '127.0.0.1' }).proto, 'udp');
    for (const [target, options] of [
      [{ port: 9000 }, { iface: 'foobar0' }],
      [{ port: 9000 }, { ip: '203.0.113.77' }], // no interface here has it
      [{ port: 9000 }, { ip: 'foo.bar' }],
      [{ port: 9000, proto: 'tcp' }, { iface: 'lo' }],
      [{ url: 'osc.unix:///tmp/x' }, { iface: 'lo' }],
    ] as const) {
      assert.throws(() => new Address(target, options), OscConfigError, JSON.stringify([target, options]));
    }
  });
});

describe('plain JavaScript callers', () => {
  test('new Server(url) takes the URL as Python aiolo’s url= does', async () => {
    const server = new Server('osc.udp://127.0.0.1:0');
    await server.start();
    try {
      assert.equal(server.proto, 'udp');
      assert.match(server.url as string, /^osc\.udp:\/\/127\.0\.0\.1:\d+\/$/);
      assert.notEqual(server.port, 0);
    } finally {
      await server.stop();
    }
    assert.throws(() => new Server(5 as never), OscConfigError);
  });

  test('an unknown option name throws OscConfigError naming the nearest one', () => {
    const unknown = (options: object, nearest: string | undefined) =>
      assert.throws(
        () => new Server(options as never),
        (e: unknown) =>
          e instanceof OscConfigError &&
          e.code === 'ERR_OSC_INVALID_OPTIONS' &&
          (nearest === undefined ? !/did you mean/.test(e.message) : e.message.includes(`did you mean ${nearest}?`)),
      );
    unknown({ recvBufSize: 1 << 20 }, 'recvBufferSize');
    unknown({ maxconnections: 4 }, 'maxConnections');
    unknown({ protocol: 'tcp' }, 'proto');
    unknown({ colour: 'blue' }, undefined);
  });
});

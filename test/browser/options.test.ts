// The browser Client's URL forms and options: its limits default to the Server's (which this
// entry cannot import), and what it cannot use throws at construction.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_REQUEST_TIMEOUT as ADDRESS_REQUEST_TIMEOUT } from '../../src/address/address.js';
import { Client } from '../../src/browser/client.js';
import * as browser from '../../src/browser/options.js';
import { websocketUrl } from '../../src/browser/url.js';
import * as server from '../../src/server/options.js';
import { DEFAULT_MAX_WRITE_BUFFER } from '../../src/transport/stream.js';

describe('browser Client options', () => {
  test('the dispatch limits default to the Server’s, the write buffer to TCP’s', () => {
    assert.equal(browser.DEFAULT_MAX_WRITE_BUFFER, DEFAULT_MAX_WRITE_BUFFER);
    assert.equal(browser.DEFAULT_REQUEST_TIMEOUT, ADDRESS_REQUEST_TIMEOUT);
    const c = browser.configure({ WebSocket: class {} as never });
    const s = server.configure({});
    for (const key of ['queue', 'coerce', 'maxPacketSize', 'maxDepth', 'extendedTypes', 'maxQueued'] as const) {
      assert.equal(c[key], s[key], key);
    }
    assert.equal(c.maxQueuedBytes, s.maxQueuedBytes);
    assert.equal(c.maxPatternSteps, s.maxPatternSteps);
    assert.equal(c.maxScheduleAhead, s.maxScheduleAhead);
    assert.deepEqual(c.backoff, { initialDelay: 250, maxDelay: 10_000, jitter: 0.5, minUptime: 5000 });
    assert.equal(c.maxSendQueueBytes, 1024 * 1024);
  });

  test('wrong options throw at construction, naming what to do', () => {
    const WebSocket = class {} as never;
    assert.throws(() => new Client('ws://h/', { WebSocket, maxSendQueueBytes: -1 }), {
      code: 'ERR_OSC_INVALID_OPTIONS',
    });
    assert.throws(() => new Client('ws://h/', { WebSocket, reconnect: { maxDelay: 1, initialDelay: 5 } }), {
      code: 'ERR_OSC_INVALID_OPTIONS',
    });
    assert.throws(() => new Client('ws://h/', { WebSocket, reconnect: { jitter: 2 } }), {
      code: 'ERR_OSC_INVALID_OPTIONS',
    });
    assert.throws(() => new Client('ws://h/', { WebSocket, maxWriteBufer: 1 } as never), {
      code: 'ERR_OSC_INVALID_OPTIONS',
      message: /did you mean maxWriteBuffer/,
    });
    assert.throws(() => new Client('osc.udp://h:9000/', { WebSocket }), { code: 'ERR_OSC_INVALID_URL' });
  });

  test('URL forms: ws, wss, osc.ws, http(s), and a path against the page', () => {
    assert.equal(websocketUrl('ws://localhost:8080/'), 'ws://localhost:8080/');
    assert.equal(websocketUrl('wss://example.org/osc'), 'wss://example.org/osc');
    assert.equal(websocketUrl('osc.ws://127.0.0.1:9000/path?x=1'), 'ws://127.0.0.1:9000/path?x=1');
    assert.equal(websocketUrl('osc.wss://[::1]:9000/'), 'wss://[::1]:9000/');
    assert.equal(websocketUrl('https://example.org/osc'), 'wss://example.org/osc');
    assert.throws(() => websocketUrl('/osc'), { code: 'ERR_OSC_INVALID_URL', message: /relative/ });
    assert.throws(() => websocketUrl('ws://h/#frag'), { code: 'ERR_OSC_INVALID_URL' });
    assert.throws(() => websocketUrl(''), { code: 'ERR_OSC_INVALID_URL' });
    const g = globalThis as { location?: unknown };
    try {
      g.location = { href: 'https://example.org/app/index.html' };
      assert.equal(websocketUrl('/osc'), 'wss://example.org/osc');
      assert.equal(websocketUrl('osc'), 'wss://example.org/app/osc');
      g.location = { href: 'http://127.0.0.1:8080/' };
      assert.equal(websocketUrl('/osc'), 'ws://127.0.0.1:8080/osc');
    } finally {
      delete g.location;
    }
  });
});

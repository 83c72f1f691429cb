// Unix datagram sockets (osc.unix://), through the optional unix-dgram addon: the socket file is
// owner-only by default and removed on stop; a stale file left by a dead process is replaced.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Address, decode, encode, Message, SendError, Server, StartError } from '../../src/index.js';
import { unixAvailable } from '../../src/transport/unix.js';
import { take, within } from '../helpers/async.js';
import { IN_CI } from '../helpers/peers.js';

const available = unixAvailable();
const skip =
  available || IN_CI
    ? false
    : 'the optional package unix-dgram is not installed or did not build: npm install unix-dgram';

describe('Unix datagram sockets', { skip }, () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aiolo-unix-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('unix-dgram is available (CI installs and builds it)', () => {
    assert.ok(available, 'unix-dgram did not load');
  });

  test('a server at a path, an address that sends to it; the file is owner-only and removed on stop', async () => {
    const path = join(dir, 'a.sock');
    const server = new Server({ url: `osc.unix://${path}` });
    await server.start();
    const a = new Address({ url: `osc.unix://${path}` });
    try {
      assert.equal(server.proto, 'unix');
      assert.equal(server.url, `osc.unix://${path}`);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const sub = server.route('/u', 'is').sub({ incoming: true });
      assert.equal(await a.send('/u', 42, 'x'), 16);
      const [m] = await take(sub, 1);
      assert.deepEqual(m?.args, [42, 'x']);
      // an unbound Unix sender has no address to reply to (as in liblo)
      await assert.rejects(
        m?.source.send('/r') as Promise<number>,
        (e: unknown) => e instanceof SendError && e.code === 'ERR_OSC_NO_REPLY_PATH',
      );
    } finally {
      await a.close();
      await server.stop();
    }
    assert.equal(existsSync(path), false);
  });

  test('a socket path in a directory that does not exist: the StartError says so', async () => {
    const server = new Server({ url: 'osc.unix:///no/such/dir/x.sock' });
    await assert.rejects(
      server.start(),
      (e: unknown) =>
        e instanceof StartError &&
        e.code === 'ERR_OSC_START_FAILED' &&
        /the directory \/no\/such\/dir does not exist/.test(e.message),
    );
  });

  test('the port-as-path and proto forms (Python aiolo tests 1 and 3), and socketMode', async () => {
    for (const server of [
      new Server({ port: join(dir, 'b.sock') }),
      new Server({ proto: 'unix', port: join(dir, 'c.sock'), socketMode: 0o660 }),
    ]) {
      await server.start();
      assert.equal(server.proto, 'unix');
      if (server.path?.endsWith('c.sock')) assert.equal(statSync(server.path).mode & 0o777, 0o660);
      await server.stop();
    }
  });

  test('a burst larger than the kernel queue (10 datagrams) all arrives: the sender waits, not drops', async () => {
    const path = join(dir, 'burst.sock');
    const server = new Server({ port: path });
    await server.start();
    const a = new Address({ url: `osc.unix://${path}` });
    try {
      const sub = server.route('/b', 'i').sub({ highWaterMark: 500 });
      await Promise.all(Array.from({ length: 200 }, (_, i) => a.send('/b', i)));
      const got = await take(sub, 200);
      // in order too: a send waiting out a full queue is not overtaken by a later one
      assert.deepEqual(
        got.map((x) => x[0]),
        Array.from({ length: 200 }, (_, i) => i),
      );
    } finally {
      await a.close();
      await server.stop();
    }
  });

  test('a stale socket file is replaced; a live one is ERR_OSC_ADDRESS_IN_USE; a plain file is refused', async () => {
    const path = join(dir, 'stale.sock');
    const first = new Server({ port: path });
    await first.start();
    const second = new Server({ port: path });
    await assert.rejects(
      second.start(),
      (e: unknown) => e instanceof StartError && e.code === 'ERR_OSC_ADDRESS_IN_USE',
    );
    // simulate a crash: the socket closes but its file stays
    await first.stop();
    const { default: dgram } = await import('node:module').then((m) => ({
      default: m.createRequire(import.meta.url)('unix-dgram'),
    }));
    const leftover = dgram.createSocket('unix_dgram');
    leftover.bind(path);
    leftover.close();
    assert.ok(existsSync(path));
    const third = new Server({ port: path });
    await third.start();
    const sub = third.route('/s').sub();
    const a = new Address({ url: `osc.unix://${path}` });
    await a.send('/s');
    assert.equal((await take(sub, 1)).length, 1);
    await a.close();
    await third.stop();
    const plain = join(dir, 'plain');
    await writeFile(plain, 'not a socket');
    await assert.rejects(new Server({ port: plain }).start(), StartError);
  });

  test('a sender that bound a path of its own gets replies from the server’s socket', async () => {
    const path = join(dir, 'srv.sock');
    const clientPath = join(dir, 'client.sock');
    const server = new Server({ port: path });
    await server.start();
    const lib = createRequire(import.meta.url)('unix-dgram');
    const replies: Buffer[] = [];
    const client = lib.createSocket('unix_dgram', (buf: Buffer) => replies.push(buf));
    try {
      client.bind(clientPath);
      const sub = server.route('/ping', 'i').sub({ incoming: true });
      const request = encode(Message.typed('/ping', 'i', 1));
      client.send(Buffer.from(request), 0, request.length, path);
      const [m] = await take(sub, 1);
      assert.equal(m?.source.url, `osc.unix://${clientPath}`);
      await m?.source.send('/pong', 2);
      await within(
        2000,
        'the reply',
        (async () => {
          while (replies.length === 0) await new Promise((r) => setImmediate(r));
        })(),
      );
      assert.deepEqual(decode(replies[0] as Buffer), Message.typed('/pong', 'i', 2));
    } finally {
      client.close();
      await server.stop();
    }
  });

  test('sending to a path nobody listens on rejects with SendError', async () => {
    const a = new Address({ url: `osc.unix://${join(dir, 'nobody.sock')}` });
    await assert.rejects(
      within(3000, 'the send', a.send('/x')),
      (e: unknown) => e instanceof SendError && e.code === 'ERR_OSC_SEND_FAILED',
    );
    await a.close();
  });
});

// Start and stop, 1,000 times per transport, with traffic: no file descriptor, timer or listener
// is left behind (checked through the process's open handles and /proc/self/fd).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Address, Message, Server, TimeTag } from '../../src/index.js';
import { unixAvailable } from '../../src/transport/unix.js';
import { take } from '../helpers/async.js';
import { IN_CI } from '../helpers/peers.js';

const CYCLES = 1000;

function fds(): number {
  return readdirSync('/proc/self/fd').length;
}

function handles(): string {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r !== 'TTYWrap')
    .sort()
    .join(',');
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

for (const proto of ['udp', 'tcp', 'unix'] as const) {
  const skip = proto === 'unix' && !unixAvailable() && !IN_CI ? 'unix-dgram is not installed' : false;
  test(`${proto}: ${CYCLES} start/stop cycles leak no descriptor, handle, timer or listener`, {
    skip,
    timeout: 300_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aiolo-cycles-'));
    try {
      const make = () =>
        proto === 'unix'
          ? new Server({ port: join(dir, 's.sock') })
          : new Server({ proto, host: '127.0.0.1', port: 0 });
      const cycle = async (i: number) => {
        const server = make();
        await server.start();
        const a = new Address({ url: server.url as string });
        try {
          const sub = server.route('/c', 'i').sub();
          await a.send('/c', i);
          if (i % 10 === 0) await a.bundle([Message.typed('/c', 'i', i)], TimeTag.now().add(60)); // left queued
          await take(sub, 1);
        } finally {
          // released even when the cycle fails, or a Unix socket would keep the process alive
          await a.close();
          await server.stop();
        }
      };
      await cycle(-1); // first use loads what stays loaded (unix-dgram, DNS)
      await settle();
      const before = { fds: fds(), handles: handles(), listeners: process.listenerCount('SIGINT') };
      for (let i = 0; i < CYCLES; i++) await cycle(i);
      await settle();
      assert.equal(fds(), before.fds, 'file descriptors');
      assert.equal(handles(), before.handles, 'handles and timers');
      assert.equal(process.listenerCount('SIGINT'), before.listeners);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

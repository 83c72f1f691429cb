// Hostile peers against a default server: what one packet can cost in memory and in event-loop
// time is bounded, whatever the packet. Each test measures what it claims — heap growth after a
// full collection, the event loop's longest delay, the loss the user can count — against a bound
// that the server, before these limits, missed by far (noted at each test). The attacker runs in a
// process of its own (test/helpers/attacker.ts), so that the delays measured are the server's.
import assert from 'node:assert/strict';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Address, type OscDecodeError, Server } from '../../src/index.js';
import { take, until, within } from '../helpers/async.js';
import type { Attack, Recipe } from '../helpers/attacker.js';
import { Running } from '../helpers/proc.js';

const LOCAL = '127.0.0.1';
const MiB = 2 ** 20;
/** "A few tens of milliseconds" on a shared 2-core machine, with room for a collection. */
const MAX_STALL_MS = 100;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Starts an attacker process and waits until it has loaded; `fire()` sends; `stop()` when done. */
async function attacker(proto: 'udp' | 'tcp', port: number, ...recipes: Recipe[]) {
  const spec: Attack = { proto, port, recipes };
  const child = new Running([process.execPath, '--import', 'tsx', 'test/helpers/attacker.ts', JSON.stringify(spec)]);
  await child.until(() => child.stdout.includes('ready'), 'the attacker to load', 30_000);
  return {
    fire: () => child.child.kill('SIGUSR2'),
    stop: () => child.stop(),
    stderr: () => child.stderr,
  };
}

/** An attacker, loaded and then fired at once. */
async function attack(proto: 'udp' | 'tcp', port: number, ...recipes: Recipe[]) {
  const a = await attacker(proto, port, ...recipes);
  a.fire();
  return a;
}

/** Collects a server event's first argument until `n` have come. */
function counting(server: Server, name: 'malformed' | 'unmatched', n: number, ms: number) {
  const seen: unknown[] = [];
  const done = within(
    ms,
    `${n} '${name}' events`,
    new Promise<void>((resolve) => {
      const on = (first: unknown) => {
        seen.push(first);
        if (seen.length >= n) {
          server.off(name, on);
          resolve();
        }
      };
      server.on(name, on);
    }),
  );
  return { seen, done };
}

/** Waits for `what`, failing with the servers' stats and the attackers' errors, to say why not. */
async function explained<T>(what: Promise<T>, servers: Server[], peers: { stderr: () => string }[] = []): Promise<T> {
  return what.catch((err: Error) => {
    const stats = servers.map((s) => JSON.stringify(s.stats)).join('; ');
    const errors = peers.map((p) => p.stderr()).join('');
    throw new Error(`${err.message}; stats ${stats}${errors === '' ? '' : `; attacker: ${errors}`}`);
  });
}

function stalled(delay: IntervalHistogram): number {
  return delay.max / 1e6;
}

// Before: the compiled-pattern cache held 256 patterns whatever their size (~120 bytes of heap per
// character): 300 unique 4 KB patterns kept 84 MiB.
test('the compiled-pattern cache is bounded in bytes: 300 unique 4 KB patterns', async (t) => {
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
  await server.start();
  server.route('/k', 'i'); // a literal route, so that patterns are matched at all
  const n = 300;
  const before = heap();
  const { done } = counting(server, 'unmatched', n, 60_000);
  const peer = await attack('tcp', server.port as number, {
    prefix: '/k',
    unit: '[a]',
    repeat: 1300,
    unique: true,
    count: n,
  });
  try {
    await explained(done, [server], [peer]);
    const grown = (heap() - before) / MiB;
    t.diagnostic(`heap growth ${grown.toFixed(1)} MiB`);
    assert.ok(grown < 32, `the heap grew by ${grown.toFixed(1)} MiB holding compiled patterns`);
  } finally {
    await peer.stop();
    await server.stop();
  }
});

// Before: 50 of these crashed the process (V8 out of memory), each taking ~360 ms to compile.
// Now none is compiled: each is reported, and the heap does not grow.
test('a pattern longer than the server compiles is rejected and reported, never compiled', async (t) => {
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
  await server.start();
  const k = server.route('/k', 'i');
  const n = 50;
  const before = heap();
  const { seen, done } = counting(server, 'malformed', n, 60_000);
  const peer = await attacker('tcp', server.port as number, {
    prefix: '/k',
    unit: '[a]',
    repeat: 349_000, // 1 MiB
    unique: true,
    count: n,
  });
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  peer.fire();
  try {
    await explained(done, [server], [peer]);
    delay.disable();
    const grown = (heap() - before) / MiB;
    for (const e of seen) assert.equal((e as OscDecodeError).code, 'ERR_OSC_PATTERN_TOO_COSTLY');
    // (the event loop's delays over this 50 MiB burst include the collections it causes; what one
    // such packet costs is measured on its own in the next test)
    t.diagnostic(`heap growth ${grown.toFixed(1)} MiB, longest event-loop delay ${stalled(delay).toFixed(1)} ms`);
    assert.ok(grown < 32, `the heap grew by ${grown.toFixed(1)} MiB`);
    // and the server still serves
    const got = take(k.sub(), 1);
    const address = new Address({ url: server.url as string });
    await address.send(k, 7);
    assert.deepEqual(await got, [[7]]);
    await address.close();
  } finally {
    await peer.stop();
    await server.stop();
  }
});

// Before: with 1,000 routes, each of these blocked the event loop for 1.5 to 3 s (the 1 MiB TCP
// frame of '//' for over 30 s).
test('one costly pattern blocks the event loop for tens of milliseconds at most, with 1,000 routes', async (t) => {
  const udp = new Server({ host: LOCAL, recvBufferSize: 4 * MiB });
  const tcp = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
  await Promise.all([udp.start(), tcp.start()]);
  for (let i = 0; i < 1000; i++) {
    udp.route(`/r/${i}`, 'i');
    tcp.route(`/r/${i}`, 'i');
  }
  const a = udp.route('/r/1', 'i').sub();
  const b = udp.route('/r/2', 'i').sub();
  // the longest path a UDP datagram holds with ',i' and an int: 65507 - 8
  const fill = (unit: string) => ({
    prefix: '/',
    unit,
    repeat: Math.floor(65_490 / unit.length),
    tags: 'i',
    argBytes: 4,
  });
  const attacks: [string, Server, Recipe][] = [
    ['*? 64 KB', udp, { ...fill('*?'), count: 1 }],
    ['// 64 KB', udp, { ...fill('/'), count: 1 }],
    ['{a,b} 64 KB', udp, { ...fill('{a,b}'), count: 1 }],
    // under the length limit, but costly against every route: stopped by the matching budget
    ['{,1} 4 KB', udp, { prefix: '/r/', unit: '{,1}', repeat: 1000, tags: 'i', argBytes: 4, count: 1 }],
    ['// 1 MiB', tcp, { prefix: '/', unit: '/', repeat: MiB - 16, count: 1 }],
  ];
  const stalls: string[] = [];
  try {
    // one packet at a time, so that each delay measured is one packet's
    for (const [name, server, recipe] of attacks) {
      const peer = await attacker(server === udp ? 'udp' : 'tcp', server.port as number, recipe);
      try {
        const report = counting(server, 'malformed', 1, 30_000);
        const delay = monitorEventLoopDelay({ resolution: 5 });
        delay.enable();
        peer.fire();
        await explained(report.done, [server], [peer]);
        // the histogram samples on a 5 ms timer: let it take the sample that shows this packet's stall
        await new Promise((resolve) => setTimeout(resolve, 20));
        delay.disable();
        assert.equal((report.seen[0] as OscDecodeError).code, 'ERR_OSC_PATTERN_TOO_COSTLY', name);
        stalls.push(`${name}: ${stalled(delay).toFixed(1)} ms`);
        assert.ok(stalled(delay) < MAX_STALL_MS, `${name} stalled the event loop for ${stalled(delay).toFixed(1)} ms`);
      } finally {
        await peer.stop();
      }
    }
    t.diagnostic(`longest event-loop delays: ${stalls.join(', ')}`);
    // patterns that are not attacks still reach every route they match
    const got = Promise.all([take(a, 1), take(b, 1)]);
    const sender = new Address({ url: udp.url as string });
    await sender.send('/r/{1,2}', 5);
    assert.deepEqual(await got, [[[5]], [[5]]]);
    await sender.close();
  } finally {
    await Promise.all([udp.stop(), tcp.stop()]);
  }
});

// Before: maxQueued counted messages; 120 such bundles an hour ahead kept 384 MiB.
test('the schedule is bounded in bytes: bundles of 256 K typetags timed an hour ahead', async (t) => {
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
  await server.start();
  server.route('/t');
  const n = 120;
  const before = heap();
  const peer = await attack('tcp', server.port as number, {
    prefix: '/t',
    unit: '',
    repeat: 0,
    trues: 256 * 1024,
    bundleAhead: 3600,
    count: n,
  });
  try {
    await explained(
      until(60_000, 'every bundle to be taken in', () => server.stats.queued + server.stats.queueDropped === n),
      [server],
      [peer],
    );
    const grown = (heap() - before) / MiB;
    const { queuedBytes, queueDropped } = server.stats;
    assert.ok(queuedBytes <= 32 * MiB, `${queuedBytes} bytes queued`);
    assert.ok(queueDropped > 0);
    t.diagnostic(`heap growth ${grown.toFixed(1)} MiB, ${queueDropped} dropped, ${queuedBytes} bytes queued`);
    assert.ok(grown < 64, `the heap grew by ${grown.toFixed(1)} MiB holding the schedule`);
  } finally {
    await peer.stop();
    await server.stop();
  }
  assert.equal(server.stats.queuedBytes, 0);
});

// Before: highWaterMark counted messages; these 100 kept 131 MiB for a consumer not yet started.
test('a subscription is bounded in bytes: 100 messages of 128 K typetags before the consumer starts', async (t) => {
  const server = new Server({ proto: 'tcp', host: LOCAL, port: 0 });
  await server.start();
  const sub = server.route('/t').sub();
  const n = 100;
  const before = heap();
  const peer = await attack('tcp', server.port as number, {
    prefix: '/t',
    unit: '',
    repeat: 0,
    trues: 128 * 1024,
    count: n,
  });
  try {
    await explained(
      until(60_000, 'every message to be taken in', () => server.stats.messages === n),
      [server],
      [peer],
    );
    const grown = (heap() - before) / MiB;
    assert.ok(sub.pendingBytes <= sub.highWaterBytes, `${sub.pendingBytes} bytes buffered`);
    assert.equal(sub.pending + sub.dropped, n);
    assert.ok(sub.dropped > 0);
    assert.equal(server.stats.overflowed, sub.dropped);
    t.diagnostic(`heap growth ${grown.toFixed(1)} MiB, ${sub.pending} buffered, ${sub.dropped} dropped`);
    assert.ok(grown < 32, `the heap grew by ${grown.toFixed(1)} MiB holding the subscription`);
    // what is buffered is the newest, whole
    const [first] = await take(sub, 1);
    assert.equal(first?.length, 128 * 1024);
  } finally {
    await peer.stop();
    await server.stop();
  }
});

// Before: a loop of awaited sends to a server in the same process delivered 256 of 100,000, and
// nothing in stats said so.
test('UDP: what the kernel drops is counted in stats, so sent = received + kernelDropped', async (t) => {
  if (process.platform !== 'linux') {
    t.skip('the kernel says how many datagrams it dropped only on Linux (/proc/net/udp)');
    return;
  }
  const server = new Server({ host: LOCAL, recvBufferSize: 16 * 1024 });
  await server.start();
  server.route('/n', 'i').sub({ highWaterMark: 100_000 });
  const address = new Address({ url: server.url as string });
  try {
    const n = 20_000;
    for (let i = 0; i < n; i++) await address.send('/n', i); // never lets the receiver read
    await until(
      10_000,
      'every datagram to be received or counted as dropped',
      () => server.stats.packets + (server.stats.kernelDropped ?? 0) === n,
    );
    const { packets, kernelDropped } = server.stats;
    assert.ok((kernelDropped ?? 0) > 0, `the kernel dropped nothing (${packets} received): the test shows nothing`);
    t.diagnostic(`${packets} received, ${kernelDropped} dropped by the kernel, of ${n}`);
    assert.equal(packets + (kernelDropped ?? 0), n);
  } finally {
    await address.close();
    await server.stop();
  }
  assert.ok((server.stats.kernelDropped ?? 0) > 0, 'the count is kept after stop');
});

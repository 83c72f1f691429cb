// A 60-second soak over UDP and TCP at a sustained rate, with a consumer slower than the sender:
// memory stays flat; over UDP the subscription's dropped count is exactly what it did not deliver;
// over TCP with overflow 'pause' nothing at all is lost.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Address, encode, Message, Server } from '../../src/index.js';
import { within } from '../helpers/async.js';

const SECONDS = Number(process.env.AIOLO_SOAK_SECONDS ?? 60);
const RATE = 4000; // messages per second, per transport

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Sends `/n ,i k` at RATE per second until `until`, in 10 ms slices; returns how many. */
async function pace(send: (k: number) => Promise<unknown>, until: number): Promise<number> {
  let k = 0;
  const start = Date.now();
  while (Date.now() < until) {
    const due = Math.floor(((Date.now() - start) / 1000) * RATE);
    while (k < due) await send(k++);
    await new Promise((r) => setTimeout(r, 10)); // pacing the load, not synchronising anything
  }
  return k;
}

test(`soak: ${SECONDS} s at ${RATE}/s over UDP and TCP with a slow consumer`, {
  timeout: (SECONDS + 60) * 1000,
}, async (t) => {
  const udp = new Server({ host: '127.0.0.1', recvBufferSize: 4 << 20 });
  const tcp = new Server({ proto: 'tcp', host: '127.0.0.1', port: 0 });
  await Promise.all([udp.start(), tcp.start()]);
  const udpSub = udp.route('/n', 'i').sub({ highWaterMark: 1000 }); // drop-oldest
  const tcpSub = tcp.route('/n', 'i').sub({ highWaterMark: 1000, overflow: 'pause' });
  const tx = createSocket('udp4');
  tx.bind(0, '127.0.0.1');
  await once(tx, 'listening');
  const toTcp = new Address({ url: tcp.url as string });
  let udpDelivered = 0;
  const tcpGot: number[] = [];
  // a consumer at three quarters of the rate: it falls behind for the whole run
  const slow = async (sub: AsyncIterable<readonly [number]>, onItem: (n: number) => void) => {
    let n = 0;
    for await (const [k] of sub) {
      onItem(k);
      if (++n % 30 === 0) await new Promise((r) => setTimeout(r, 10)); // a slow consumer, by design
    }
  };

  const consumers = [slow(udpSub, () => udpDelivered++), slow(tcpSub, (k) => tcpGot.push(k))];
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(process.memoryUsage().heapUsed / 2 ** 20), 5000);
  try {
    const baseline = heapMb();
    const until = Date.now() + SECONDS * 1000;
    const packet = (k: number) => encode(Message.typed('/n', 'i', k));
    const [udpSent, tcpSent] = await Promise.all([
      pace((k) => new Promise<void>((r) => tx.send(packet(k), udp.port as number, '127.0.0.1', () => r())), until),
      pace((k) => toTcp.send('/n', k), until),
    ]);
    const end = heapMb();
    // TCP: everything sent arrives (the slow consumer catches up once the sending stops)
    await within(
      60_000,
      `all ${tcpSent} TCP messages`,
      (async () => {
        while (tcpGot.length < tcpSent) await new Promise((r) => setTimeout(r, 50));
      })(),
    );
    tcpSub.unsub();
    // UDP: stopping ends the subscription after what it holds
    await udp.stop();
    await Promise.all(consumers);
    t.diagnostic(
      `UDP: sent ${udpSent}, received ${udp.stats.messages}, delivered ${udpDelivered}, dropped ${udpSub.dropped}`,
    );
    t.diagnostic(`TCP: sent ${tcpSent}, delivered ${tcpGot.length}, dropped ${tcpSub.dropped}`);
    t.diagnostic(
      `heap: ${baseline.toFixed(1)} MB at the start, ${end.toFixed(1)} MB at the end; samples ${samples.map((x) => x.toFixed(0)).join(' ')}`,
    );
    assert.ok(udpSub.dropped > 0, 'the consumer did fall behind');
    assert.equal(
      udpDelivered + udpSub.dropped,
      udp.stats.messages,
      'UDP: every message received was delivered or counted as dropped',
    );
    assert.equal(tcpSub.dropped, 0);
    assert.deepEqual(
      tcpGot,
      Array.from({ length: tcpSent }, (_, i) => i),
      'TCP: nothing lost, nothing reordered',
    );
    assert.ok(end - baseline < 20, `heap grew by ${(end - baseline).toFixed(1)} MB`);
  } finally {
    clearInterval(sampler);
    udpSub.return();
    tcpSub.return();
    tx.close();
    await toTcp.close();
    await Promise.all([udp.stop(), tcp.stop()]);
  }
});

// The two UDP paths side by side: the native fast path (aiolo-native: recvmmsg batches, sendto and
// sendmmsg batches) and node:dgram. The same datagrams, sent from several sockets to one socket of each
// path, must come out the same: bytes, order per sender, and sender addresses as dgram writes them.
// The whole suite also runs on each path in CI (AIOLO_NATIVE=1, then 0); this file compares them in
// one process, and checks what only the native path does (batches, its queue, its errors).
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { test } from 'node:test';
import { DgramPort, type Peer } from '../../src/transport/datagram.js';
import { NativePort, SERVER_SLOTS } from '../../src/transport/datagram-native.js';
import { nativeUdp } from '../../src/transport/native.js';
import { bindUdp, sendUdp } from '../../src/transport/udp.js';
import { until } from '../helpers/async.js';
import { nativePort, needNative } from '../helpers/native.js';
import { run } from '../helpers/proc.js';
import { seeded } from '../helpers/random.js';

async function dgramSocket(type: 'udp4' | 'udp6', host: string): Promise<Socket> {
  const s = createSocket(type);
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  return s;
}

function send(s: Socket, bytes: Uint8Array, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => s.send(bytes, port, host, (err) => (err ? reject(err) : resolve())));
}

interface Got {
  readonly bytes: number[];
  readonly from: string;
}

function collect(list: Got[]): (packet: Uint8Array, from: Peer) => void {
  return (packet, from) => list.push({ bytes: [...packet], from: `${from.family} ${from.address} ${from.port}` });
}

test('native and dgram receive the same datagrams from the same senders, alike', { timeout: 30_000 }, (t) => {
  if (!needNative(t)) return;
  return seeded(async (r) => {
    const viaNative: Got[] = [];
    const viaDgram: Got[] = [];
    const a = nativePort({ host: '127.0.0.1', recvBufferSize: 4 * 1024 * 1024, slots: SERVER_SLOTS });
    const bSocket = await dgramSocket('udp4', '127.0.0.1');
    bSocket.setRecvBufferSize(4 * 1024 * 1024);
    const b = new DgramPort(bSocket);
    a.onPacket(collect(viaNative));
    b.onPacket(collect(viaDgram));
    const senders = await Promise.all([1, 2, 3].map(() => dgramSocket('udp4', '127.0.0.1')));
    try {
      // sizes from empty to the largest IPv4 datagram, most of them small as OSC is
      const sizes = Array.from({ length: 300 }, () =>
        r.pick([0, 1, 4, 511, 512, 513, r.int(8, 200), r.int(8, 200), r.int(600, 9000), 65507]),
      );
      for (const size of sizes) {
        const s = r.pick(senders);
        const bytes = r.bytes(size);
        // each datagram to both, awaited: the count per socket stays far below its buffer
        await send(s, bytes, a.address().port, '127.0.0.1');
        await send(s, bytes, b.address().port, '127.0.0.1');
      }
      await until(
        10_000,
        'both sockets got every datagram',
        () => viaNative.length >= sizes.length && viaDgram.length >= sizes.length,
      );
      assert.equal(viaNative.length, sizes.length);
      assert.deepEqual(viaNative, viaDgram);
      // one address object per sender, shared: what the reply cache and the peer table rely on
      assert.equal(new Set(viaNative.map((g) => g.from)).size, senders.length);
    } finally {
      await Promise.all([
        a.close(),
        b.close(),
        ...senders.map((s) => new Promise<void>((res) => s.close(() => res()))),
      ]);
    }
  })(t);
});

test('native IPv6: a sender on ::1 reads as dgram writes it, and a reply reaches it', {
  timeout: 10_000,
}, async (t) => {
  if (!needNative(t)) return;
  const port = nativePort({ v6: true, host: '::1' });
  const client = await dgramSocket('udp6', '::1');
  try {
    const got: { packet: Uint8Array; from: Peer }[] = [];
    port.onPacket((packet, from) => got.push({ packet, from }));
    await send(client, Uint8Array.of(1, 2, 3, 4), port.address().port, '::1');
    await until(5000, 'the datagram', () => got.length === 1);
    const from = (got[0] as { from: Peer }).from;
    assert.deepEqual({ ...from }, { address: '::1', family: 'IPv6', port: client.address().port });
    const reply = new Promise<Buffer>((resolve) => client.once('message', resolve));
    assert.equal(await sendUdp(port, Uint8Array.of(9, 8), from.port, from.address), 2);
    assert.deepEqual([...(await reply)], [9, 8]);
  } finally {
    await port.close();
    client.close();
  }
});

test('native: a burst larger than one batch arrives whole and in order', { timeout: 20_000 }, async (t) => {
  if (!needNative(t)) return;
  const got: number[] = [];
  const server = await bindUdp({ host: '127.0.0.1', port: 0, recvBufferSize: 8 * 1024 * 1024 }, (packet) =>
    got.push(new DataView(packet.buffer, packet.byteOffset, 4).getUint32(0)),
  );
  assert.ok(server instanceof NativePort, 'a plain unicast server socket takes the native path');
  const client = nativePort({});
  try {
    // 2,000 datagrams sent without yielding: they queue in the kernel and come out in batches
    const total = 2000;
    const sends: Promise<number>[] = [];
    for (let i = 0; i < total; i++) {
      const p = new Uint8Array(16);
      new DataView(p.buffer).setUint32(0, i);
      sends.push(sendUdp(client, p, server.address().port, '127.0.0.1'));
    }
    assert.deepEqual(new Set(await Promise.all(sends)), new Set([16]));
    await until(10_000, 'every datagram', () => got.length >= total);
    assert.deepEqual(
      got,
      Array.from({ length: total }, (_, i) => i),
    );
  } finally {
    await Promise.all([server.close(), client.close()]);
  }
});

test('native: a handler that throws is reported, and the rest of the batch is still delivered', {
  timeout: 10_000,
}, async (t) => {
  if (!needNative(t)) return;
  const port = nativePort({ host: '127.0.0.1', slots: 32 });
  const client = await dgramSocket('udp4', '127.0.0.1');
  const thrown: unknown[] = [];
  const onUncaught = (err: unknown) => thrown.push(err);
  // the test runner's own handler would fail the test: this one stands in for it while it lasts
  const previous = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', onUncaught);
  try {
    const got: number[] = [];
    port.onPacket((packet) => {
      got.push(packet[0] as number);
      if (packet[0] === 3) throw new Error('a listener failed');
    });
    for (let i = 0; i < 8; i++) await send(client, Uint8Array.of(i), port.address().port, '127.0.0.1');
    await until(5000, 'every datagram and the error', () => got.length === 8 && thrown.length === 1);
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.match(String(thrown[0]), /a listener failed/);
  } finally {
    process.off('uncaughtException', onUncaught);
    for (const l of previous) process.on('uncaughtException', l);
    await port.close();
    client.close();
  }
});

test("native: errors are the system's, as dgram reports them", { timeout: 10_000 }, async (t) => {
  if (!needNative(t)) return;
  const taken = nativePort({ host: '127.0.0.1' });
  try {
    // the port in use: the same code dgram's bind gives, which a server turns into ERR_OSC_ADDRESS_IN_USE
    await assert.rejects(
      bindUdp({ host: '127.0.0.1', port: taken.address().port }, () => {}),
      (err: { code?: string }) => err.code === 'ERR_OSC_ADDRESS_IN_USE',
    );
    // a send after close: ERR_OSC_SEND_FAILED, as dgram's "Not running"
    const closed = nativePort({});
    await closed.close();
    await closed.close(); // idempotent
    await assert.rejects(sendUdp(closed, Uint8Array.of(1), taken.address().port, '127.0.0.1'), {
      code: 'ERR_OSC_SEND_FAILED',
    });
    // not a numeric host: refused by the system's parser, not looked up
    await assert.rejects(sendUdp(taken, Uint8Array.of(1), 9, 'not-an-address'), { code: 'ERR_OSC_SEND_FAILED' });
  } finally {
    await taken.close();
  }
});

test('udpPath says which path this process takes, as AIOLO_NATIVE asks', async () => {
  const { udpPath } = await import('../../src/index.js');
  const server = await bindUdp({ host: '127.0.0.1', port: 0 }, () => {});
  try {
    assert.equal(udpPath, nativeUdp === undefined ? 'dgram' : 'native');
    assert.equal(server instanceof NativePort, udpPath === 'native');
    if (process.env.AIOLO_NATIVE === '0') assert.equal(udpPath, 'dgram');
    if (process.env.AIOLO_NATIVE === '1') assert.equal(udpPath, 'native');
  } finally {
    await server.close();
  }
});

test('a server bound by host name listens where dgram would (the name looked up, IPv4)', async () => {
  const got: Peer[] = [];
  const server = await bindUdp({ host: 'localhost', port: 0 }, (_packet, from) => got.push(from));
  const client = await dgramSocket('udp4', '127.0.0.1');
  try {
    assert.equal(server.address().family, 'IPv4');
    await send(client, Uint8Array.of(1), server.address().port, '127.0.0.1');
    await until(5000, 'the datagram', () => got.length === 1);
    await assert.rejects(
      bindUdp({ host: 'no-such-host.invalid', port: 0 }, () => {}),
      {
        code: 'ERR_OSC_START_FAILED',
      },
    );
  } finally {
    await server.close();
    client.close();
  }
});

test('native: a socket closed by its own handler mid-batch stops there, and the process goes on', async (t) => {
  if (!needNative(t)) return;
  const port = nativePort({ host: '127.0.0.1', recvBufferSize: 4 * 1024 * 1024, slots: 32 });
  const client = await dgramSocket('udp4', '127.0.0.1');
  const got: number[] = [];
  let closing: Promise<void> | undefined;
  port.onPacket((packet) => {
    got.push(packet[0] as number);
    if (got.length === 3) closing = port.close();
  });
  try {
    // sent without yielding, so that they arrive as one batch: the handler closes the socket at
    // the third, and the native side is inside its call into JavaScript when it does
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => send(client, Uint8Array.of(i), port.address().port, '127.0.0.1')),
    );
    await until(5000, 'the close', () => closing !== undefined);
    await closing;
    assert.deepEqual(got, [0, 1, 2]);
    // the closed socket's port is free again, and the process still serves others
    const again = await bindUdp({ host: '127.0.0.1', port: port.address().port }, () => {});
    await again.close();
  } finally {
    client.close();
  }
});

test('native: more senders than the sender table keeps (1024) each read as themselves', {
  timeout: 30_000,
}, async (t) => {
  if (!needNative(t)) return;
  const got: { claimed: number; from: Peer }[] = [];
  const port = nativePort({ host: '127.0.0.1', recvBufferSize: 4 * 1024 * 1024, slots: 32 });
  port.onPacket((packet, from) =>
    got.push({ claimed: new DataView(packet.buffer, packet.byteOffset, 2).getUint16(0), from }),
  );
  try {
    // 1,100 sockets, 100 open at a time (each sends its own port), past the table's bound: the
    // table is cleared and refilled, never grown, and no datagram is credited to another sender
    const total = 1100;
    for (let batch = 0; batch < total / 100; batch++) {
      const senders = await Promise.all(Array.from({ length: 100 }, () => dgramSocket('udp4', '127.0.0.1')));
      await Promise.all(
        senders.map((s) => {
          const p = new Uint8Array(2);
          new DataView(p.buffer).setUint16(0, s.address().port);
          return send(s, p, port.address().port, '127.0.0.1');
        }),
      );
      await until(5000, `batch ${batch}`, () => got.length >= (batch + 1) * 100);
      for (const s of senders) s.close();
    }
    assert.equal(got.length, total);
    for (const g of got) assert.deepEqual([g.from.address, g.from.port], ['127.0.0.1', g.claimed]);
  } finally {
    await port.close();
  }
});

test('native: workers that end with sockets and a timer open leave the process running', async (t) => {
  if (!needNative(t)) return;
  // in a child process: what this guards against is a crash of the whole process
  const ran = await run([process.execPath, '--import', 'tsx', 'test/server/fixtures/native-worker.ts'], 60_000);
  assert.equal(ran.code, 0, `exit ${ran.code}: ${ran.stderr}`);
  assert.equal(ran.stdout.toString('utf8').trim(), 'workers ended');
});

// The native path's sends in one run of JavaScript: the first at once (sendto), the ones after it
// to the same destination batched into one sendmmsg (sendmany) when the run ends, when 64 are
// waiting, or before anything else is sent. These tests count the addon's calls through a wrapper
// and can make sendmany answer as the kernel might (a part taken, EAGAIN, an error).

type Native = NonNullable<typeof nativeUdp>;
type SendMany = NonNullable<Native['sendmany']>;

/** The addon, its send and sendmany calls logged ("send", "sendmany 64"); `sendmany` may stand in for its own. */
function loggedNative(log: string[], sendmany?: (real: SendMany, ...args: Parameters<SendMany>) => number): Native {
  const real = nativeUdp as Native;
  const realSendMany = real.sendmany as SendMany;
  return {
    ...real, // (the addon's own properties are read-only: a copy, not an heir)
    send: (...args) => {
      log.push('send');
      return real.send(...args);
    },
    sendmany: (...args) => {
      log.push(`sendmany ${args[4] - args[3]}`);
      return sendmany === undefined ? realSendMany(...args) : sendmany(realSendMany, ...args);
    },
  };
}

/** A receiving native socket on 127.0.0.1 with room for bursts, and what it got (bytes as arrays). */
function receiver(): { port: NativePort; got: number[][] } {
  const port = nativePort({ host: '127.0.0.1', recvBufferSize: 4 * 1024 * 1024, slots: SERVER_SLOTS });
  const got: number[][] = [];
  port.onPacket((packet) => got.push([...packet]));
  return { port, got };
}

test('native: the sends of one run go out together, each in order to its destination', { timeout: 30_000 }, (t) => {
  if (!needNative(t)) return;
  return seeded(async (r) => {
    const log: string[] = [];
    const client = nativePort({}, loggedNative(log));
    const receivers = [receiver(), receiver(), receiver()];
    try {
      for (let run = 0; run < 5; run++) {
        // one run of JavaScript: destinations in stretches, sizes from empty to past what is batched
        const sent: number[][][] = receivers.map(() => []);
        const sends: Promise<number>[] = [];
        const sizes: number[] = [];
        let to = r.int(0, 2);
        for (let i = 0; i < 300; i++) {
          if (r.bool(0.1)) to = r.int(0, 2);
          const size = r.pick([0, 1, 4, r.int(8, 200), r.int(8, 200), r.int(8, 200), 2048, 2049, r.int(2050, 9000)]);
          const bytes = r.bytes(size);
          sizes.push(size);
          (sent[to] as number[][]).push([...bytes]);
          sends.push(
            sendUdp(client, bytes, (receivers[to] as ReturnType<typeof receiver>).port.address().port, '127.0.0.1'),
          );
        }
        assert.deepEqual(await Promise.all(sends), sizes, 'each send resolves with its length');
        await until(10_000, 'every datagram', () =>
          receivers.every((x, k) => x.got.length >= (sent[k] as number[][]).length),
        );
        receivers.forEach((x, k) => {
          assert.deepEqual(x.got, sent[k], `receiver ${k}, run ${run}`);
          x.got.length = 0;
        });
      }
      // one sendto a run at least, and the rest in batches: far fewer calls than sends
      assert.ok(
        log.some((call) => call.startsWith('sendmany')),
        'no batch was sent',
      );
      assert.ok(log.length < 5 * 300, `${log.length} calls for ${5 * 300} sends`);
    } finally {
      await Promise.all([client.close(), ...receivers.map((x) => x.port.close())]);
    }
  })(t);
});

test('native: a run of 150 sends to one destination is a sendto and batches of 64, 64 and 21', async (t) => {
  if (!needNative(t)) return;
  const log: string[] = [];
  const client = nativePort({}, loggedNative(log));
  const to = receiver();
  try {
    const sends: Promise<number>[] = [];
    for (let i = 0; i < 150; i++)
      sends.push(sendUdp(client, Uint8Array.of(i, 0, 0, 0), to.port.address().port, '127.0.0.1'));
    // the first went at once, and two full batches as they filled; the rest waits for the run's end
    assert.deepEqual(log, ['send', 'sendmany 64', 'sendmany 64']);
    assert.deepEqual(await Promise.all(sends), Array(150).fill(4));
    assert.deepEqual(log, ['send', 'sendmany 64', 'sendmany 64', 'sendmany 21']);
    await until(5000, 'every datagram', () => to.got.length >= 150);
    assert.deepEqual(
      to.got.map((p) => p[0]),
      Array.from({ length: 150 }, (_, i) => i),
    );
    // a lone send in a later run goes at once, alone
    log.length = 0;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await sendUdp(client, Uint8Array.of(7), to.port.address().port, '127.0.0.1'), 1);
    assert.deepEqual(log, ['send']);
  } finally {
    await Promise.all([client.close(), to.port.close()]);
  }
});

test('native: a batch holds 16 KiB at most: 2 KiB sends go eight to a call', async (t) => {
  if (!needNative(t)) return;
  const log: string[] = [];
  const client = nativePort({}, loggedNative(log));
  const to = receiver();
  try {
    const sends = Array.from({ length: 20 }, (_, i) =>
      sendUdp(client, new Uint8Array(2048).fill(i), to.port.address().port, '127.0.0.1'),
    );
    assert.deepEqual(await Promise.all(sends), Array(20).fill(2048));
    // the first at once; then a batch is sent whenever the next packet would not fit
    assert.deepEqual(log, ['send', 'sendmany 8', 'sendmany 8', 'sendmany 3']);
    await until(5000, 'every datagram', () => to.got.length >= 20);
    assert.deepEqual(
      to.got.map((p) => [p.length, p[0], p[2047]]),
      Array.from({ length: 20 }, (_, i) => [2048, i, i]),
    );
  } finally {
    await Promise.all([client.close(), to.port.close()]);
  }
});

test('native: close() right after sends sends them first; a send after it fails', async (t) => {
  if (!needNative(t)) return;
  const client = nativePort({});
  const to = receiver();
  try {
    const sends = [1, 2, 3, 4, 5].map((i) => sendUdp(client, Uint8Array.of(i), to.port.address().port, '127.0.0.1'));
    const closed = client.close();
    const late = sendUdp(client, Uint8Array.of(6), to.port.address().port, '127.0.0.1');
    assert.deepEqual(await Promise.all(sends), [1, 1, 1, 1, 1]);
    await closed;
    await assert.rejects(late, { code: 'ERR_OSC_SEND_FAILED' });
    await until(5000, 'the five datagrams', () => to.got.length >= 5);
    assert.deepEqual(to.got, [[1], [2], [3], [4], [5]]);
  } finally {
    await Promise.all([client.close(), to.port.close()]);
  }
});

test('native: a batch the kernel takes in part, or not now, or refuses one of, loses nothing else', async (t) => {
  if (!needNative(t)) return;
  const to = receiver();
  try {
    await batchAnswers(to);
  } finally {
    await to.port.close();
  }
});

async function batchAnswers(to: ReturnType<typeof receiver>): Promise<void> {
  const EAGAIN = -11;
  const EINVAL = -22;
  for (const answer of ['part', 'EAGAIN', 'EINVAL'] as const) {
    const log: string[] = [];
    let calls = 0;
    // the first batch call: 3 of them taken / none taken, try later / 3 taken, and the fourth
    // refused when it is tried again
    const client = nativePort(
      {},
      loggedNative(log, (real, handle, out, lengths, from, end, port, host) => {
        calls++;
        if (calls === 1 && answer !== 'EAGAIN') return real(handle, out, lengths, from, from + 3, port, host);
        if (calls === 1) return EAGAIN;
        if (calls === 2 && answer === 'EINVAL') return EINVAL;
        return real(handle, out, lengths, from, end, port, host);
      }),
    );
    try {
      const sends = Array.from({ length: 10 }, (_, i) =>
        sendUdp(client, Uint8Array.of(i), to.port.address().port, '127.0.0.1').then(
          (n) => n,
          (err: { code?: string; cause?: { code?: string } }) => `${err.code} ${err.cause?.code}`,
        ),
      );
      const results = await Promise.all(sends);
      const batches = {
        part: ['sendmany 9', 'sendmany 6'],
        EAGAIN: ['sendmany 9'],
        EINVAL: ['sendmany 9', 'sendmany 6', 'sendmany 5'],
      };
      // (after EAGAIN, the batch's sends wait in the queue and go one by one when the socket is writable)
      assert.deepEqual(
        log,
        ['send', ...batches[answer], ...(answer === 'EAGAIN' ? Array(9).fill('send') : [])],
        answer,
      );
      const expected: (number | string)[] = Array(10).fill(1);
      // (the batch holds sends 1-9: the fourth of it is send 4)
      if (answer === 'EINVAL') expected[4] = 'ERR_OSC_SEND_FAILED EINVAL';
      assert.deepEqual(results, expected, answer);
      const arrived = answer === 'EINVAL' ? [0, 1, 2, 3, 5, 6, 7, 8, 9] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
      await until(5000, `the datagrams (${answer})`, () => to.got.length >= arrived.length);
      assert.deepEqual(
        to.got.map((p) => p[0]),
        arrived,
        answer,
      );
      to.got.length = 0;
    } finally {
      await client.close();
    }
  }
}

test('native: a send to port 0, batched or not, fails alone (EINVAL); the next run sends', async (t) => {
  if (!needNative(t)) return;
  const client = nativePort({});
  const to = receiver();
  try {
    const bad = [1, 2, 3].map((i) => sendUdp(client, Uint8Array.of(i), 0, '127.0.0.1'));
    const good = sendUdp(client, Uint8Array.of(4), to.port.address().port, '127.0.0.1');
    for (const p of bad) {
      await assert.rejects(p, (err: { code?: string; cause?: { code?: string } }) => {
        assert.equal(err.code, 'ERR_OSC_SEND_FAILED');
        assert.equal(err.cause?.code, 'EINVAL');
        return true;
      });
    }
    assert.equal(await good, 1);
    await until(5000, 'the good datagram', () => to.got.length >= 1);
    assert.deepEqual(to.got, [[4]]);
  } finally {
    await Promise.all([client.close(), to.port.close()]);
  }
});

test('native: sends after a batch the kernel could not take wait behind it, whatever their size', async (t) => {
  if (!needNative(t)) return;
  const log: string[] = [];
  let calls = 0;
  const client = nativePort(
    {},
    loggedNative(log, (real, ...args) => {
      calls++;
      return calls === 1 ? -11 /* EAGAIN */ : real(...args);
    }),
  );
  const to = receiver();
  try {
    // one run: a sendto, a full batch (refused for now: to the queue), then more small sends, one
    // too big to batch, and more small ones: all of them after the queued batch, in order
    const sizes = [...Array(70).fill(1), 3000, 1, 1, 1, 1];
    const sends = sizes.map((size, i) => {
      const bytes = new Uint8Array(size);
      bytes[0] = i;
      return sendUdp(client, bytes, to.port.address().port, '127.0.0.1');
    });
    assert.deepEqual(await Promise.all(sends), sizes);
    await until(5000, 'every datagram', () => to.got.length >= sizes.length);
    assert.deepEqual(
      to.got.map((p) => p[0]),
      sizes.map((_, i) => i),
    );
    // the queue goes out a send at a time when the socket is writable
    assert.deepEqual(log, ['send', 'sendmany 64', ...Array(sizes.length - 1).fill('send')]);
  } finally {
    await Promise.all([client.close(), to.port.close()]);
  }
});

test('native: process.exit() in the run that batched sends sends them first', async (t) => {
  if (!needNative(t)) return;
  const to = receiver();
  try {
    const ran = await run(
      [process.execPath, '--import', 'tsx', 'test/server/fixtures/native-exit.ts', String(to.port.address().port)],
      60_000,
    );
    assert.equal(ran.code, 0, `exit ${ran.code}: ${ran.stderr}`);
    await until(5000, 'the five datagrams', () => to.got.length >= 5);
    assert.deepEqual(to.got, [[1], [2], [3], [4], [5]]);
  } finally {
    await to.port.close();
  }
});

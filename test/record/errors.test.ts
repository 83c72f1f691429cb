// Hand-written recordings with bad lines give typed errors naming the line; malformed packets are
// recorded, marked, and skipped on replay unless asked; a slow output drops datagrams (counted) and
// holds TCP back (nothing lost); stop() is idempotent and an AbortSignal stops.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Address, encode, Message, OscRecordingError, record, replay, Server } from '../../src/index.js';
import { event, take, until } from '../helpers/async.js';

const LOCAL = '127.0.0.1';
const HEADER = '{"aiolo":"recording","version":1}';
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const ok = (ns: number) => JSON.stringify({ ns, data: b64(encode(Message.typed('/ok', 'i', ns))) });

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiolo-record-err-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hand-written recordings', () => {
  const cases: [string, string[], string, number, RegExp][] = [
    ['not JSON', [HEADER, ok(0), '{"ns":'], 'ERR_OSC_RECORDING_INVALID', 3, /not JSON/],
    ['no header', [ok(0)], 'ERR_OSC_RECORDING_VERSION', 1, /not an aiolo recording/],
    ['a later version', ['{"aiolo":"recording","version":2}'], 'ERR_OSC_RECORDING_VERSION', 1, /version 2/],
    ['ns going back', [HEADER, ok(5), ok(4)], 'ERR_OSC_RECORDING_INVALID', 3, /goes back/],
    ['ns not a number', [HEADER, '{"ns":"1","data":"AAAA"}'], 'ERR_OSC_RECORDING_INVALID', 2, /"ns"/],
    ['bad base64', [HEADER, '{"ns":1,"data":"!!"}'], 'ERR_OSC_RECORDING_INVALID', 2, /base64/],
    ['invalid OSC unmarked', [HEADER, '', '{"ns":1,"data":"AAAA"}'], 'ERR_OSC_RECORDING_INVALID', 3, /not valid OSC/],
    ['a bad start', ['{"aiolo":"recording","version":1,"start":"x"}'], 'ERR_OSC_RECORDING_INVALID', 1, /start/],
    ['an array', [HEADER, '[1]'], 'ERR_OSC_RECORDING_INVALID', 2, /not a JSON object/],
  ];
  for (const [name, lines, code, line, message] of cases) {
    test(`${name}: ${code} at line ${line}, nothing sent`, async () => {
      const file = join(dir, `${name.replace(/\W/g, '_')}.jsonl`);
      await writeFile(file, lines.join('\r\n'));
      const target = await new Server({ host: LOCAL, port: 0 }).start();
      const received = target.packets();
      try {
        const rp = replay(file, target.url);
        await assert.rejects(rp.closed, (err: unknown) => {
          assert.ok(err instanceof OscRecordingError);
          assert.deepEqual([err.code, err.line], [code, line]);
          assert.match(err.message, new RegExp(`^line ${line}: `));
          assert.match(err.message, message);
          return true;
        });
        assert.equal(rp.stats.sent, 0); // a file is checked whole before anything is sent
        assert.equal(received.pending, 0);
      } finally {
        await received.return();
        await target.stop();
      }
    });
  }

  test('an empty file, a missing file; blank lines and CRLF are fine', async () => {
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '\n\n');
    await assert.rejects(replay(empty, `osc.udp://${LOCAL}:9`).closed, { code: 'ERR_OSC_RECORDING_VERSION', line: 0 });
    await assert.rejects(replay(join(dir, 'nope.jsonl'), `osc.udp://${LOCAL}:9`).closed, {
      code: 'ERR_OSC_RECORDING_IO',
    });
    assert.throws(() => replay([], `osc.udp://${LOCAL}:9`, { speed: 0 }), { code: 'ERR_OSC_INVALID_OPTIONS' });
    const target = await new Server({ host: LOCAL, port: 0 }).start();
    const received = target.packets();
    try {
      const rp = replay([HEADER, '', ok(0), '  ', ok(1000)], target.url);
      await rp.closed;
      assert.deepEqual(
        (await take(received, 2)).map((p) => (p.packet as Message).args[0]),
        [0, 1000],
      );
    } finally {
      await received.return();
      await target.stop();
    }
  });
});

describe('malformed packets', () => {
  test('recorded in order, marked with their code; skipped on replay, or sent raw with malformed: true', async () => {
    const file = join(dir, 'malformed.jsonl');
    const rec = await record(`osc.udp://${LOCAL}:0`, file);
    const port = Number((/:(\d+)\/$/.exec(rec.urls[0] as string) as RegExpExecArray)[1]);
    const raw = createSocket('udp4');
    const garbage = Buffer.from('/bad\0\0\0\0xyz');
    const target = await new Server({ host: LOCAL, port: 0 }).start();
    const received = target.packets();
    try {
      const send = (b: Uint8Array) =>
        new Promise<void>((resolve, reject) => raw.send(b, port, LOCAL, (e) => (e ? reject(e) : resolve())));
      await send(encode(Message.typed('/one', 'i', 1)));
      await until(5000, 'the first packet', () => rec.stats.packets === 1);
      await send(garbage);
      await until(5000, 'the malformed one', () => rec.stats.malformed === 1);
      await send(encode(Message.typed('/two', 'i', 2)));
      await until(5000, 'the second packet', () => rec.stats.packets === 2);
      await rec.stop();
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.length, 4);
      const bad = lines[2] as Record<string, unknown>;
      assert.deepEqual(Object.keys(bad), ['ns', 'proto', 'source', 'malformed', 'data']);
      assert.equal(bad.data, b64(garbage));
      assert.match(String(bad.malformed), /^ERR_OSC_/);
      assert.equal(lines[1]?.malformed, undefined);

      const rp = replay(file, target.url);
      await rp.closed;
      assert.deepEqual([rp.stats.sent, rp.stats.skipped], [2, 1]);
      assert.deepEqual(
        (await take(received, 2)).map((p) => (p.packet as Message).path),
        ['/one', '/two'],
      );

      const seen = event<[unknown, unknown, Uint8Array]>(target, 'malformed');
      const raw2 = replay(file, target.url, { malformed: true });
      await raw2.closed;
      assert.deepEqual([raw2.stats.sent, raw2.stats.skipped], [3, 0]);
      assert.deepEqual(Buffer.from((await seen)[2]), garbage);
    } finally {
      raw.close();
      await received.return();
      await rec.stop();
      await target.stop();
    }
  });
});

/** A Writable that takes nothing until `open()`. */
class Stuck extends Writable {
  readonly chunks: Buffer[] = [];
  #held: (() => void)[] = [];
  #open = false;
  constructor() {
    super({ highWaterMark: 1024 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    if (this.#open) done();
    else this.#held.push(() => done());
  }
  open(): void {
    this.#open = true;
    for (const h of this.#held.splice(0)) h();
  }
  get lines(): number {
    return Buffer.concat(this.chunks)
      .toString()
      .split('\n')
      .filter((l) => l !== '').length;
  }
}

describe('a slow output', () => {
  test('UDP: datagrams beyond highWaterMark are dropped and counted; TCP: held back, nothing lost', {
    timeout: 30_000,
  }, async () => {
    for (const proto of ['udp', 'tcp'] as const) {
      const out = new Stuck();
      const rec = await record(`osc.${proto}://${LOCAL}:0`, out, { highWaterMark: 8 });
      const a = new Address(rec.urls[0] as string);
      try {
        const n = 200;
        const sends: Promise<number>[] = [];
        for (let i = 0; i < n; i++) sends.push(a.send('/p', i));
        if (proto === 'udp') {
          await Promise.all(sends);
          await until(5000, 'drops counted', () => rec.stats.dropped > 0);
          out.open();
          await rec.stop();
          assert.ok(rec.stats.packets >= 8 && rec.stats.packets + rec.stats.dropped <= n, JSON.stringify(rec.stats));
          assert.equal(out.lines, 1 + rec.stats.packets);
        } else {
          // held back: the output is full and the recorder waits for it, having taken only some
          await Promise.all(sends);
          await until(5000, 'the output to fill', () => out.writableLength >= out.writableHighWaterMark);
          assert.ok(rec.stats.packets < n, JSON.stringify(rec.stats));
          out.open();
          await until(10_000, `all ${n} written`, () => rec.stats.packets === n);
          await rec.stop();
          assert.equal(rec.stats.dropped, 0);
          assert.equal(out.lines, 1 + n);
        }
        assert.equal(out.writableEnded, false, 'a Writable passed in is left open');
      } finally {
        out.open();
        await a.close();
        await rec.stop();
      }
    }
  });

  test('an AbortSignal stops recording; stop() is idempotent', async () => {
    const ac = new AbortController();
    const file = join(dir, 'abort.jsonl');
    const rec = await record([`osc.udp://${LOCAL}:0`, `osc.tcp://${LOCAL}:0`], file, { signal: ac.signal });
    const a = new Address(rec.urls[1] as string);
    try {
      await a.send('/x', 1);
      await until(5000, 'one packet', () => rec.stats.packets === 1);
      ac.abort();
      await rec.closed;
      await rec.stop();
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(lines[0]?.urls, rec.urls);
      assert.deepEqual([lines[1]?.proto, lines[1]?.to], ['tcp', 1]);
    } finally {
      await a.close();
      await rec.stop();
    }
  });
});

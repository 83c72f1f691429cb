// The Web Serial adapter of aiolo/browser, driven in Node (headless chromium has no serial ports):
// a port made of web streams stands for the board. What the board writes (SLIP, END before and
// after each packet, as CNMAT's SLIPEncodedSerial) reaches the Client's routes, garbage in between
// is reported; what the Client sends is written as the board reads it; a port that fails (the board
// unplugged) is opened again, and the Client goes on.
import assert from 'node:assert/strict';
import { ReadableStream, type ReadableStreamDefaultController, WritableStream } from 'node:stream/web';
import { test } from 'node:test';
import { type SerialPortLike, webSerialClient } from '../../src/browser/index.js';
import { encode, Message } from '../../src/index.js';
import { until, within } from '../helpers/async.js';

const END = 0xc0;

/** A fake port: `board.write(bytes)` is what the board sends; `written` what the Client wrote. */
function fakePort() {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const written: number[] = [];
  let opens = 0;
  let readable: ReadableStream<Uint8Array> | null = null;
  let writable: WritableStream<Uint8Array> | null = null;
  const port: SerialPortLike & { readonly opens: number } = {
    get opens() {
      return opens;
    },
    async open(options) {
      assert.equal(options.baudRate, 115200);
      opens++;
      readable = new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
        },
      });
      writable = new WritableStream<Uint8Array>({
        write(chunk) {
          written.push(...chunk);
        },
      });
    },
    async close() {
      readable = null;
      writable = null;
    },
    get readable() {
      return readable as SerialPortLike['readable'];
    },
    get writable() {
      return writable as SerialPortLike['writable'];
    },
  };
  return {
    port,
    written,
    send: (bytes: Uint8Array | number[]) => controller?.enqueue(Uint8Array.from(bytes)),
    unplug: () => controller?.error(new Error('The device has been lost.')),
  };
}

/** SLIP as the board writes it: END, the packet with END and ESC escaped, END. */
function slip(packet: Uint8Array): number[] {
  const out = [END];
  for (const b of packet) {
    if (b === END) out.push(0xdb, 0xdc);
    else if (b === 0xdb) out.push(0xdb, 0xdd);
    else out.push(b);
  }
  out.push(END);
  return out;
}

test('Web Serial: frames both ways, garbage reported, and the port opened again after an unplug', async () => {
  const board = fakePort();
  const osc = webSerialClient(board.port, { reconnect: { initialDelay: 10, maxDelay: 50 } });
  try {
    await osc.open({ timeout: 5000 });
    const knob = osc.route('/knob', 'f');
    const malformed: string[] = [];
    osc.on('malformed', (err) => malformed.push(err.code));
    // a bootloader's text, then a packet with bytes SLIP escapes (0xc0 in the float)
    const next = knob.next({ timeout: 5000 });
    board.send([...new TextEncoder().encode('boot ok\r\n'), END]);
    board.send(slip(encode(Message.typed('/knob', 'f', -2.0))));
    assert.deepEqual(await next, [-2]);
    await until(5000, 'the garbage to be reported', () => malformed.length === 1);
    // what the client sends, as the board reads it
    await osc.send('/led', 1);
    await until(5000, 'the client to write', () => board.written.length > 0);
    assert.deepEqual(board.written, slip(encode(new Message('/led', 1))));
    // unplugged: the port fails; the client opens it again and goes on
    const closed = new Promise((resolve) => osc.once('close', resolve));
    board.unplug();
    await within(5000, 'the close', closed);
    await osc.open({ timeout: 5000 });
    assert.equal(board.port.opens, 2);
    const again = knob.next({ timeout: 5000 });
    board.send(slip(encode(Message.typed('/knob', 'f', 0.5))));
    assert.deepEqual(await again, [0.5]);
  } finally {
    await osc.close();
  }
});

// What `npm start` runs until the echo server example exists: build a message and a bundle,
// encode them to liblo's exact bytes, decode them back, and print both.
import { Bundle, decode, encode, Message, Midi, TimeTag } from '../src/index.js';

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString('hex')
    .replace(/(.{8})/g, '$1 ')
    .trim();

const message = Message.typed('/foo', 'hdm', 1n, 2.5, new Midi(1, 2, 3, 4));
const bytes = encode(message);
console.log(`message  ${message}`);
console.log(`encoded  ${bytes.length} bytes: ${hex(bytes)}`);
console.log(`decoded  ${decode(bytes)}`);

const bundle = new Bundle([new Message('/bar', 'hello', 'world'), message], TimeTag.now().add(0.25));
const packet = encode(bundle);
const back = decode(packet);
console.log(`bundle   ${packet.length} bytes, timetag ${bundle.timetag} (${bundle.timetag.toDate().toISOString()})`);
console.log(`decoded  ${back}`);
console.log(`equal    ${back.equals(bundle)}`);

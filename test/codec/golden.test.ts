// liblo 0.31's own bytes (reference A.1: `oscsend - PATH TYPES ARGS | xxd -p` and liblo-probes/golden.c):
// each encodes to exactly these bytes and decodes back to equal values.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bundle, Char, decode, encode, INFINITUM, Message, Midi, OscSymbol, TimeTag } from '../../src/index.js';
import { hex, unhex } from '../helpers/hex.js';

const rows: [name: string, message: Message, golden: string][] = [
  ['/i i 42', Message.typed('/i', 'i', 42), '2f6900002c6900000000002a'],
  ['/i i -1', Message.typed('/i', 'i', -1), '2f6900002c690000ffffffff'],
  ['/h h -2', Message.typed('/h', 'h', -2n), '2f6800002c680000fffffffffffffffe'],
  ['/f f 1.5', Message.typed('/f', 'f', 1.5), '2f6600002c6600003fc00000'],
  ['/d d 1.5', Message.typed('/d', 'd', 1.5), '2f6400002c6400003ff8000000000000'],
  ['/s s abc', Message.typed('/s', 's', 'abc'), '2f7300002c73000061626300'],
  ['/s s abcd', Message.typed('/s', 's', 'abcd'), '2f7300002c7300006162636400000000'],
  ['/s s ""', Message.typed('/s', 's', ''), '2f7300002c73000000000000'],
  ['/S S sym', Message.typed('/S', 'S', new OscSymbol('sym')), '2f5300002c53000073796d00'],
  ['/c c A', Message.typed('/c', 'c', new Char('A')), '2f6300002c63000000000041'],
  // oscsend takes the first byte of the UTF-8 of "é"; a Char holds that byte.
  ['/c c é (byte 0xc3)', Message.typed('/c', 'c', new Char(0xc3)), '2f6300002c630000000000c3'],
  ['/m m 90403f7f', Message.typed('/m', 'm', new Midi(0x90, 0x40, 0x3f, 0x7f)), '2f6d00002c6d000090403f7f'],
  ['/T T', Message.typed('/T', 'T', true), '2f5400002c540000'],
  ['/F F', Message.typed('/F', 'F', false), '2f4600002c460000'],
  ['/N N', Message.typed('/N', 'N', null), '2f4e00002c4e0000'],
  ['/I I', Message.typed('/I', 'I', INFINITUM), '2f4900002c490000'],
  ['/empty', new Message('/empty'), '2f656d70747900002c000000'],
  [
    '/mix ifsTN 1 2 x',
    Message.typed('/mix', 'ifsTN', 1, 2, 'x', true, null),
    '2f6d6978000000002c696673544e0000000000014000000078000000',
  ],
  [
    '/a/longer/path ifs 42 3.14 hello',
    Message.typed('/a/longer/path', 'ifs', 42, 3.14, 'hello'),
    '2f612f6c6f6e6765722f7061746800002c696673000000000000002a4048f5c368656c6c6f000000',
  ],
  [
    '/b ,b [1 2 3 4 5]',
    Message.typed('/b', 'b', Uint8Array.of(1, 2, 3, 4, 5)),
    '2f6200002c620000000000050102030405000000',
  ],
  ['/t ,t (1,0x80000000)', Message.typed('/t', 't', new TimeTag(1, 0x80000000)), '2f7400002c7400000000000180000000'],
];

const inner = new Bundle(
  [Message.typed('/bundle', 'is', 23, '23'), Message.typed('/bundle', 'si', '24', 24)],
  new TimeTag(1, 2),
);
const innerHex =
  '2362756e646c65000000000100000002' +
  '00000014' +
  '2f62756e646c65002c6973000000001732330000' +
  '00000014' +
  '2f62756e646c65002c7369003234000000000018';
const bundles: [name: string, bundle: Bundle, golden: string][] = [
  ['bundle (1,2) of two messages (64 bytes)', inner, innerHex],
  [
    'nested bundle (0,1){/o ,f 1.0; <bundle above>} (100 bytes)',
    new Bundle([Message.typed('/o', 'f', 1), inner]),
    `2362756e646c65000000000000000001 0000000c 2f6f00002c6600003f800000 00000040 ${innerHex}`,
  ],
  ['empty bundle (0,1)', new Bundle(), '2362756e646c65000000000000000001'],
];

describe('golden bytes from liblo 0.31', () => {
  for (const [name, message, golden] of rows) {
    test(`message ${name}`, () => {
      assert.equal(hex(encode(message)), golden);
      const back = decode(unhex(golden));
      assert.ok(back instanceof Message);
      assert.ok(back.equals(message), `decoded ${back} != ${message}`);
    });
  }
  for (const [name, bundle, golden] of bundles) {
    test(name, () => {
      const bytes = encode(bundle);
      assert.equal(hex(bytes), golden.replace(/\s+/g, ''));
      const back = decode(bytes);
      assert.ok(back instanceof Bundle);
      assert.ok(back.equals(bundle), `decoded ${back} != ${bundle}`);
    });
  }
  test('64 and 100 byte sizes match liblo', () => {
    assert.equal(encode(inner).length, 64);
    assert.equal(encode(bundles[1]?.[1] as Bundle).length, 100);
  });
  test('inferred typetags give the same bytes where inference picks the same tags', () => {
    assert.equal(hex(encode(new Message('/i', 42))), '2f6900002c6900000000002a');
    assert.equal(hex(encode(new Message('/h', -2n))), '2f6800002c680000fffffffffffffffe');
    assert.equal(hex(encode(new Message('/f', 1.5))), '2f6600002c6600003fc00000');
    assert.equal(
      hex(encode(new Message('/mix', 1, 2.5, 'x', true, null))).slice(0, 32),
      '2f6d6978000000002c696673544e0000',
    );
  });
});

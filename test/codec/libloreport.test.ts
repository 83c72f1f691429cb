// libloReport: what liblo 0.31's server (dispatch_data) reports for a malformed packet, the line
// `aiolo dump` prints as oscdump does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bundle, encode, libloReport, Message, TimeTag } from '../../src/codec/index.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

test('a packet liblo takes has no report', () => {
  assert.equal(libloReport(encode(new Message('/a', 1, 'x'))), undefined);
  assert.equal(libloReport(encode(new Bundle([new Message('/b', 2.5)], TimeTag.IMMEDIATE))), undefined);
  assert.equal(libloReport(new Uint8Array(0)), undefined);
});

test('a bad path: LO_ETERM, LO_ESIZE, LO_EPAD', () => {
  assert.deepEqual(libloReport(bytes('/abc')), { code: 9913, where: '(null)', text: 'Invalid message path' });
  assert.deepEqual(libloReport(bytes('/abcd', [0])), { code: 9911, where: '(null)', text: 'Invalid message path' });
  assert.deepEqual(libloReport(bytes('/a', [0, 1])), { code: 9914, where: '(null)', text: 'Invalid message path' });
});

test('a bad message names its path; r is refused as liblo refuses it', () => {
  assert.deepEqual(libloReport(bytes('/ab', [0], ',r', [0, 0], [1, 2, 3, 4])), {
    code: 9912,
    where: '/ab',
    text: 'Invalid message received',
  });
  assert.deepEqual(libloReport(bytes('/ab', [0], 'xy', [0, 0])), {
    code: 9910,
    where: '/ab',
    text: 'Invalid message received',
  });
});

test('bundles: a bad tiling, and a bad element', () => {
  const ok = encode(new Bundle([new Message('/x', 1)], TimeTag.IMMEDIATE));
  assert.deepEqual(libloReport(ok.subarray(0, ok.length - 2)), { code: 9911, where: '(null)', text: 'Invalid bundle' });
  assert.deepEqual(libloReport(ok.subarray(0, 12)), { code: 9911, where: '(null)', text: 'Invalid bundle' });
  const bad = new Uint8Array(ok);
  // "#bundle\0", timetag, size, then the element: "/x\0\0" at 20, ",i\0\0" at 24
  bad[24] = 0x78; // the typetags lose their ','
  assert.deepEqual(libloReport(bad), { code: 9910, where: '#bundle', text: 'Invalid bundle element received' });
});

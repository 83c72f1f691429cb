import type { OscArg } from '../codec/values.js';

// What a received message may keep alive while it waits in a schedule or a subscription, in bytes.
// Limits on what the network can make a server hold are in bytes, not messages: a 1 MiB packet of
// 1,000,000 `T` typetags decodes to ~9 MB (one 8-byte slot per argument), so counting messages
// bounds nothing. The figures are V8's sizes on 64-bit, rounded up: an estimate that errs high.

/** The records a message travels in (Message, delivery, Incoming), with their headers. */
const RECORD = 160;
/** One argument's slot in an array. */
const SLOT = 8;
/** A boxed number or a bigint of up to 64 bits. */
const BOXED = 24;
/** An object argument: Midi, TimeTag, Char, OscSymbol, Rgba. */
const OBJECT = 64;
/** A typed array's own object, apart from its bytes. */
const VIEW = 96;

export function messageBytes(path: string, typetags: string, args: readonly OscArg[]): number {
  return RECORD + path.length + typetags.length + argsBytes(args);
}

function argsBytes(args: readonly OscArg[]): number {
  let n = 16 + SLOT * args.length;
  for (const a of args) {
    switch (typeof a) {
      case 'number':
        if (!Number.isInteger(a)) n += BOXED;
        break;
      case 'bigint':
        n += BOXED;
        break;
      case 'string':
        n += BOXED + 2 * a.length; // two bytes a character at worst
        break;
      case 'object':
        if (a === null) break;
        if (a instanceof Uint8Array) {
          // a blob is a view into the packet it arrived in: it keeps that whole buffer alive
          n += VIEW + a.buffer.byteLength;
        } else if (Array.isArray(a)) {
          n += argsBytes(a as readonly OscArg[]);
        } else {
          n += OBJECT;
        }
        break;
      default:
        break; // booleans and INFINITUM are shared constants
    }
  }
  return n;
}

import { SENDING } from '../codec/alloc.js';
import { Bundle, type BundleElement } from '../codec/bundle.js';
import { DEFAULT_MAX_PACKET_SIZE, decode } from '../codec/decode.js';
import { encodeFrom, encodeMessageFrom } from '../codec/encode.js';
import { OscEncodeError } from '../codec/errors.js';
import { unmark } from '../codec/marks.js';
import {
  type ArgsTarget,
  checkPath,
  Message,
  type MessageTarget,
  type SendArgs,
  type TypedPath,
} from '../codec/message.js';
import { TimeTag } from '../codec/timetag.js';
import { inferTypetags, typespecString } from '../codec/typespec.js';
import type { OscArg } from '../codec/values.js';

type Target = string | TypedPath | ArgsTarget<readonly OscArg[]>;

function encodeFor(target: Target, args: readonly unknown[]): Uint8Array {
  if (typeof target === 'string') return encodeMessageFrom(SENDING, target, inferTypetags(args), unmark(args));
  if (typeof target.path !== 'string') {
    throw new OscEncodeError('ERR_OSC_INVALID_PATH', 'cannot send to ANY_PATH: a message needs a literal path', {
      value: target.path,
    });
  }
  checkPath(target.path);
  const tags = typespecString(target.typespec);
  return encodeMessageFrom(SENDING, target.path, tags ?? inferTypetags(args), args);
}

/**
 * @internal Sends bytes already known to be valid OSC (a packet a server decoded), without decoding
 * them again: what `server.forward()` uses.
 */
export const SEND_VALID: unique symbol = Symbol('aiolo.sendValid');

/**
 * The sending half shared by every {@link Address}: `send`, `message`, `bundle` and `delay`, each
 * resolving with the number of bytes sent (as liblo's `lo_send` counts them) or rejecting with a
 * `SendError` (or an `OscEncodeError` for values that do not fit).
 */
export abstract class Sender {
  /** Where packets go, as a liblo URL. */
  abstract readonly url: string;
  /** `'udp'`, `'tcp'`, `'unix'`, or the unknown scheme a URL named (sends to it reject). */
  abstract readonly proto: string;

  /** Sends one encoded packet. */
  protected abstract sendPacket(packet: Uint8Array): Promise<number>;

  /**
   * Sends a message: to a route (its typespec types and encodes the arguments), to a
   * `{ path, typespec }`, or to a path string (typetags inferred from the values).
   */
  // One signature rather than overloads, so that a value that does not fit is reported at that
  // value, not at the target (TypeScript reports a failed overload set at its last overload).
  send<X extends MessageTarget>(target: X, ...args: SendArgs<X>): Promise<number>;
  send(target: Target, ...args: readonly unknown[]): Promise<number> {
    let packet: Uint8Array;
    try {
      packet = encodeFor(target, args);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.sendPacket(packet);
  }

  /** Sends a `Message` as it is, with its own typetags. */
  message(message: Message): Promise<number> {
    return this.#sendEncoded(message);
  }

  /** Sends a bundle, or wraps messages and bundles in one stamped `timetag` (default immediate). */
  bundle(bundle: Bundle): Promise<number>;
  bundle(elements: BundleElement | Iterable<BundleElement>, timetag?: TimeTag): Promise<number>;
  bundle(elements: Bundle | BundleElement | Iterable<BundleElement>, timetag?: TimeTag): Promise<number> {
    if (elements instanceof Bundle && timetag !== undefined) {
      return Promise.reject(
        new OscEncodeError('ERR_OSC_INVALID_VALUE', 'a Bundle has its own timetag; pass messages to stamp them'),
      );
    }
    let packet: Bundle;
    try {
      packet = elements instanceof Bundle ? elements : new Bundle(elements, timetag);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#sendEncoded(packet);
  }

  /** Sends a message in a bundle stamped `seconds` from now: the receiver dispatches it then. */
  delay<X extends MessageTarget>(seconds: number, target: X, ...args: SendArgs<X>): Promise<number>;
  delay(seconds: number, target: Target, ...args: readonly unknown[]): Promise<number> {
    let message: Message;
    let timetag: TimeTag;
    try {
      message =
        typeof target === 'string'
          ? new Message(target, ...(args as OscArg[]))
          : Message.typed(target as TypedPath, ...(args as never[]));
      timetag = TimeTag.now().add(seconds);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.bundle(message, timetag);
  }

  /**
   * Sends an already-encoded packet, byte for byte (to forward what a server received, or replay a
   * recording). It is decoded first, and rejects with `OscDecodeError` if it is not valid OSC.
   */
  packet(bytes: Uint8Array): Promise<number> {
    try {
      if (!(bytes instanceof Uint8Array)) {
        throw new OscEncodeError('ERR_OSC_INVALID_VALUE', 'packet() sends a Uint8Array of OSC bytes', {
          value: bytes,
        });
      }
      decode(bytes, { maxPacketSize: Math.max(DEFAULT_MAX_PACKET_SIZE, bytes.length) });
    } catch (err) {
      return Promise.reject(err);
    }
    return this.sendPacket(bytes);
  }

  /** @internal See {@link SEND_VALID}. */
  [SEND_VALID](bytes: Uint8Array): Promise<number> {
    return this.sendPacket(bytes);
  }

  #sendEncoded(packet: Message | Bundle): Promise<number> {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrom(SENDING, packet);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.sendPacket(bytes);
  }
}

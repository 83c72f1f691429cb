import { OscEncodeError } from './errors.js';
import type { TimeTag } from './timetag.js';

function byte(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new OscEncodeError(
      'ERR_OSC_INVALID_VALUE',
      `${name} must be an integer from 0 to 255, got ${String(value)}`,
      {
        value,
      },
    );
  }
  return value;
}

/** An OSC symbol (`S`): a string that a peer may treat as an identifier rather than text. */
export class OscSymbol {
  readonly value: string;
  constructor(value: string) {
    if (typeof value !== 'string') {
      throw new OscEncodeError('ERR_OSC_INVALID_VALUE', 'OscSymbol wraps a string', { value });
    }
    this.value = value;
  }
  /** Whether `other` is an OscSymbol of the same string. */
  equals(other: unknown): boolean {
    return other instanceof OscSymbol && other.value === this.value;
  }
  /** The string, for logs. */
  toString(): string {
    return this.value;
  }
}

/**
 * An OSC char (`c`): one byte, sent as an int32 whose low 8 bits hold it (liblo's layout).
 * Built from a number 0-255 or a one-character string whose code point is at most U+00FF.
 */
export class Char {
  /** The byte value, 0-255. */
  readonly code: number;
  constructor(value: string | number) {
    if (typeof value === 'number') {
      this.code = byte('Char', value);
    } else if (typeof value === 'string' && value.length === 1 && value.charCodeAt(0) <= 0xff) {
      this.code = value.charCodeAt(0);
    } else {
      throw new OscEncodeError(
        'ERR_OSC_INVALID_VALUE',
        `Char takes a byte or a single character from U+0000 to U+00FF, got ${JSON.stringify(value)}`,
        { value },
      );
    }
  }
  /** The character, read as Latin-1. */
  get value(): string {
    return String.fromCharCode(this.code);
  }
  /** Whether `other` is a Char of the same character. */
  equals(other: unknown): boolean {
    return other instanceof Char && other.code === this.code;
  }
  /** The character, for logs. */
  toString(): string {
    return this.value;
  }
}

/** A MIDI message (`m`): port id, status byte, data1, data2, sent as four bytes in that order. */
export class Midi {
  readonly port: number;
  readonly status: number;
  readonly data1: number;
  readonly data2: number;
  constructor(port: number, status: number, data1: number, data2: number) {
    this.port = byte('Midi port', port);
    this.status = byte('Midi status', status);
    this.data1 = byte('Midi data1', data1);
    this.data2 = byte('Midi data2', data2);
  }
  /** The four bytes as sent. */
  toBytes(): Uint8Array {
    return Uint8Array.of(this.port, this.status, this.data1, this.data2);
  }
  /** Whether `other` is a Midi message of the same four bytes. */
  equals(other: unknown): boolean {
    return (
      other instanceof Midi &&
      other.port === this.port &&
      other.status === this.status &&
      other.data1 === this.data1 &&
      other.data2 === this.data2
    );
  }
  /** A readable form of the four bytes, for logs. */
  toString(): string {
    return `Midi(${this.port}, ${this.status}, ${this.data1}, ${this.data2})`;
  }
}

/** An RGBA colour (`r`), OSC 1.0's optional type. liblo 0.31 rejects it, so it is never inferred. */
export class Rgba {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
  constructor(r: number, g: number, b: number, a: number) {
    this.r = byte('Rgba r', r);
    this.g = byte('Rgba g', g);
    this.b = byte('Rgba b', b);
    this.a = byte('Rgba a', a);
  }
  /** Whether `other` is an Rgba of the same four components. */
  equals(other: unknown): boolean {
    return (
      other instanceof Rgba && other.r === this.r && other.g === this.g && other.b === this.b && other.a === this.a
    );
  }
  /** A readable form of the four components, for logs. */
  toString(): string {
    return `Rgba(${this.r}, ${this.g}, ${this.b}, ${this.a})`;
  }
}

/**
 * OSC's `I` (Infinitum in OSC 1.0 and liblo, Impulse in OSC 1.1): a typetag with no data.
 * A registered symbol, so two copies of aiolo in one process agree on it.
 */
export const INFINITUM: unique symbol = Symbol.for('aiolo.INFINITUM');
/** The type of {@link INFINITUM}, the value of typetag `I`. */
export type Infinitum = typeof INFINITUM;

/** Every value an OSC argument can hold. Arrays are OSC 1.0's optional `[` `]`. */
export type OscArg =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | OscSymbol
  | Char
  | Midi
  | Rgba
  | TimeTag
  | Infinitum
  | readonly OscArg[];

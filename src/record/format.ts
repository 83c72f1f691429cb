// The recording file format, version 1: JSON Lines. The first line is a header, each further line
// one packet as it arrived. Written by the recorder, read by the replayer, and simple enough to
// write by hand (see the README's "Record and replay").
import { DEFAULT_MAX_PACKET_SIZE, decode } from '../codec/decode.js';
import { OscDecodeError } from '../codec/errors.js';
import { TimeTag } from '../codec/timetag.js';
import { OscRecordingError } from './errors.js';

/** The format version this aiolo writes and reads. */
export const RECORDING_VERSION = 1;
/** The header's `aiolo` field: what marks a file as an aiolo recording. */
export const RECORDING_MAGIC = 'recording';

/** The first line: `{"aiolo":"recording","version":1,"start":"e8f1a2b3.00000000","urls":[...]}`. */
export interface RecordingHeader {
  readonly version: number;
  /** When recording began (a TimeTag: NTP time, `%08x.%08x`); each packet's `ns` counts from it. */
  readonly start: TimeTag | undefined;
  /** Where the recorder listened. */
  readonly urls: readonly string[];
}

/** One packet line: `{"ns":1500000,"proto":"udp","source":"osc.udp://127.0.0.1:5000/","data":"L2EAACwAAAA="}`. */
export interface RecordedPacket {
  /** Nanoseconds from the header's `start` to the packet's arrival. Never decreases from line to line. */
  readonly ns: number;
  /** The packet's bytes, exactly as they arrived. */
  readonly data: Uint8Array;
  /** The transport it came by (`udp`, `tcp`, `unix`, `ws`), if known. */
  readonly proto: string | undefined;
  /** The sender's URL, if known. */
  readonly source: string | undefined;
  /** Which of the header's `urls` it arrived at (when there are several). */
  readonly to: number | undefined;
  /** For a packet that is not valid OSC: the decoder's error code. Replay skips it unless asked. */
  readonly malformed: string | undefined;
}

const TIMETAG = /^([0-9a-f]{8})\.([0-9a-f]{8})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Nanoseconds from `start` to `t`, rounded down. */
export function nanosBetween(start: TimeTag, t: TimeTag): number {
  return Number(((t.toBigInt() - start.toBigInt()) * 1_000_000_000n) >> 32n);
}

export function headerLine(start: TimeTag, urls: readonly string[]): string {
  return `${JSON.stringify({ aiolo: RECORDING_MAGIC, version: RECORDING_VERSION, start: start.toString(), urls })}\n`;
}

export function packetLine(p: Omit<RecordedPacket, 'data'> & { data: Uint8Array }): string {
  const o: Record<string, unknown> = { ns: p.ns };
  if (p.proto !== undefined) o.proto = p.proto;
  if (p.source !== undefined) o.source = p.source;
  if (p.to !== undefined) o.to = p.to;
  if (p.malformed !== undefined) o.malformed = p.malformed;
  o.data = Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).toString('base64');
  return `${JSON.stringify(o)}\n`;
}

function object(text: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OscRecordingError('ERR_OSC_RECORDING_INVALID', line, `not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new OscRecordingError('ERR_OSC_RECORDING_INVALID', line, 'not a JSON object');
  return value as Record<string, unknown>;
}

function optionalString(o: Record<string, unknown>, key: string, line: number): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw new OscRecordingError('ERR_OSC_RECORDING_INVALID', line, `"${key}" must be a string`);
  return v;
}

/** Reads the header (line 1). */
export function parseHeader(text: string, line = 1): RecordingHeader {
  const o = object(text, line);
  if (o.aiolo !== RECORDING_MAGIC)
    throw new OscRecordingError(
      'ERR_OSC_RECORDING_VERSION',
      line,
      'not an aiolo recording: the header needs "aiolo":"recording"',
    );
  if (o.version !== RECORDING_VERSION)
    throw new OscRecordingError(
      'ERR_OSC_RECORDING_VERSION',
      line,
      `recording format version ${JSON.stringify(o.version)}; this aiolo reads version ${RECORDING_VERSION}`,
    );
  const startText = optionalString(o, 'start', line);
  let start: TimeTag | undefined;
  if (startText !== undefined) {
    const m = TIMETAG.exec(startText);
    if (m === null)
      throw new OscRecordingError('ERR_OSC_RECORDING_INVALID', line, '"start" must be a timetag written %08x.%08x');
    start = new TimeTag(Number.parseInt(m[1] as string, 16), Number.parseInt(m[2] as string, 16));
  }
  const urls = o.urls ?? [];
  if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string'))
    throw new OscRecordingError('ERR_OSC_RECORDING_INVALID', line, '"urls" must be an array of strings');
  return { version: RECORDING_VERSION, start, urls };
}

/**
 * Reads one packet line. `previousNs` is the line before's `ns` (it may not go back). A packet not
 * marked malformed must be valid OSC: it is checked here, so that replay sends it without decoding.
 */
export function parsePacket(text: string, line: number, previousNs = 0): RecordedPacket {
  const o = object(text, line);
  const ns = o.ns;
  if (typeof ns !== 'number' || !Number.isSafeInteger(ns) || ns < 0)
    throw new OscRecordingError('ERR_OSC_RECORDING_INVALID', line, '"ns" must be a whole number of nanoseconds >= 0');
  if (ns < previousNs)
    throw new OscRecordingError('ERR_OSC_RECORDING_INVALID', line, `"ns" goes back in time (${ns} < ${previousNs})`);
  const data = o.data;
  if (typeof data !== 'string' || !BASE64.test(data))
    throw new OscRecordingError('ERR_OSC_RECORDING_INVALID', line, '"data" must be the packet in base64');
  const to = o.to;
  if (to !== undefined && (typeof to !== 'number' || !Number.isSafeInteger(to) || to < 0))
    throw new OscRecordingError('ERR_OSC_RECORDING_INVALID', line, '"to" must be an index into the header\'s urls');
  const bytes = new Uint8Array(Buffer.from(data, 'base64'));
  const malformed = optionalString(o, 'malformed', line);
  if (malformed === undefined) {
    try {
      decode(bytes, { maxPacketSize: Math.max(DEFAULT_MAX_PACKET_SIZE, bytes.length) });
    } catch (err) {
      if (!(err instanceof OscDecodeError)) throw err;
      throw new OscRecordingError(
        'ERR_OSC_RECORDING_INVALID',
        line,
        `"data" is not valid OSC (${err.code}: ${err.message}); mark it with "malformed" to keep it`,
        { cause: err },
      );
    }
  }
  return {
    ns,
    data: bytes,
    proto: optionalString(o, 'proto', line),
    source: optionalString(o, 'source', line),
    to,
    malformed,
  };
}

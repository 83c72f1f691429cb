// What liblo 0.31's server reports for a malformed packet (server.c dispatch_data), so that tools
// can print oscdump's error lines: `liblo server error CODE in path WHERE: TEXT`. It walks the
// packet as dispatch_data does, with the decoder's own structural rules (structure.ts).
import { readUint32 } from './bytes.js';
import { decode, validateString as scanString } from './decode.js';
import { OscDecodeError } from './errors.js';
import { bundleTilingProblem, isBundle } from './structure.js';
import { readUtf8 } from './utf8.js';

/** liblo's report of a malformed packet: its error number, the path it names, its text. */
export interface LibloReport {
  readonly code: number;
  readonly where: string;
  readonly text: string;
}

// lo/lo_errors.h
const LO_ESIZE = 9911;
const LO_ETERM = 9913;
const LO_EPAD = 9914;
/** What a non-decode error would be reported as (LO_EINVALIDBUND is 9906); decode throws no other. */
const LO_FALLBACK = 9906;

/** liblo's error numbers for the decoder's string problems (-1, -2, -3: no NUL, past the end, bad padding). */
const STRING_ERRORS = [0, LO_ETERM, LO_ESIZE, LO_EPAD];

/** lo_validate_string: the padded end of the string at `start`, or a negative liblo error number. */
function validateString(bytes: Uint8Array, start: number, end: number): number {
  const padded = scanString(bytes, start, end);
  return padded < 0 ? -(STRING_ERRORS[-padded] as number) : padded;
}

/** The C string at `at`: up to its NUL, as UTF-8. */
function cString(bytes: Uint8Array, at: number, end: number): string {
  let nul = at;
  while (nul < end && bytes[nul] !== 0) nul++;
  return readUtf8(bytes, at, nul);
}

function messageError(message: Uint8Array): number | undefined {
  if (message.length === 0) return LO_ESIZE;
  try {
    decode(message, { extendedTypes: false, maxPacketSize: Number.POSITIVE_INFINITY });
    return undefined;
  } catch (err) {
    return err instanceof OscDecodeError ? err.libloCode : LO_FALLBACK;
  }
}

const TIMETAG_BYTES = 8;
const INVALID_BUNDLE: LibloReport = { code: LO_ESIZE, where: '(null)', text: 'Invalid bundle' };

function dispatchData(bytes: Uint8Array, start: number, end: number): LibloReport | undefined {
  const pathEnd = validateString(bytes, start, end);
  if (pathEnd < 0) return { code: -pathEnd, where: '(null)', text: 'Invalid message path' };
  if (!isBundle(bytes, start, end)) {
    const code = messageError(bytes.subarray(start, end));
    return code === undefined
      ? undefined
      : { code, where: cString(bytes, start, end), text: 'Invalid message received' };
  }
  // lo_validate_bundle: after "#bundle\0" (the path, for liblo) a timetag, then element sizes tiling the rest
  if (end - pathEnd < TIMETAG_BYTES) return INVALID_BUNDLE;
  const first = pathEnd + TIMETAG_BYTES;
  if (bundleTilingProblem(bytes, first, end) >= 0) return INVALID_BUNDLE;
  for (let pos = first; pos < end; ) {
    const at = pos + 4;
    const next = at + readUint32(bytes, pos);
    if (isBundle(bytes, at, next)) {
      const nested = dispatchData(bytes, at, next);
      if (nested !== undefined) return nested;
    } else {
      const code = messageError(bytes.subarray(at, next));
      if (code !== undefined) return { code, where: '#bundle', text: 'Invalid bundle element received' };
    }
    pos = next;
  }
  return undefined;
}

/**
 * What liblo 0.31's server reports (`dispatch_data`) for `packet`, or undefined when liblo would
 * take it (a packet only aiolo's own limits refuse). For tools that print liblo's error lines.
 */
export function libloReport(packet: Uint8Array): LibloReport | undefined {
  return packet.length > 0 ? dispatchData(packet, 0, packet.length) : undefined;
}

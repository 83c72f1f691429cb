// What liblo's server reports for a malformed packet (server.c dispatch_data), so that `aiolo dump`
// prints oscdump's error lines: `liblo server error CODE in path WHERE: TEXT`.
import { decode, OscDecodeError } from '../index.js';

export interface LibloReport {
  readonly code: number;
  readonly where: string;
  readonly text: string;
}

const ETERM = 9913;
const ESIZE = 9911;
const EPAD = 9914;

/** lo_validate_string: the padded length, or a negative liblo error number. */
function validateString(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && bytes[i] !== 0) i++;
  if (i >= end) return -ETERM;
  const len = (Math.floor((i - start) / 4) + 1) * 4;
  if (start + len > end) return -ESIZE;
  for (let k = i; k < start + len; k++) if (bytes[k] !== 0) return -EPAD;
  return len;
}

function readU32(b: Uint8Array, at: number): number {
  return (
    ((b[at] as number) * 0x1000000 +
      ((b[at + 1] as number) << 16) +
      ((b[at + 2] as number) << 8) +
      (b[at + 3] as number)) >>>
    0
  );
}

function isBundle(b: Uint8Array, at: number, end: number): boolean {
  return end - at >= 8 && Buffer.from(b.subarray(at, at + 8)).toString('latin1') === '#bundle\0';
}

function cString(b: Uint8Array, at: number, end: number): string {
  let i = at;
  while (i < end && b[i] !== 0) i++;
  return Buffer.from(b.subarray(at, i)).toString('utf8');
}

function dispatchData(b: Uint8Array, start: number, end: number): LibloReport | undefined {
  const len = validateString(b, start, end);
  if (len < 0) return { code: -len, where: '(null)', text: 'Invalid message path' };
  if (isBundle(b, start, end)) {
    // lo_validate_bundle: timetag, then element sizes tiling the rest
    let pos = start + len;
    if (end - pos < 8) return { code: ESIZE, where: '(null)', text: 'Invalid bundle' };
    pos += 8;
    const first = pos;
    while (end - pos >= 4) {
      const size = readU32(b, pos);
      pos += 4;
      if (size > end - pos) return { code: ESIZE, where: '(null)', text: 'Invalid bundle' };
      pos += size;
    }
    if (pos !== end) return { code: ESIZE, where: '(null)', text: 'Invalid bundle' };
    for (pos = first; pos < end; ) {
      const size = readU32(b, pos);
      const at = pos + 4;
      if (isBundle(b, at, at + size)) {
        const nested = dispatchData(b, at, at + size);
        if (nested !== undefined) return nested;
      } else {
        const code = messageError(b.subarray(at, at + size));
        if (code !== undefined) return { code, where: '#bundle', text: 'Invalid bundle element received' };
      }
      pos = at + size;
    }
    return undefined;
  }
  const code = messageError(b.subarray(start, end));
  return code === undefined ? undefined : { code, where: cString(b, start, end), text: 'Invalid message received' };
}

function messageError(message: Uint8Array): number | undefined {
  if (message.length === 0) return ESIZE;
  try {
    decode(message, { extendedTypes: false, maxPacketSize: Number.POSITIVE_INFINITY });
    return undefined;
  } catch (err) {
    return err instanceof OscDecodeError ? err.libloCode : 9906;
  }
}

/** liblo's report for a packet aiolo found malformed (or a fallback from the error itself). */
export function libloReport(packet: Uint8Array, error: OscDecodeError): LibloReport {
  return (
    (packet.length > 0 ? dispatchData(packet, 0, packet.length) : undefined) ?? {
      code: error.libloCode,
      where: '(null)',
      text: error.message,
    }
  );
}

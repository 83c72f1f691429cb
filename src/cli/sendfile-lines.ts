// How liblo 0.31's oscsendfile reads its input, line by line, as observed on the real binary: the
// line is read into one 1024-byte buffer (fgets), cut in place on " \r\n" (strtok_r), and the
// pointers to the typetags and values are kept from one line to the next. A line that gives fewer
// tokens than the one before therefore reuses what is still in the buffer at the old places (a
// line "/a" after "/b i 1" sends "/a ,i 1"). This model keeps those places as offsets into a buffer
// of the same size, so that aiolo reads every file — odd lines included — as oscsendfile does.
import { Char, INFINITUM, Midi, type OscArg, TimeTag } from '../index.js';
import { INT_MAX, INT_MIN, LLONG_MAX, LLONG_MIN, scanHex8, strtofloat, strtoll } from './cnum.js';

/** fgets' buffer: a line is at most 1023 bytes, the rest of a longer one is read as the next line. */
export const LINE_BYTES = 1024;
/** The pointers kept for a line: the typetags and the values after them, in a fixed array. */
export const VALUE_SLOTS = 63;

const SPACE = new Set([0x20, 0x0d, 0x0a]); // " \r\n"
const DOT = new Set([0x2e]);
const QUOTE = 0x22;

/** A parsed line: a message and the (re-based) timetag of the bundle it goes in. */
export interface Parsed {
  readonly path: string;
  readonly typetags: string;
  readonly args: OscArg[];
  readonly timetag: TimeTag;
}

/** A line that makes no message: what oscsendfile prints before "Failed to create OSC message.". */
export class Refused extends Error {
  constructor(readonly lines: Buffer) {
    super(lines.toString('latin1'));
  }
}

const utf8 = new TextDecoder('utf-8');

/** Reads `line`-sized pieces of a byte stream as fgets does. */
export class Fgets {
  #pending: Buffer = Buffer.alloc(0);
  #ended = false;

  /** Adds bytes read from the file; `end()` once there are no more. */
  push(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
  }

  end(): void {
    this.#ended = true;
  }

  /** The next "line" (up to LINE_BYTES-1 bytes, through a newline), or null: more input is needed
   * (`undefined` once the input has ended and nothing is left). */
  next(): Buffer | null | undefined {
    const nl = this.#pending.indexOf(0x0a);
    const limit = LINE_BYTES - 1;
    let n: number;
    if (nl >= 0 && nl < limit) n = nl + 1;
    else if (this.#pending.length >= limit) n = limit;
    else if (this.#ended) n = this.#pending.length;
    else return null;
    if (n === 0) return undefined;
    const line = this.#pending.subarray(0, n);
    this.#pending = this.#pending.subarray(n);
    return line;
  }
}

/** C's errno as the number parsing leaves it: set to ERANGE by one call, never reset. */
interface Errno {
  erange: boolean;
}

/** strtoul(s, NULL, 16), the low 32 bits (the tool keeps a uint32). */
function strtoul16(s: string, errno: Errno): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]*)/.exec(s) as RegExpExecArray;
  const digits = m[2] as string;
  if (digits === '') return 0;
  let v = BigInt(`0x${digits}`);
  if (v > 0xffff_ffff_ffff_ffffn) {
    errno.erange = true;
    return 0xffff_ffff;
  }
  if (m[1] === '-') v = (1n << 64n) - v;
  return Number(v & 0xffff_ffffn);
}

const F64 = new Float64Array(1);
/** x86's cvttsd2si to a 64-bit integer, then its low 32 bits: out of range (or NaN) is 2^63. */
function cvttLow32(x: number): number {
  if (!(Math.abs(x) < 2 ** 63)) return 0;
  F64[0] = Math.trunc(x);
  const v = BigInt(F64[0] as number);
  return Number(BigInt.asUintN(32, v));
}

/**
 * oscsendfile's scaling of a timetag difference by 1/speed: `x = (sec + frac/2^32) * k`, seconds
 * the floor of x (when |x| < 2^52) cut to 32 bits, fraction `(x - seconds) * 2^32` cut to 32 bits.
 */
export function scale(sec: number, frac: number, k: number): [number, number] {
  const x = (frac * 2 ** -32 + sec) * k;
  let whole = x;
  if (Math.abs(x) < 2 ** 52) whole = Math.floor(x);
  const s = cvttLow32(whole);
  return [s, cvttLow32((x - s) * 2 ** 32)];
}

/** A timetag as oscsendfile's two 32-bit words. */
interface Slot {
  sec: number;
  frac: number;
}

/** The reader: the buffer and pointers that outlive a line, the base of the timetags, errno. */
export class SendfileReader {
  readonly #buf = Buffer.alloc(LINE_BYTES);
  /** Offsets into #buf: [typetags, value 1, value 2, …]; -1 is a NULL pointer. */
  readonly #slots = new Array<number>(VALUE_SLOTS + 1).fill(-1);
  #save = 0; // strtok_r's place
  #dotSave = 0; // strtok's (static) place
  readonly errno: Errno = { erange: false };
  #haveBase = false;
  #baseSec = 0;
  #baseFrac = 0;
  // two timetag slots that swap when a bundle starts: the pending bundle's and this line's
  #prev: Slot = { sec: 0, frac: 0 };
  #cur: Slot = { sec: 0, frac: 0 };

  /** `now` is the time the file was opened; `k` is 1/speed. */
  constructor(
    readonly now: TimeTag,
    readonly k: number,
  ) {}

  /** The pending bundle's timetag (what oscsendfile waits for), and whether `t` is the same. */
  get pending(): TimeTag {
    return new TimeTag(this.#prev.sec >>> 0, this.#prev.frac >>> 0);
  }

  /** A bundle has started with this line's timetag: the slots swap. */
  started(): void {
    [this.#prev, this.#cur] = [this.#cur, this.#prev];
  }

  /** The C string at `at` (up to its NUL). */
  #cstr(at: number): Buffer {
    const end = this.#buf.indexOf(0, at);
    return this.#buf.subarray(at, end < 0 ? LINE_BYTES : end);
  }

  #tok(from: number | null, delims: Set<number>, dot: boolean): number {
    let p = from ?? (dot ? this.#dotSave : this.#save);
    const b = this.#buf;
    while (p < LINE_BYTES && b[p] !== 0 && delims.has(b[p] as number)) p++;
    if (p >= LINE_BYTES || b[p] === 0) {
      if (dot) this.#dotSave = p;
      else this.#save = p;
      return -1;
    }
    const start = p;
    while (p < LINE_BYTES && b[p] !== 0 && !delims.has(b[p] as number)) p++;
    let next = p;
    if (p < LINE_BYTES && b[p] !== 0) {
      b[p] = 0;
      next = p + 1;
    }
    if (dot) this.#dotSave = next;
    else this.#save = next;
    return start;
  }

  /**
   * One line (as {@link Fgets} cut it): undefined when it makes no message (blank, or a timetag
   * without a path); throws {@link Refused} when oscsendfile would stop at it.
   */
  line(bytes: Buffer): Parsed | undefined {
    bytes.copy(this.#buf, 0, 0, Math.min(bytes.length, LINE_BYTES - 1));
    this.#buf[Math.min(bytes.length, LINE_BYTES - 1)] = 0;
    const first = this.#tok(0, SPACE, false);
    if (first < 0) return undefined;
    let pathAt: number;
    const cur = this.#cur;
    if (this.#buf[first] === 0x2f) {
      cur.sec = 0;
      cur.frac = 1;
      pathAt = first;
    } else {
      this.#rebase(first);
      pathAt = this.#tok(null, SPACE, false);
      this.#haveBase = true;
      if (pathAt < 0) return undefined;
    }
    const types = this.#tok(null, SPACE, false);
    if (types >= 0) this.#slots[0] = types;
    for (let i = 1; ; i++) {
      const v = this.#tok(null, SPACE, false);
      if (v < 0) break;
      if (i <= VALUE_SLOTS) this.#slots[i] = v;
    }
    const path = utf8.decode(this.#cstr(pathAt));
    const { typetags, args } = this.#message();
    return { path, typetags, args, timetag: new TimeTag(cur.sec >>> 0, cur.frac >>> 0) };
  }

  /** Whether this line's timetag equals the pending bundle's (then it joins that bundle). */
  sameAsPending(): boolean {
    return this.#prev.sec >>> 0 === this.#cur.sec >>> 0 && this.#prev.frac >>> 0 === this.#cur.frac >>> 0;
  }

  // the leading SEC.FRAC (hex): the difference from the first one, times 1/speed, plus now
  #rebase(tokenAt: number): void {
    const cur = this.#cur;
    const text = (at: number) => this.#cstr(at).toString('latin1');
    const secAt = this.#tok(tokenAt, DOT, true);
    let ecx: number;
    if (secAt >= 0) {
      const sec = strtoul16(text(secAt), this.errno);
      cur.sec = sec;
      const fracAt = this.#tok(null, DOT, true);
      if (!this.#haveBase) {
        this.#baseSec = sec;
        if (fracAt >= 0) {
          this.#baseFrac = strtoul16(text(fracAt), this.errno);
          cur.sec = 0;
          cur.frac = 0;
          this.#place();
          return;
        }
        ecx = cur.frac;
      } else if (fracAt >= 0) {
        cur.frac = strtoul16(text(fracAt), this.errno);
        ecx = cur.frac;
      } else {
        ecx = cur.frac;
      }
    } else {
      // nothing but dots: the slot keeps what it held
      this.#tok(null, DOT, true);
      ecx = cur.frac;
    }
    const edx = (ecx - this.#baseFrac) >>> 0;
    let eax = (cur.sec - this.#baseSec) >>> 0;
    if (ecx >>> 0 < this.#baseFrac >>> 0) eax = (eax - 1) >>> 0;
    cur.sec = eax;
    cur.frac = edx;
    this.#place();
  }

  // scaled by 1/speed and added to the time the file was opened
  #place(): void {
    const cur = this.#cur;
    const [s, f] = scale(cur.sec >>> 0, cur.frac >>> 0, this.k);
    const frac = f + this.now.fraction;
    cur.frac = frac >>> 0;
    cur.sec = (s + this.now.seconds + (frac > 0xffff_ffff ? 1 : 0)) >>> 0;
  }

  // oscsend's message making, on the kept pointers
  #message(): { typetags: string; args: OscArg[] } {
    const typesAt = this.#slots[0] as number;
    const tags = typesAt < 0 ? Buffer.alloc(0) : Buffer.from(this.#cstr(typesAt));
    let typetags = '';
    const args: OscArg[] = [];
    let v = 1;
    const refuse = (...parts: (string | Buffer)[]): never => {
      throw new Refused(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))));
    };
    for (let i = 0; i < tags.length; i++) {
      const tag = String.fromCharCode(tags[i] as number);
      if ('TFNI'.includes(tag)) {
        typetags += tag;
        args.push(tag === 'T' ? true : tag === 'F' ? false : tag === 'N' ? null : INFINITUM);
        continue;
      }
      if (!'ihfdsScm'.includes(tag))
        refuse(`Type '`, Buffer.from([tags[i] as number]), `' is not supported or invalid.\n`);
      const at = v < this.#slots.length ? (this.#slots[v] as number) : -1;
      if (at < 0) refuse(`Value #${i + 1} is not given.\n`);
      const raw = this.#cstr(at);
      const s = raw.toString('latin1');
      const quoted = (): Buffer => Buffer.concat([Buffer.from("'"), raw, Buffer.from("'\n")]);
      switch (tag) {
        case 'i':
        case 'h': {
          const r = strtoll(s);
          this.errno.erange ||= r.erange;
          if (!r.whole) refuse('An invalid value was given: ', quoted());
          const limit = r.value === LLONG_MAX || r.value === LLONG_MIN;
          if (tag === 'i' ? limit || r.value > INT_MAX || r.value < INT_MIN : limit && this.errno.erange) {
            refuse('Value out of range: ', quoted());
          }
          args.push(tag === 'i' ? Number(r.value) : r.value);
          break;
        }
        case 'f':
        case 'd': {
          const r = strtofloat(s, tag === 'f' ? 'float' : 'double');
          this.errno.erange ||= r.erange;
          if (!r.whole) {
            // for d, perror(NULL) first: errno's words
            const perror = tag === 'd' ? `${this.errno.erange ? 'Numerical result out of range' : 'Success'}\n` : '';
            refuse(perror, 'An invalid value was given: ', quoted());
          }
          args.push(r.value);
          break;
        }
        case 's':
        case 'S': {
          // a closing quote is cut off in the buffer (even at the byte before an empty string),
          // then an opening one skipped; S goes as s
          const last = at + raw.length - 1;
          if (last >= 0 && this.#buf[last] === QUOTE) this.#buf[last] = 0;
          const start = this.#buf[at] === QUOTE ? at + 1 : at;
          args.push(utf8.decode(this.#cstr(start)));
          typetags += 's';
          v++;
          continue;
        }
        case 'c':
          args.push(new Char(raw[0] ?? 0));
          break;
        case 'm': {
          const u = scanHex8(s);
          if (u === undefined) refuse('An invalid hexadecimal value was given: ', quoted());
          const n = u as number;
          args.push(new Midi(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff));
          break;
        }
      }
      typetags += tag;
      v++;
    }
    return { typetags, args };
  }
}

// OSC over a serial device (`osc.serial:///dev/ttyACM0?baud=115200`): SLIP-framed packets, as
// CNMAT's OSC library for Arduino (`SLIPEncodedSerial`) and its ports to Teensy and ESP32 speak
// them over USB serial. The port comes from the optional package `serialport`, loaded on first use.
//
// A device is one bidirectional endpoint that comes and goes (unplugged, reset, re-enumerated), so
// it is one `SerialLink` for as long as its owner (a Server, an Address) keeps it: the link reopens
// the device after it is lost, with backoff, and what was made from it (a message's `source`, a
// server's address) goes on working once the device is back. Each time the device is open, its
// bytes go through a StreamLink (stream.ts) with `line` set: SLIP both ways, CNMAT's double END,
// frames over the limit reported and skipped.
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { debuglog } from 'node:util';
import { type ConnectionErrorCode, OscConfigError, SendError, StartError } from './errors.js';
import { type Link, type LinkHandlers, nextActivity } from './link.js';
import { type ByteStream, type StreamLimits, StreamLink } from './stream.js';
import type { ParsedUrl } from './url.js';

const debug = debuglog('aiolo');

/** The baud rate of a URL without `baud`: what CNMAT's examples and most boards' sketches use. */
export const DEFAULT_BAUD_RATE = 115200;
/** The first wait before the device is opened again after it was lost, in milliseconds. */
export const REOPEN_MIN_DELAY = 250;
/** The longest wait between two tries to open a lost device again (the wait doubles up to it). */
export const REOPEN_MAX_DELAY = 5000;
/**
 * How often an open device's node is looked at, in milliseconds. A driver does not always say that
 * its device is gone: a pseudo-terminal whose other end closed reads as end-of-file, which
 * serialport takes for "nothing yet" and reads again. A node that is gone, or is another device
 * now (a symlink such as /dev/serial/by-id/... pointing elsewhere), means the device was lost.
 */
export const PRESENCE_CHECK_INTERVAL = 500;

/** A serial line's settings, from the URL's query (see {@link serialSettings}). */
export interface SerialSettings {
  /** The device: `/dev/ttyACM0`, `/dev/ttyUSB0`, `/dev/cu.usbmodem1101`, `COM3`. */
  readonly path: string;
  readonly baudRate: number;
  readonly dataBits: 5 | 6 | 7 | 8;
  readonly parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  readonly stopBits: 1 | 1.5 | 2;
  /** RTS/CTS hardware flow control. */
  readonly rtscts: boolean;
}

/** The query parameters of an `osc.serial://` URL. */
export const SERIAL_PARAMETERS = ['baud', 'databits', 'parity', 'stopbits', 'rtscts'] as const;

function badParameter(url: string, message: string): never {
  throw new OscConfigError('ERR_OSC_INVALID_URL', `invalid OSC URL ${JSON.stringify(url)}: ${message}`);
}

/**
 * The line settings of a parsed `osc.serial://` URL: `baud` (default 115200), `databits` (5–8,
 * default 8), `parity` (`none`, `even`, `odd`, `mark`, `space`; default none), `stopbits` (1, 1.5,
 * 2; default 1), `rtscts` (`true`/`false`, `1`/`0`; default false). XON/XOFF is not offered: its
 * bytes (0x11, 0x13) occur in binary OSC packets, which SLIP does not escape. Throws OscConfigError
 * for an unknown parameter or a bad value.
 */
export function serialSettings(parsed: ParsedUrl, url: string): SerialSettings {
  const q = parsed.query ?? {};
  for (const name of Object.keys(q)) {
    if (!(SERIAL_PARAMETERS as readonly string[]).includes(name)) {
      badParameter(
        url,
        `unknown parameter ${JSON.stringify(name)}; a serial URL takes ${SERIAL_PARAMETERS.join(', ')}`,
      );
    }
  }
  const baud = q.baud ?? String(DEFAULT_BAUD_RATE);
  if (!/^\d+$/.test(baud) || Number(baud) < 1 || Number(baud) > 100_000_000) {
    badParameter(url, `baud is a positive whole number of bits per second (115200), got ${JSON.stringify(baud)}`);
  }
  const dataBits = q.databits ?? '8';
  if (!/^[5-8]$/.test(dataBits)) badParameter(url, `databits is 5, 6, 7 or 8, got ${JSON.stringify(dataBits)}`);
  const parity = (q.parity ?? 'none').toLowerCase();
  if (!['none', 'even', 'odd', 'mark', 'space'].includes(parity)) {
    badParameter(url, `parity is none, even, odd, mark or space, got ${JSON.stringify(q.parity)}`);
  }
  const stopBits = q.stopbits ?? '1';
  if (!['1', '1.5', '2'].includes(stopBits))
    badParameter(url, `stopbits is 1, 1.5 or 2, got ${JSON.stringify(stopBits)}`);
  const rtscts = (q.rtscts ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(rtscts)) {
    badParameter(url, `rtscts is true or false, got ${JSON.stringify(q.rtscts)}`);
  }
  return {
    path: parsed.path as string,
    baudRate: Number(baud),
    dataBits: Number(dataBits) as SerialSettings['dataBits'],
    parity: parity as SerialSettings['parity'],
    stopBits: Number(stopBits) as SerialSettings['stopBits'],
    rtscts: rtscts === 'true' || rtscts === '1',
  };
}

/** The URL of a serial line: its device and baud rate, and whichever other settings are not the default. */
export function serialUrl(s: SerialSettings): string {
  let query = `?baud=${s.baudRate}`;
  if (s.dataBits !== 8) query += `&databits=${s.dataBits}`;
  if (s.parity !== 'none') query += `&parity=${s.parity}`;
  if (s.stopBits !== 1) query += `&stopbits=${s.stopBits}`;
  if (s.rtscts) query += '&rtscts=true';
  return `osc.serial://${s.path}${query}`;
}

// ---- the optional package

/** What aiolo uses of serialport's `SerialPort` (a Duplex stream), declared here so that aiolo's
 * published declarations do not need the optional package. */
interface RawPort extends ByteStream {
  open(callback: (err: Error | null) => void): void;
  /** The binding's port, while open. */
  readonly port?: { readonly isOpen: boolean; close(): Promise<void> } | undefined;
}
interface SerialPortModule {
  SerialPort: new (options: {
    path: string;
    baudRate: number;
    dataBits: number;
    parity: string;
    stopBits: number;
    rtscts: boolean;
    autoOpen: false;
    lock: boolean;
  }) => RawPort;
}

/** The package loaded on first use (tests replace the name to see the error of a missing one). */
let packageName = 'serialport';
let loaded: SerialPortModule | Error | undefined;

function load(): SerialPortModule | Error {
  if (loaded === undefined) {
    const unavailable = (why: string, cause: unknown) =>
      new Error(
        `osc.serial:// needs the optional package serialport (with its native part @serialport/bindings-cpp), which is not installed or did not load: npm install serialport (${why})`,
        { cause },
      );
    try {
      const lib = createRequire(import.meta.url)(packageName) as Partial<SerialPortModule>;
      loaded =
        typeof lib.SerialPort === 'function'
          ? (lib as SerialPortModule)
          : unavailable('it has no SerialPort class', undefined);
    } catch (err) {
      loaded = unavailable((err as Error).message, err);
    }
  }
  return loaded;
}

/** @internal For tests: load `name` instead of serialport from now on (undefined: serialport again). */
export function useSerialPackage(name: string | undefined): void {
  packageName = name ?? 'serialport';
  loaded = undefined;
}

/** Whether serial devices can be opened (the optional serialport package loads). */
export function serialAvailable(): boolean {
  return !(load() instanceof Error);
}

/** Opens the device; rejects with the system's error (ENOENT, EACCES, EBUSY...). */
async function openPort(lib: SerialPortModule, s: SerialSettings): Promise<RawPort> {
  const port = new lib.SerialPort({
    path: s.path,
    baudRate: s.baudRate,
    dataBits: s.dataBits,
    parity: s.parity,
    stopBits: s.stopBits,
    rtscts: s.rtscts,
    autoOpen: false,
    lock: true, // one process at a time: two readers would each get half of the frames
  });
  // serialport's stream closes the device in close() (which emits 'close' itself), not when it is
  // destroyed; a StreamLink closes its stream by destroying it, so destroying closes the device
  port._destroy = (error, callback) => {
    const binding = port.port;
    if (binding === undefined || !binding.isOpen) return callback(error);
    binding.close().then(
      () => callback(error),
      (err: Error) => callback(error ?? err),
    );
  };
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return port;
}

/** Why a device could not be opened, with what to do for the usual reasons. */
function openFailure(path: string, err: unknown): string {
  const e = err as Partial<NodeJS.ErrnoException> & { message?: string };
  const text = String(e.message ?? err);
  if (/EACCES|Permission denied/i.test(text)) {
    return `${text} (on Linux, add yourself to the group that owns ${path}, usually dialout, and log in again)`;
  }
  if (/EBUSY|Resource temporarily unavailable|Cannot lock/i.test(text)) {
    return `${text} (another program has ${path} open: a serial monitor, another aiolo)`;
  }
  return text;
}

// ---- the link

/** What a serial link tells its owner besides packets: the device opened, or was lost. */
export interface SerialEvents {
  /** The device is open (the first time, and each time it comes back). */
  opened?(link: SerialLink): void;
  /** The device was lost (unplugged, reset, an error) or closed; `error` says why, when known. */
  lost?(link: SerialLink, error: Error | undefined): void;
}

export interface SerialLinkOptions {
  readonly settings: SerialSettings;
  readonly handlers: LinkHandlers;
  /** The largest frame read (a server's `maxPacketSize`). */
  readonly maxFrame: number;
  readonly limits?: StreamLimits | undefined;
  readonly events?: SerialEvents | undefined;
  /** Whether the waits between tries to reopen keep the process alive (a server's do; an address's do not). */
  readonly keepAlive?: boolean | undefined;
}

/**
 * A serial device as one endpoint for as long as it is kept: open it with `open()`; when the
 * device is lost (`lost`), it is opened again after 250 ms, then 500 ms, doubling up to 5 s between
 * tries, until it is back (`opened`) or `close()` is called. While the device is away, writes reject
 * at once with a `SendError` `ERR_OSC_CLOSED` (nothing is queued for a board that may never come
 * back: a sketch resets when it is plugged in and does not expect old messages); `connected` tells.
 */
export class SerialLink implements Link {
  readonly proto = 'serial';
  readonly url: string;
  readonly remoteAddress: string;
  readonly remotePort = 0;
  readonly settings: SerialSettings;
  readonly #options: SerialLinkOptions;
  readonly #lib: SerialPortModule;
  /** The device while open. */
  #inner: StreamLink | undefined;
  /** Links of earlier openings that still hold frames for a holder: they are released too. */
  readonly #retired = new Set<StreamLink>();
  readonly #holders = new Set<unknown>();
  #closed = false;
  #finished = false;
  #opening: Promise<[RawPort, number | undefined]> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay = REOPEN_MIN_DELAY;
  #lastActive = nextActivity();
  #presence: ReturnType<typeof setInterval> | undefined;

  /** Throws a StartError `ERR_OSC_SERIAL_UNAVAILABLE` when the serialport package does not load. */
  constructor(options: SerialLinkOptions) {
    const lib = load();
    if (lib instanceof Error) throw new StartError('ERR_OSC_SERIAL_UNAVAILABLE', lib.message, { cause: lib.cause });
    this.#lib = lib;
    this.#options = options;
    this.settings = options.settings;
    this.url = serialUrl(options.settings);
    this.remoteAddress = options.settings.path;
  }

  /** The device path. */
  get path(): string {
    return this.settings.path;
  }

  /** Whether `close()` was called (a lost device does not close the link: it reopens). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the device is open now. */
  get connected(): boolean {
    return this.#inner !== undefined && !this.#inner.closed;
  }

  get held(): boolean {
    return this.#holders.size > 0;
  }

  get lastActive(): number {
    return Math.max(this.#lastActive, this.#inner?.lastActive ?? 0);
  }

  /**
   * Opens the device the first time. Rejects with the system's reason (the device does not exist,
   * no permission, another program has it); the link is then closed.
   */
  async open(): Promise<void> {
    try {
      const [port, device] = await this.#openPort();
      this.#attach(port, device);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Opens the device; resolves with the port and the device number its node had (to watch it). */
  #openPort(): Promise<[RawPort, number | undefined]> {
    this.#opening ??= (async (): Promise<[RawPort, number | undefined]> => {
      const port = await openPort(this.#lib, this.settings);
      const device = await stat(this.path).then(
        (st) => st.rdev,
        () => undefined, // (COM ports have no node to watch)
      );
      return [port, device];
    })().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  /** The device is open: its bytes go through a StreamLink until it is lost. */
  #attach(port: RawPort, device: number | bigint | undefined): void {
    if (this.#closed) {
      port.on('error', () => {});
      port.destroy();
      return;
    }
    this.#delay = REOPEN_MIN_DELAY;
    const h = this.#options.handlers;
    const inner = new StreamLink(port, {
      maxFrame: this.#options.maxFrame,
      limits: this.#options.limits,
      line: { url: this.url, path: this.path },
      handlers: {
        frame: (packet) => h.frame(packet, this),
        framingError: (error) => h.framingError(error, this),
        hangup: (error) => h.hangup?.(error, this),
        closed: (_link, error) => this.#detach(inner, error),
      },
    });
    for (const holder of this.#holders) inner.hold(holder);
    this.#inner = inner;
    if (device !== undefined) this.#watchPresence(inner, device);
    this.#lastActive = nextActivity();
    debug('serial: %s open', this.path);
    this.#options.events?.opened?.(this);
  }

  /** Closes `inner` once the device node it was opened from is gone or is another device. */
  #watchPresence(inner: StreamLink, device: number | bigint): void {
    let looking = false;
    this.#presence = setInterval(() => {
      if (looking) return;
      looking = true;
      stat(this.path)
        .then(
          (st) => st.rdev !== device && this.#lose(inner, 'the device node is another device now'),
          () => this.#lose(inner, 'the device node is gone'),
        )
        .finally(() => {
          looking = false;
        });
    }, PRESENCE_CHECK_INTERVAL);
    this.#presence.unref();
  }

  #lose(inner: StreamLink, why: string): void {
    if (this.#inner !== inner || inner.closed) return;
    debug('serial: %s lost: %s', this.path, why);
    void inner.close();
  }

  /** The device closed (lost, or closed by us): report it, and open it again unless the link is closed. */
  #detach(inner: StreamLink, error: Error | undefined): void {
    clearInterval(this.#presence);
    this.#presence = undefined;
    if (this.#inner === inner) this.#inner = undefined;
    if (inner.held) this.#retired.add(inner);
    debug('serial: %s closed%s', this.path, error ? `: ${error.message}` : '');
    this.#options.events?.lost?.(this, error);
    if (this.#closed) this.#finish(error);
    else this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== undefined) return;
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, REOPEN_MAX_DELAY);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#openPort().then(
        ([port, device]) => this.#attach(port, device),
        (err: unknown) => {
          debug('serial: %s not back yet (%s); next try in %d ms', this.path, String(err), this.#delay);
          this.#schedule();
        },
      );
    }, delay);
    if (!this.#options.keepAlive) this.#timer.unref();
  }

  /** The link is done: its owner hears it once. */
  #finish(error: Error | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#options.handlers.closed(this, error);
  }

  hold(holder: unknown): void {
    this.#holders.add(holder);
    this.#inner?.hold(holder);
  }

  release(holder: unknown): void {
    if (!this.#holders.delete(holder)) return;
    this.#inner?.release(holder);
    for (const old of this.#retired) {
      old.release(holder);
      if (!old.held) this.#retired.delete(old);
    }
  }

  /** Closes the device (it is opened again, as when it was lost): for a limit the board broke. */
  hangup(code: ConnectionErrorCode, message: string): void {
    this.#inner?.hangup(code, message);
  }

  /**
   * Writes one packet between two ENDs. Resolves with the bytes written once the system has taken
   * them; rejects with `ERR_OSC_CLOSED` while the device is away or once the link is closed.
   */
  write(packet: Uint8Array): Promise<number> {
    const inner = this.#inner;
    if (this.#closed) return Promise.reject(new SendError('ERR_OSC_CLOSED', `${this.path} is closed`));
    if (inner === undefined || inner.closed) {
      return Promise.reject(
        new SendError(
          'ERR_OSC_CLOSED',
          `${this.path} is not connected (unplugged or reset?); it is opened again when it comes back`,
        ),
      );
    }
    return inner.write(packet);
  }

  /** Closes the device and stops reopening it; resolves once it is closed. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#presence);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const inner = this.#inner;
    if (inner !== undefined) {
      await inner.close(); // its 'closed' finishes the link
      return;
    }
    // (a port that opens after this is closed at once: #attach)
    await this.#opening?.catch(() => undefined);
    this.#finish(undefined);
  }
}

/**
 * Opens a serial device for a server (`fail: 'start'`: StartErrors) or an address (`'send'`:
 * SendErrors): `make` builds the link (inside a server's `adopt`, for one). Rejects with
 * `ERR_OSC_SERIAL_UNAVAILABLE` without the serialport package, else with why the device did not open.
 */
export async function openSerial(make: () => SerialLink, path: string, fail: 'start' | 'send'): Promise<SerialLink> {
  let link: SerialLink;
  try {
    link = make();
  } catch (err) {
    if (fail === 'send' && err instanceof StartError) {
      throw new SendError('ERR_OSC_SERIAL_UNAVAILABLE', err.message, { cause: err.cause });
    }
    throw err;
  }
  try {
    await link.open();
  } catch (err) {
    const why = `cannot open ${path}: ${openFailure(path, err)}`;
    throw fail === 'start'
      ? new StartError('ERR_OSC_START_FAILED', why, { cause: err })
      : new SendError('ERR_OSC_SEND_FAILED', why, { cause: err });
  }
  return link;
}

// Unix datagram sockets (liblo's osc.unix://), which Node.js core lacks, through the optional
// native package `unix-dgram`. Its quirks are contained here: events fire synchronously, errors
// carry negative errno numbers, a second close() aborts the process, socket files are neither
// removed on close nor protected, and a full receive queue refuses sends with EAGAIN.
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { SendError, StartError } from './errors.js';
import { inOrder } from './serial-queue.js';
import { startError } from './start-error.js';

interface RInfo {
  readonly path: string | null;
  readonly size: number;
}
interface RawSocket {
  on(event: 'error', listener: (err: Error & { code?: number }) => void): void;
  on(event: 'message', listener: (buf: Buffer, rinfo: RInfo) => void): void;
  on(event: 'listening' | 'connect', listener: () => void): void;
  bind(path: string): void;
  connect(path: string): void;
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error & { code?: number }) => void): void;
  close(): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram', listener?: (buf: Buffer, rinfo: RInfo) => void): RawSocket;
}

const ENOENT = -2;
const EAGAIN = -11;
const ECONNREFUSED = -111;
const EADDRINUSE = -98;
const EACCES = -13;
const ENOTDIR = -20;
const EROFS = -30;
/** sockaddr_un's sun_path holds 108 bytes including the NUL. */
export const MAX_SOCKET_PATH = 107;
/** unix-dgram reads at most this much of a datagram. */
export const MAX_UNIX_DATAGRAM = 65536;

let loaded: UnixDgram | Error | undefined;

function load(): UnixDgram | Error {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('unix-dgram') as UnixDgram;
    } catch (err) {
      loaded = new Error(
        `osc.unix:// needs the optional package unix-dgram (a native addon), which is not installed or did not build: npm install unix-dgram (${(err as Error).message})`,
        { cause: err },
      );
    }
  }
  return loaded;
}

/** Whether Unix datagram sockets are available (the optional unix-dgram package is installed). */
export function unixAvailable(): boolean {
  return !(load() instanceof Error);
}

function errno(err: { code?: number } | undefined): number | undefined {
  return typeof err?.code === 'number' ? err.code : undefined;
}

function checkPath(path: string, fail: (message: string) => Error): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw fail(`socket path ${JSON.stringify(path)} is longer than ${MAX_SOCKET_PATH} bytes`);
  }
}

/** Closes a raw socket exactly once (unix-dgram aborts the process on a second close). */
function closer(socket: RawSocket): () => void {
  let open = true;
  return () => {
    if (open) {
      open = false;
      socket.close();
    }
  };
}

/** What a failed bind means, in words: unix-dgram gives only a negative errno. */
function bindFailure(path: string, failure: Error & { code?: number }): string {
  const dir = dirname(path);
  switch (errno(failure)) {
    case ENOENT:
      return `the directory ${dir} does not exist; create it or choose another path`;
    case EACCES:
      return `no permission to create a socket in ${dir}`;
    case ENOTDIR:
      return `a part of ${dir} is not a directory`;
    case EADDRINUSE:
      return 'the address is in use';
    case EROFS:
      return `${dir} is on a read-only file system`;
    default:
      return `errno ${errno(failure) ?? failure.message}`;
  }
}

export interface UnixServer {
  readonly path: string;
  /** Sends from the server's socket to a sender that bound a path of its own (a reply). */
  sendTo(packet: Uint8Array, path: string): Promise<number>;
  close(): Promise<void>;
}

/** Is there a live socket at `path`? A file left by a crashed process refuses connections. */
function probe(lib: UnixDgram, path: string): boolean {
  const s = lib.createSocket('unix_dgram');
  let live = true;
  s.on('error', (err) => {
    if (errno(err) === ECONNREFUSED || errno(err) === ENOENT) live = false;
  });
  s.connect(path); // synchronous: 'error' has fired by now if nobody listens
  closer(s)();
  return live;
}

/**
 * Binds a Unix datagram socket at `path` and delivers each datagram. A stale socket file (from a
 * process that died without removing it) is replaced; a live one is ERR_OSC_ADDRESS_IN_USE. The
 * file gets `mode` (default 0o600: the owner only) and is removed on close.
 */
export async function bindUnix(
  path: string,
  mode: number,
  onPacket: (packet: Buffer, from: string | null) => void,
): Promise<UnixServer> {
  const lib = load();
  if (lib instanceof Error) throw new StartError('ERR_OSC_UNIX_UNAVAILABLE', lib.message, { cause: lib.cause });
  checkPath(path, (m) => new StartError('ERR_OSC_START_FAILED', m));
  const existing = await lstat(path).catch(() => undefined);
  if (existing !== undefined) {
    if (!existing.isSocket()) {
      throw new StartError('ERR_OSC_START_FAILED', `${path} exists and is not a socket; choose another path`);
    }
    if (probe(lib, path)) {
      throw new StartError('ERR_OSC_ADDRESS_IN_USE', `another process is listening on ${path}`);
    }
    await unlink(path);
  }
  const socket = lib.createSocket('unix_dgram', (buf, rinfo) => onPacket(buf, rinfo.path || null));
  const close = closer(socket);
  let failure: (Error & { code?: number }) | undefined;
  socket.on('error', (err) => {
    failure ??= err;
  });
  socket.bind(path); // synchronous: 'listening' or 'error' has fired on return
  if (failure !== undefined) {
    close();
    throw startError(failure, `unix socket ${path}`, {
      inUse: errno(failure) === EADDRINUSE,
      why: bindFailure(path, failure),
      instead: 'choose another path',
    });
  }
  try {
    await chmod(path, mode);
  } catch (err) {
    close();
    await unlink(path).catch(() => undefined);
    throw new StartError('ERR_OSC_START_FAILED', `cannot set the mode of ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let open = true;
  const queue = inOrder();
  return {
    path,
    sendTo(packet, to) {
      return queue(() => sendDatagram(socket, packet, to, () => open));
    },
    async close() {
      open = false;
      close();
      await unlink(path).catch(() => undefined);
    },
  };
}

export interface UnixClient {
  send(packet: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

const RETRY_FOR_MS = 2000;

/**
 * Sends one datagram from `socket` to `path`, waiting out a full receiver queue (EAGAIN) for up to
 * RETRY_FOR_MS; `stillOpen` stops the waiting when the sender closes.
 */
async function sendDatagram(
  socket: RawSocket,
  packet: Uint8Array,
  path: string,
  stillOpen: () => boolean,
): Promise<number> {
  if (packet.length > MAX_UNIX_DATAGRAM) {
    throw new SendError(
      'ERR_OSC_PACKET_TOO_LARGE',
      `a ${packet.length}-byte packet is larger than a Unix datagram can carry here (${MAX_UNIX_DATAGRAM})`,
    );
  }
  const buf = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  const deadline = Date.now() + RETRY_FOR_MS;
  let delay = 1;
  for (;;) {
    if (!stillOpen()) throw new SendError('ERR_OSC_CLOSED', `the socket sending to osc.unix://${path} is closed`);
    const code = await new Promise<number>((resolve) => {
      socket.send(buf, 0, buf.length, path, (err) =>
        resolve(err === undefined || err === null ? 0 : (errno(err) ?? -1)),
      );
    });
    if (code === 0) return packet.length;
    // EAGAIN: the receiver's queue (10 datagrams by default) is full; it drains as it reads
    if (code !== EAGAIN || Date.now() > deadline) {
      const why = code === ENOENT ? 'no such socket' : code === ECONNREFUSED ? 'nobody is listening' : `errno ${code}`;
      throw new SendError('ERR_OSC_SEND_FAILED', `sending to osc.unix://${path} failed: ${why}`, {
        errno: code,
        syscall: 'send',
      });
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 20);
  }
}

/** An unbound socket that sends datagrams to `path`; a full receiver queue is waited out, not dropped. */
export async function openUnixClient(path: string): Promise<UnixClient> {
  const lib = load();
  if (lib instanceof Error) throw new SendError('ERR_OSC_UNIX_UNAVAILABLE', lib.message, { cause: lib.cause });
  checkPath(path, (m) => new SendError('ERR_OSC_SEND_FAILED', m));
  const socket = lib.createSocket('unix_dgram');
  socket.on('error', () => {}); // each send reports its own error to its callback
  const close = closer(socket);
  let open = true;
  const queue = inOrder();
  return {
    send(packet) {
      return queue(() => sendDatagram(socket, packet, path, () => open));
    },
    async close() {
      open = false;
      close();
    },
  };
}

import { RECEIVED } from '../codec/alloc.js';
import { type DatagramPort, type PacketHandler, type Peer, sendFailed } from './datagram.js';
import type { NativeUdp } from './native.js';

// The native fast path's socket (native/src/udp.c): datagrams arrive in batches, up to SLOTS per
// system call and one call into JavaScript per batch, into a ring this object owns; each is copied
// out into a packet of its own before the handlers see it, so the ring is free for the next batch.
// A send is made at once (a lone send waits for nothing); the sends that follow it in the same run
// of JavaScript, to the same destination, are copied into a batch that goes out in one sendmmsg
// when the run ends (a microtask), when it is full, or before anything else is sent. One the
// kernel cannot take now waits in a queue, in order, until the socket is writable — as libuv
// queues dgram's.

/** The largest datagram (IPv6's 65535 − 8-byte header, which IPv4's 65507 is below) fits a slot. */
const SLOT_SIZE = 65536;
/**
 * Datagrams per system call for a server: 32 amortise the call and the crossing into JavaScript
 * (each ~1 µs) to a few tens of nanoseconds a datagram. The ring is 2 MiB of address space, but
 * only the pages datagrams touch are ever resident: 32 × 4 KiB for small messages.
 */
export const SERVER_SLOTS = 32;
/** An address's own socket reads only replies: a few slots do. */
export const CLIENT_SLOTS = 4;
/**
 * Datagrams up to this size are copied out of the ring byte by byte: cheaper than the view
 * `subarray` would allocate (~100 bytes of heap a datagram) for the OSC messages most traffic is.
 */
const COPY_BY_LOOP = 512;
/** `length` bytes of `from` at `start` into `to` at `at`: a loop for small ones (see COPY_BY_LOOP). */
function copyBytes(from: Uint8Array, start: number, to: Uint8Array, at: number, length: number): void {
  if (length <= COPY_BY_LOOP) {
    for (let j = 0; j < length; j++) to[at + j] = from[start + j] as number;
  } else {
    to.set(from.subarray(start, start + length), at);
  }
}

/** Distinct senders whose address objects are kept; a flood of spoofed sources only churns them. */
const PEER_CACHE = 1024;

/**
 * Datagrams in one batch: native/src/udp.c's SEND_BATCH_MAX. One sendto costs 2.8-3.4 µs a
 * datagram on the benchmark's VM, sendmmsg 0.9-1.2 µs in calls of 32 or more (loopback).
 */
const BATCH = 64;
/** A batch's bytes: 64 small messages fit many times over; a batch that would overflow is sent first. */
const BATCH_BYTES = 16 * 1024;
/** Larger packets go on their own (after the batch before them): copying them would cost more than the call saved. */
const BATCH_PACKET_MAX = 2048;

const EAGAIN = -11;
const ENOBUFS = -105;

/** A system error as Node makes them (`code`, `errno`, `syscall`, and the host and port). */
export function systemError(native: NativeUdp, errno: number, syscall: string, host: string, port: number): Error {
  const code = native.errname(errno);
  const err = new Error(`${syscall} ${code} ${host}:${port}`) as NodeJS.ErrnoException & {
    address?: string;
    port?: number;
  };
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  err.address = host;
  err.port = port;
  return err;
}

interface Queued {
  readonly packet: Uint8Array;
  readonly port: number;
  readonly host: string;
  readonly resolve: (n: number) => void;
  readonly reject: (err: unknown) => void;
}

export class NativePort implements DatagramPort {
  readonly #native: NativeUdp;
  readonly #handle: object;
  readonly #local: Peer;
  readonly #handlers: PacketHandler[] = [];
  readonly #ring: Uint8Array;
  readonly #meta: Int32Array;
  readonly #stride: number;
  readonly #peers = new Map<number | string, Peer>();
  readonly #queue: Queued[] = [];
  /** The batch: its packets' bytes back to back in #batchBytes, their lengths in #batchLengths. */
  readonly #batch: Queued[] = [];
  readonly #batchBytes = new Uint8Array(BATCH_BYTES);
  readonly #batchLengths = new Int32Array(BATCH);
  #batchUsed = 0;
  /** A send went out in this run of JavaScript: a microtask ends the run and sends the batch. */
  #inRun = false;
  /** (An addon built before sendmany, left in node_modules, sends one at a time.) */
  readonly #canBatch: boolean;
  #keepAlive = true;
  #closed = false;

  /** Opens and binds a socket ("" host: every address); throws the system's error. */
  constructor(
    native: NativeUdp,
    options: { v6: boolean; host: string; port: number; recvBufferSize: number; broadcast: boolean; slots: number },
  ) {
    this.#native = native;
    this.#canBatch = typeof native.sendmany === 'function';
    const { v6, host, port, slots } = options;
    const opened = native.open(v6, host, port, options.recvBufferSize, options.broadcast);
    if (typeof opened === 'number') {
      throw systemError(native, opened, 'bind', host === '' ? (v6 ? '::' : '0.0.0.0') : host, port);
    }
    const [handle, bound] = opened;
    this.#handle = handle;
    this.#local = { address: host === '' ? (v6 ? '::' : '0.0.0.0') : host, family: v6 ? 'IPv6' : 'IPv4', port: bound };
    this.#stride = native.META_INTS;
    this.#ring = new Uint8Array(slots * SLOT_SIZE);
    this.#meta = new Int32Array(slots * this.#stride);
    const started = native.start(
      handle,
      this.#ring.buffer as ArrayBuffer,
      this.#meta.buffer as ArrayBuffer,
      slots,
      SLOT_SIZE,
      this.#read,
      this.#flush,
    );
    if (started < 0) {
      native.close(handle);
      throw systemError(native, started, 'uv_poll_start', this.#local.address, bound);
    }
  }

  address(): Peer {
    return this.#local;
  }

  send(packet: Uint8Array, port: number, host: string): Promise<number> {
    if (this.#inRun && packet.length <= BATCH_PACKET_MAX && this.#canBatch && !this.#closed) {
      const batch = this.#batch;
      if (batch.length > 0) {
        const first = batch[0] as Queued;
        if (first.port !== port || first.host !== host || this.#batchUsed + packet.length > BATCH_BYTES) {
          this.#sendBatch();
        }
      }
      // (a batch the kernel could not take has gone to the queue: what follows it waits there too)
      if (this.#queue.length === 0) return this.#toBatch(packet, port, host);
    } else if (this.#batch.length > 0) {
      this.#sendBatch(); // in order: the batch before this packet
    }
    if (this.#queue.length === 0) {
      if (!this.#inRun) {
        this.#inRun = true;
        queueMicrotask(this.#endRun);
      }
      const sent = this.#native.send(this.#handle, packet, port, host);
      if (sent >= 0) return Promise.resolve(sent);
      if (sent !== EAGAIN && sent !== ENOBUFS) return Promise.reject(this.#sendError(sent, host, port));
    }
    return new Promise((resolve, reject) => this.#enqueue({ packet, port, host, resolve, reject }));
  }

  /** Copies `packet` into the batch (whose destination is this one's, or which is empty). */
  #toBatch(packet: Uint8Array, port: number, host: string): Promise<number> {
    const batch = this.#batch;
    const bytes = this.#batchBytes;
    const at = this.#batchUsed;
    const length = packet.length;
    copyBytes(packet, 0, bytes, at, length);
    this.#batchLengths[batch.length] = length;
    this.#batchUsed = at + length;
    if (batch.length === 0) NativePort.#hold(this);
    return new Promise((resolve, reject) => {
      batch.push({ packet, port, host, resolve, reject });
      if (batch.length === BATCH) this.#sendBatch();
    });
  }

  /** Sends the batch: one sendmmsg, more if the kernel took part of it; what it cannot take now waits. */
  #sendBatch(): void {
    const batch = this.#batch;
    const count = batch.length;
    const { port, host } = batch[0] as Queued;
    const sendmany = this.#native.sendmany as NonNullable<NativeUdp['sendmany']>; // (#canBatch)
    let done = 0;
    while (done < count) {
      let sent: number;
      try {
        sent = sendmany(this.#handle, this.#batchBytes, this.#batchLengths, done, count, port, host);
      } catch (err) {
        // (the addon refusing its arguments: a port that is not a number, say) each send rejects
        // with it, as a send made alone would have thrown it
        for (; done < count; done++) (batch[done] as Queued).reject(err);
        break;
      }
      if (sent > 0) {
        for (const end = done + sent; done < end; done++)
          (batch[done] as Queued).resolve(this.#batchLengths[done] as number);
      } else if (sent === EAGAIN || sent === ENOBUFS) {
        // the rest wait for the socket, as a send's own: their packets are their own bytes still
        for (; done < count; done++) this.#enqueue(batch[done] as Queued);
      } else {
        (batch[done] as Queued).reject(this.#sendError(sent, host, port)); // that one; the rest are tried
        done++;
      }
    }
    batch.length = 0;
    this.#batchUsed = 0;
    NativePort.#holding.delete(this);
  }

  /** Ports holding a batch. process.exit() in the run that filled one sends it first: sendmmsg is synchronous. */
  static readonly #holding = new Set<NativePort>();
  static #exitHooked = false;

  static #hold(port: NativePort): void {
    NativePort.#holding.add(port);
    if (NativePort.#exitHooked) return;
    NativePort.#exitHooked = true;
    process.on('exit', () => {
      for (const held of NativePort.#holding) held.#sendBatch();
    });
  }

  readonly #endRun = (): void => {
    this.#inRun = false;
    if (this.#batch.length > 0) this.#sendBatch();
  };

  /** Queues a send until the socket is writable, in order. */
  #enqueue(q: Queued): void {
    if (this.#closed) {
      q.reject(this.#sendError(-9 /* EBADF */, q.host, q.port));
      return;
    }
    if (this.#queue.length === 0) {
      this.#native.writable(this.#handle, true);
      this.#native.ref(this.#handle, true); // a waiting send keeps the process alive
    }
    this.#queue.push(q);
  }

  onPacket(handler: PacketHandler): void {
    this.#handlers.push(handler);
  }

  keepAlive(keep: boolean): void {
    this.#keepAlive = keep;
    if (this.#queue.length === 0) this.#native.ref(this.#handle, keep);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      if (this.#batch.length > 0) this.#sendBatch(); // what was sent before close() goes out
      this.#closed = true;
      this.#native.close(this.#handle);
      for (const q of this.#queue.splice(0)) q.reject(this.#sendError(-9 /* EBADF */, q.host, q.port));
    }
    return Promise.resolve();
  }

  #sendError(errno: number, host: string, port: number): Error {
    return sendFailed(systemError(this.#native, errno, 'send', host, port), host, port);
  }

  /** The socket can take more: the queue goes out in order until it is empty or full again. */
  readonly #flush = (): void => {
    const queue = this.#queue;
    let done = 0;
    while (done < queue.length) {
      const q = queue[done] as Queued;
      const sent = this.#native.send(this.#handle, q.packet, q.port, q.host);
      if (sent === EAGAIN || sent === ENOBUFS) break;
      done++;
      if (sent >= 0) q.resolve(sent);
      else q.reject(this.#sendError(sent, q.host, q.port));
    }
    queue.splice(0, done);
    if (queue.length === 0 && !this.#closed) {
      this.#native.writable(this.#handle, false);
      this.#native.ref(this.#handle, this.#keepAlive);
    }
  };

  /** A batch of `count` datagrams is in the ring. */
  readonly #read = (count: number): void => {
    const meta = this.#meta;
    const stride = this.#stride;
    for (let i = 0; i < count && !this.#closed; i++) {
      const m = i * stride;
      const length = meta[m] as number;
      // (a slot holds the largest UDP payload; a longer one, which UDP cannot carry, is not read)
      if (length > SLOT_SIZE) continue;
      const start = i * SLOT_SIZE;
      const packet = RECEIVED.alloc(length);
      copyBytes(this.#ring, start, packet, 0, length);
      const from = this.#peer(m);
      const handlers = this.#handlers;
      for (let h = 0; h < handlers.length; h++) {
        try {
          (handlers[h] as PacketHandler)(packet, from);
        } catch (err) {
          // as from an event listener, but the rest of the batch is still delivered
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    }
  };

  /** The sender of the datagram whose meta starts at `m`, one object per distinct sender. */
  #peer(m: number): Peer {
    const meta = this.#meta;
    const port = meta[m + 3] as number;
    const w0 = meta[m + 4] as number;
    const v4 = meta[m + 2] === 4;
    // IPv4: the address and port in one exact number (48 bits); IPv6: a string of the five and the
    // scope (a link-local sender's interface: the same address on two interfaces is two peers)
    const key = v4
      ? (w0 >>> 0) * 65536 + port
      : `${w0},${meta[m + 5]},${meta[m + 6]},${meta[m + 7]},${port},${meta[m + 8]}`;
    let peer = this.#peers.get(key);
    if (peer === undefined) {
      const address = this.#native.ntop(
        v4 ? 4 : 6,
        w0,
        meta[m + 5] as number,
        meta[m + 6] as number,
        meta[m + 7] as number,
        (meta[m + 8] as number) >>> 0,
      );
      peer = { address, family: v4 ? 'IPv4' : 'IPv6', port };
      if (this.#peers.size >= PEER_CACHE) this.#peers.clear();
      this.#peers.set(key, peer);
    }
    return peer;
  }
}

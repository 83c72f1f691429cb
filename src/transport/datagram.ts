import type { Socket } from 'node:dgram';
import { SendError } from './errors.js';

// A bound UDP socket as aiolo uses it, whichever way it is made: node:dgram's (here), or the
// native fast path's (datagram-native.ts). Servers, replies and addresses see only this.

/** Where a datagram came from (or where this socket is bound). */
export interface Peer {
  readonly address: string;
  readonly family: 'IPv4' | 'IPv6';
  readonly port: number;
}

/**
 * What receives datagrams. `packet` is the datagram's own copy, the handler's to keep; `from` may be
 * shared between datagrams from the same peer (it is readonly).
 */
export type PacketHandler = (packet: Uint8Array, from: Peer) => void;

export interface DatagramPort {
  /** Where this socket is bound. */
  address(): Peer;
  /** Sends one datagram to a numeric host; resolves with its length, rejects with {@link sendFailed}'s error. */
  send(packet: Uint8Array, port: number, host: string): Promise<number>;
  /** Adds a receiver of every datagram from now on. */
  onPacket(handler: PacketHandler): void;
  /** Whether the open socket keeps the process alive (a send waiting for the socket always does). */
  keepAlive(keep: boolean): void;
  /** Closes the socket; idempotent. */
  close(): Promise<void>;
}

/** The `SendError` of a send the system refused (`cause`: its error). */
export function sendFailed(err: Error, host: string, port: number): SendError {
  return new SendError('ERR_OSC_SEND_FAILED', `sending to udp ${host}:${port} failed: ${err.message}`, { cause: err });
}

/** A node:dgram socket, bound and configured by its maker. */
export class DgramPort implements DatagramPort {
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
    // errors on a bound UDP socket (ICMP unreachable after a send, say) concern one send, not the
    // socket: they reach that send's callback, so the socket-level event needs no handling
    socket.on('error', () => {});
  }

  address(): Peer {
    const a = this.#socket.address();
    return { address: a.address, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', port: a.port };
  }

  send(packet: Uint8Array, port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      try {
        this.#socket.send(packet, port, host, (err) => {
          if (err) reject(sendFailed(err, host, port));
          else resolve(packet.length);
        });
      } catch (err) {
        reject(sendFailed(err as Error, host, port)); // a closed socket or a bad port throws at once
      }
    });
  }

  onPacket(handler: PacketHandler): void {
    this.#socket.on('message', handler);
  }

  keepAlive(keep: boolean): void {
    if (keep) this.#socket.ref();
    else this.#socket.unref();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}

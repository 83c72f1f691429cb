// A server's TCP connections: those its listener accepted, and those addresses sending from it
// opened (`attachStream`). Each is framed by a StreamLink whose frames the server dispatches.
import type { Socket } from 'node:net';
import { OscDecodeError } from '../codec/errors.js';
import type { ConnectionError } from '../transport/errors.js';
import type { Framing, FramingError } from '../transport/framing.js';
import { type StreamLimits, StreamLink } from '../transport/stream.js';
import type { ServerStats } from './events.js';
import type { Origin } from './reply.js';

/** What the connections call their server back with. */
export interface ConnectionsHost {
  packet(packet: Uint8Array, origin: Origin): void;
  malformed(error: OscDecodeError, origin: Origin, packet: Uint8Array): void;
  /** A link closed its connection because the peer broke a limit (counted already). */
  hangup(error: ConnectionError, link: StreamLink): void;
}

export class Connections {
  readonly #links = new Set<StreamLink>();
  readonly #host: ConnectionsHost;
  readonly #stats: ServerStats;
  readonly #maxFrame: number;

  constructor(host: ConnectionsHost, stats: ServerStats, maxFrame: number) {
    this.#host = host;
    this.#stats = stats;
    this.#maxFrame = maxFrame;
  }

  /**
   * Frames a connection: one a TCP listener accepted (`release` counts it out of the listener's
   * when it closes), or one an address sending from this server opened (its own `limits`).
   */
  attach(
    socket: Socket,
    writeFraming: Framing | undefined,
    limits: StreamLimits | undefined,
    release: ((link: StreamLink) => void) | undefined,
  ): StreamLink {
    const host = this.#host;
    const link = new StreamLink(socket, {
      maxFrame: this.#maxFrame,
      ...(writeFraming === undefined ? {} : { writeFraming }),
      limits,
      client: release === undefined,
      handlers: {
        frame: (packet, l) => host.packet(packet, { kind: 'tcp', link: l }),
        framingError: (err, l) => host.malformed(this.#framingError(err), { kind: 'tcp', link: l }, new Uint8Array(0)),
        hangup: (err, l) => {
          this.#stats.hangups++;
          host.hangup(err, l);
        },
        closed: (l) => {
          release?.(l);
          if (this.#links.delete(l)) this.#stats.connections--;
        },
      },
    });
    if (!link.closed) {
      this.#links.add(link);
      this.#stats.connections++;
    }
    return link;
  }

  #framingError(err: FramingError): OscDecodeError {
    return err.code === 'ERR_OSC_TRUNCATED'
      ? new OscDecodeError(
          'ERR_OSC_TRUNCATED',
          err.size,
          `the connection ended in the middle of a TCP frame, ${err.size} bytes into it; those bytes are dropped`,
        )
      : new OscDecodeError(
          'ERR_OSC_TOO_LARGE',
          0,
          `TCP frame of ${err.size} bytes exceeds maxPacketSize ${this.#maxFrame}; closing the connection`,
        );
  }

  /** Closes every connection, and those attached while closing (an address may attach one meanwhile). */
  async closeAll(): Promise<void> {
    while (this.#links.size > 0) await Promise.all([...this.#links].map((l) => l.close()));
  }

  /** Forgets every connection (once the server has stopped, whatever became of closing them). */
  forget(): void {
    this.#links.clear();
    this.#stats.connections = 0;
  }
}

// A server's connections — TCP and WebSocket: those its listener accepted, and those addresses
// sending from it opened (`adopt`). The server dispatches what arrives on each and replies on it.
import { OscDecodeError } from '../codec/errors.js';
import type { ConnectionError } from '../transport/errors.js';
import type { FramingError } from '../transport/framing.js';
import type { Link, LinkHandlers } from '../transport/link.js';
import type { ServerStats } from './events.js';
import type { Origin } from './reply.js';

/** What the connections call their server back with. */
export interface ConnectionsHost {
  packet(packet: Uint8Array, origin: Origin): void;
  malformed(error: OscDecodeError, origin: Origin, packet: Uint8Array): void;
  /** A link closed its connection because the peer broke a limit (counted already). */
  hangup(error: ConnectionError, link: Link): void;
  /** A connection a listener accepted is gone (either side closed it). */
  disconnected(link: Link): void;
}

export class Connections {
  readonly #links = new Set<Link>();
  readonly #host: ConnectionsHost;
  readonly #stats: ServerStats;
  readonly #maxFrame: number;

  constructor(host: ConnectionsHost, stats: ServerStats, maxFrame: number) {
    this.#host = host;
    this.#stats = stats;
    this.#maxFrame = maxFrame;
  }

  /**
   * Takes the link `make` builds with this server's handlers: a connection a listener accepted
   * (`release` counts it out of the listener's when it closes), or one an address sending from
   * this server opened.
   */
  adopt<L extends Link>(
    make: (handlers: LinkHandlers, maxFrame: number) => L,
    release: ((link: Link) => void) | undefined,
  ): L {
    const host = this.#host;
    const link = make(
      {
        frame: (packet, l) => host.packet(packet, { kind: 'link', link: l }),
        framingError: (err, l) =>
          host.malformed(this.#framingError(err, l), { kind: 'link', link: l }, new Uint8Array(0)),
        hangup: (err, l) => {
          this.#stats.hangups++;
          host.hangup(err, l);
        },
        closed: (l) => {
          if (this.#links.delete(l)) this.#stats.connections--;
          if (release === undefined) return;
          release(l);
          host.disconnected(l);
        },
      },
      this.#maxFrame,
    );
    if (!link.closed) {
      this.#links.add(link);
      this.#stats.connections++;
    }
    return link;
  }

  #framingError(err: FramingError, link: Link): OscDecodeError {
    const what = link.proto === 'ws' ? 'WebSocket message' : link.proto === 'serial' ? 'SLIP frame' : 'TCP frame';
    switch (err.code) {
      case 'ERR_OSC_TRUNCATED':
        return new OscDecodeError(
          'ERR_OSC_TRUNCATED',
          err.size,
          `the connection ended in the middle of a ${what}, ${err.size} bytes into it; those bytes are dropped`,
        );
      case 'ERR_OSC_TEXT_FRAME':
        return new OscDecodeError(
          'ERR_OSC_TEXT_FRAME',
          0,
          `a text WebSocket message of ${err.size} bytes: OSC packets go in binary messages; it is dropped`,
        );
      default:
        return new OscDecodeError(
          'ERR_OSC_TOO_LARGE',
          0,
          link.proto === 'serial'
            ? `a ${what} from ${link.remoteAddress} passed maxPacketSize ${this.#maxFrame}; it is skipped up to the next END`
            : `${what} of ${err.size} bytes exceeds maxPacketSize ${this.#maxFrame}; closing the connection`,
        );
    }
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

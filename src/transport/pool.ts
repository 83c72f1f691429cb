// The connections a listener (TCP, WebSocket) serves at once, at most `maxConnections`: past that,
// the connection silent the longest is closed to make room (`ERR_OSC_EVICTED`), unless `evict` is
// false or every connection is held by a consumer (its silence is ours), and then the newcomer is
// refused. Node's own `maxConnections` options can only refuse.
import type { Link } from './link.js';

export interface PoolLimits {
  /** Connections served at once. */
  readonly maxConnections: number;
  /** When they are all open: true evicts the one silent the longest, false refuses the newcomer. */
  readonly evict: boolean;
}

export class LinkPool {
  readonly #links = new Set<Link>();
  readonly #limits: PoolLimits;
  /** Counts a link out of the pool when it closes (its `closed` handler calls this). */
  readonly release = (link: Link): void => {
    this.#links.delete(link);
  };

  constructor(limits: PoolLimits) {
    this.#limits = limits;
  }

  /** Makes room for one more connection if it can (evicting the idlest); false: refuse it. */
  admit(): boolean {
    const l = this.#limits;
    if (this.#links.size < l.maxConnections) return true;
    let idlest: Link | undefined;
    if (l.evict) {
      for (const link of this.#links) {
        if (!link.held && !link.closed && (idlest === undefined || link.lastActive < idlest.lastActive)) {
          idlest = link;
        }
      }
    }
    if (idlest === undefined) return false;
    this.#links.delete(idlest);
    idlest.hangup(
      'ERR_OSC_EVICTED',
      `maxConnections (${l.maxConnections}) were open and a new one arrived; this one had been silent the longest`,
    );
    return true;
  }

  /** Counts an accepted link in (unless it closed already). */
  add(link: Link): void {
    if (!link.closed) this.#links.add(link);
  }
}

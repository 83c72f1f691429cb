import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

// The kernel drops datagrams that arrive while a UDP socket's receive buffer is full, and no
// socket API tells the program. Linux counts them per socket in /proc/net/udp{,6} ("drops"), so a
// server can show them beside its own counters: loss between a sender and the consumer is then
// countable wherever it happens. Elsewhere the count is unknown (undefined).

const PROC_FD = '/proc/self/fd';

/** The kernel's drop counter of this process's UDP socket bound to `port`. */
export class KernelDrops {
  readonly #table: string;
  readonly #port: string;
  #inode: string | undefined;
  #unavailable = false;

  constructor(port: number, v6: boolean) {
    this.#table = v6 ? '/proc/net/udp6' : '/proc/net/udp';
    this.#port = port.toString(16).toUpperCase().padStart(4, '0');
  }

  /** Datagrams dropped so far, or undefined where the system does not say. */
  read(): number | undefined {
    if (this.#unavailable) return undefined;
    let table: string;
    try {
      table = readFileSync(this.#table, 'latin1');
    } catch {
      this.#unavailable = true;
      return undefined;
    }
    const rows = table.split('\n').slice(1);
    if (this.#inode === undefined) {
      // the socket is found once, by its port among this process's own sockets; two of them on one
      // port (multicast members share it) cannot be told apart, and the count stays unknown
      const ours = ownSocketInodes();
      const mine = rows.map(fields).filter((f) => f[1]?.endsWith(`:${this.#port}`) && ours.has(f[9] as string));
      if (mine.length !== 1) {
        this.#unavailable = mine.length > 1; // (none yet: the socket may not be listed; look again)
        return undefined;
      }
      this.#inode = (mine[0] as string[])[9];
    }
    for (const row of rows) {
      const f = fields(row);
      if (f[9] === this.#inode) return Number(f[12]);
    }
    return undefined; // closed
  }
}

function fields(row: string): string[] {
  return row.trim().split(/\s+/);
}

function ownSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(PROC_FD)) {
      try {
        const target = readlinkSync(`${PROC_FD}/${fd}`);
        if (target.startsWith('socket:[')) inodes.add(target.slice(8, -1));
      } catch {
        // closed while listing
      }
    }
  } catch {
    // no /proc
  }
  return inodes;
}

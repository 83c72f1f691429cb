// What the monitor's server and its page say to each other over the page's WebSocket: JSON text
// frames. The server pushes an `Update` at most every `TICK_MS` (10 Hz); the page sends its filter
// and the addresses it plots. Types only: the page imports this file too.

/** One row of the table: an address as last seen. */
export interface RowView {
  readonly path: string;
  readonly typetags: string;
  /** The latest arguments as `aiolo dump` prints them (cut at `MAX_ARGS_TEXT` characters). */
  readonly args: string;
  /** The latest sender's URL, and its transport (`udp`, `tcp`, `unix`, `ws`). */
  readonly source: string;
  readonly transport: string;
  readonly count: number;
  /** Messages in the last second, per second. */
  readonly rate: number;
  /** When the latest arrived, ms since the epoch. */
  readonly last: number;
  /** Whether the latest message had a numeric argument (i, h, f, d): it can be plotted. */
  readonly numeric: boolean;
}

/** One line of the log. */
export interface LogLine {
  readonly transport: string;
  readonly source: string;
  /** The `aiolo dump` line, without its newline. */
  readonly line: string;
}

/** Samples of one plotted address since the previous update: times (ms) and one series per argument. */
export interface Samples {
  readonly t: number[];
  /** `v[i][k]`: argument `i` of sample `k` (null where that message had no number there). */
  readonly v: (number | null)[][];
  /** Typetags of the latest message: the series' names. */
  readonly typetags: string;
  /** Messages at that address that were not sent (decimated: at most `MAX_SAMPLES_PER_TICK` per update). */
  readonly skipped: number;
}

export interface MalformedView {
  readonly code: string;
  readonly message: string;
  readonly source: string;
  /** ms since the epoch. */
  readonly time: number;
}

export interface ServerView {
  readonly url: string;
  readonly packets: number;
  readonly messages: number;
  readonly malformed: number;
  readonly kernelDropped: number | null;
  readonly connections: number;
}

export interface Counters {
  readonly packets: number;
  readonly messages: number;
  readonly malformed: number;
  readonly lastMalformed: MalformedView | null;
  /** Packets the monitor could not keep up with (its packet queue overflowed), and the servers' `overflowed`. */
  readonly dropped: number;
  /** Bundled messages the servers' schedules dropped. */
  readonly queueDropped: number;
  /** Datagrams the kernel dropped (Linux, UDP), null where no server can tell. */
  readonly kernelDropped: number | null;
  /** TCP/WebSocket connections closed for breaking a limit, or refused. */
  readonly hangups: number;
  readonly refused: number;
  readonly connections: number;
  /** Rows in the table, and rows evicted (the least recently seen) to stay within `MAX_ROWS`. */
  readonly rows: number;
  readonly rowsEvicted: number;
  readonly servers: readonly ServerView[];
  /** The monitor process: resident set and JavaScript heap, bytes. */
  readonly rss: number;
  readonly heapUsed: number;
}

/** Server → page. */
export interface Update {
  readonly type: 'update';
  readonly seq: number;
  /** ms since the epoch. */
  readonly time: number;
  readonly counters: Counters;
  /** Rows that changed since the previous update (all of them in the first). */
  readonly rows: RowView[];
  /** Rows removed (evicted) since the previous update. */
  readonly removed: string[];
  /** Matching log lines since the previous update, oldest first; at most `MAX_LOG_PER_TICK`. */
  readonly log: LogLine[];
  /** Matching messages since the previous update that did not fit in `log`. */
  readonly logSkipped: number;
  readonly samples: Record<string, Samples>;
  /** The filter the server applies now, and why it refused the page's last one, if it did. */
  readonly filter: string;
  readonly filterError: string | null;
  /** True when `rows` is every row (the page drops those it has): the first update, and after heavy churn. */
  readonly full: boolean;
  /** The bounds, so that the page can state them. */
  readonly limits: Limits;
}

export interface Limits {
  readonly maxRows: number;
  readonly maxLogPerTick: number;
  readonly maxSamplesPerTick: number;
  readonly maxWatched: number;
  readonly tickMs: number;
}

/** Page → server. */
export type Request =
  | { readonly type: 'filter'; readonly pattern: string }
  | { readonly type: 'watch'; readonly paths: readonly string[] };

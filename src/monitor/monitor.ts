// `aiolo monitor`'s engine: OSC servers on every URL given, their raw packets into one Aggregator,
// and a web page (http.ts) that gets an update from it every TICK_MS.
import { type ReceivedPacket, Server, type Subscription } from '../index.js';
import { Aggregator, type Client, type ServerCounters, TICK_MS } from './aggregate.js';
import { pageAssets } from './assets.js';
import { type Http, serveHttp } from './http.js';
import type { Counters, ServerView } from './protocol.js';

/** Packets queued per server between the socket and the aggregator; past it the oldest are dropped (counted). */
export const PACKET_QUEUE = 4096;
/** ...or this many bytes (estimated), whichever first. */
export const PACKET_QUEUE_BYTES = 8 * 1024 * 1024;
/** SO_RCVBUF asked for UDP (the kernel caps it at net.core.rmem_max): bursts wait there, not dropped. */
export const RECV_BUFFER = 4 * 1024 * 1024;

export interface MonitorOptions {
  /** Where to listen for OSC: liblo URLs, any transport aiolo has. */
  readonly urls: readonly string[];
  /** The page's HTTP host and port (default 127.0.0.1, 0: any free port). */
  readonly host?: string;
  readonly port?: number;
}

export interface Monitor {
  /** The page: `http://127.0.0.1:PORT/`. */
  readonly url: string;
  /** The OSC servers, started, in the order of `urls`. */
  readonly servers: readonly Server[];
  counters(): Counters;
  stop(): Promise<void>;
}

export async function startMonitor(options: MonitorOptions): Promise<Monitor> {
  const aggregator = new Aggregator();
  const servers = options.urls.map((url) => new Server({ url, queue: false, recvBufferSize: RECV_BUFFER }));
  const subs: Subscription<ReceivedPacket, null>[] = [];
  const consuming: Promise<void>[] = [];
  let http: Http | undefined;
  let timer: NodeJS.Timeout | undefined;

  const serverCounters = (): ServerCounters => {
    const views: ServerView[] = [];
    let packets = 0;
    let messages = 0;
    let malformed = 0;
    let dropped = 0;
    let queueDropped = 0;
    let kernel: number | null = null;
    let hangups = 0;
    let refused = 0;
    let connections = 0;
    for (const s of servers) {
      const st = s.stats;
      packets += st.packets;
      messages += st.messages;
      malformed += st.malformed;
      dropped += st.overflowed;
      queueDropped += st.queueDropped;
      hangups += st.hangups;
      refused += st.refused;
      connections += st.connections;
      if (st.kernelDropped !== undefined) kernel = (kernel ?? 0) + st.kernelDropped;
      views.push({
        url: s.url ?? '',
        packets: st.packets,
        messages: st.messages,
        malformed: st.malformed,
        kernelDropped: st.kernelDropped ?? null,
        connections: st.connections,
      });
    }
    const mem = process.memoryUsage();
    return {
      packets,
      messages,
      malformed,
      dropped,
      queueDropped,
      kernelDropped: kernel,
      hangups,
      refused,
      connections,
      servers: views,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
    };
  };
  const counters = (): Counters => ({
    ...serverCounters(),
    lastMalformed: aggregator.lastMalformed,
    rows: aggregator.rows,
    rowsEvicted: aggregator.rowsEvicted,
  });

  const pages = new Map<Client, (text: string) => boolean>();
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    await Promise.allSettled([http?.close(), ...servers.map((s) => s.stop())]);
    await Promise.allSettled(consuming);
  };

  try {
    for (const server of servers) {
      server.on('malformed', (error, source) => aggregator.malformed(error, source.url, Date.now()));
      const sub = server.packets({
        highWaterMark: PACKET_QUEUE,
        highWaterBytes: PACKET_QUEUE_BYTES,
        overflow: 'drop-oldest',
      });
      subs.push(sub);
      consuming.push(
        (async () => {
          for await (const p of sub) aggregator.ingest(p, Date.now());
        })(),
      );
    }
    await Promise.all(servers.map((s) => s.start()));
    const assets = await pageAssets();
    http = await serveHttp(options.host ?? '127.0.0.1', options.port ?? 0, assets, {
      connected: (conn) => {
        const client = aggregator.addClient();
        pages.set(client, conn.send);
        return {
          request: (r) => {
            if (r.type === 'filter') aggregator.setFilter(client, r.pattern);
            else aggregator.setWatch(client, r.paths);
          },
          closed: () => {
            pages.delete(client);
            aggregator.removeClient(client);
          },
        };
      },
      stats: counters,
    });
    timer = setInterval(() => {
      const updates = aggregator.tick(Date.now(), serverCounters());
      for (const [client, update] of updates) {
        const send = pages.get(client);
        // a page that does not keep up skips updates; the next one it takes carries every row
        if (send !== undefined && !send(JSON.stringify(update))) client.full = true;
      }
    }, TICK_MS);
  } catch (err) {
    await stop();
    throw err;
  }
  const h = http;
  return { url: h.url, servers, counters, stop };
}

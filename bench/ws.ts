// OSC over WebSocket on loopback, one packet per binary message (osc.js's and osc-js's convention).
// End to end: each library's own sender into its own server, in two processes, counted where the
// server's consumer gets each message; raw `ws` (prebuilt bytes, no OSC work either side) is the
// ceiling. WebSocket loses nothing, so a run that does not deliver every message is reported, not
// averaged.
// Relay: a WebSocket client sends the small message to a relay, which sends each on over UDP to a
// raw dgram receiver (the fastest Node UDP receiver, so what is lost is the relay's doing): aiolo's
// bridge, osc.js's Relay (a WebSocketPort and a UDPPort) and osc-js's BridgePlugin. The client is
// the same for every relay and does no OSC work: a `ws` client sending prebuilt bytes, as fast as
// its writes complete (up to 256 in flight, so a relay that reads slowly slows it) or paced to a
// fixed rate; then a real browser page (chromium) sending prebuilt bytes as fast as its WebSocket's
// buffer allows. UDP may drop, so what arrived is reported beside what was sent.
import { readFileSync } from 'node:fs';
import { aiolo } from './aiolo.js';
import { nodeCommand, Proc, Receiver } from './peers.js';
import { median, percent, rate, ratio, table } from './stats.js';

export interface WsOptions {
  readonly rounds: number;
  /** Messages per run. */
  readonly count: number;
  /**
   * Messages sent before each run is counted, so that the receiver's (and the relay's) JIT has
   * warmed up; 0: none.
   */
  readonly warmup: number;
  /** The paced relay load, messages per second; 0: none. */
  readonly pace: number;
  /** Bound on each run, in milliseconds. */
  readonly timeoutMs: number;
  /** Whether to run the browser rows (they are skipped with a note when chromium is missing). */
  readonly browser: boolean;
}

export interface RelayResult {
  /** Messages per second into the UDP receiver, first to last (median over rounds). */
  readonly rate: number;
  /** Messages the client sent, and the fraction of them that reached the UDP receiver (medians). */
  readonly sent: number;
  readonly delivered: number;
  /**
   * The fraction of what was sent that the kernel dropped at the UDP receiver's socket, its buffer
   * full (Linux's /proc/net/udp; NaN elsewhere): the relay sent it, the receiver was not reading.
   */
  readonly receiverDropped: number;
}

export interface WsResults {
  /** By implementation: messages per second, its sender into its server. */
  readonly endToEnd: Record<string, number>;
  /** By client and load ('Node, flood', 'Node, 20k/s', 'chromium, flood'), then by relay. */
  readonly relay: Record<string, Record<string, RelayResult>>;
  readonly notes: string[];
}

type Command = [string, string[]];

/** Receiver and sender kinds of bench/receiver.ts and bench/sender.ts, by the name in the table. */
const END_TO_END: Record<string, string> = {
  'raw ws': 'ws',
  aiolo: 'aiolo',
  'osc (osc.js)': 'osc.js',
  'osc-js': 'osc-js',
};

/** Relay kinds of bench/relay.ts, by the name in the table. */
const RELAYS: Record<string, string> = {
  'aiolo bridge': 'aiolo',
  'osc.js Relay': 'osc.js',
  'osc-js BridgePlugin': 'osc-js',
};

/** `promise`, or an error after `ms` (and `onTimeout` called, to end what is stuck). */
async function bounded<T>(promise: Promise<T>, ms: number, what: string, onTimeout: () => unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void onTimeout();
      reject(new Error(`${what}: not done in ${ms / 1000} s`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Sent {
  readonly sent: number;
  readonly errors: number;
  readonly seconds: number;
}

/** Runs a sender process to completion, within the run's bound. */
function send(command: Command, timeoutMs: number): Promise<Sent> {
  const proc = new Proc(...command);
  const what = `${command[1][3]} sender`;
  return bounded(proc.result<Sent>(what), timeoutMs, what, () => proc.quit());
}

const sender = (kind: string, port: number, count: number, pace = 0): Command =>
  nodeCommand('sender', kind, String(port), String(count), 'ws', String(pace));

async function endToEndOnce(kind: string, options: WsOptions): Promise<number> {
  const receiver = new Receiver(...nodeCommand('receiver', kind, 'ws'));
  try {
    const port = await receiver.port;
    if (options.warmup > 0) {
      await send(sender(kind, port, options.warmup), options.timeoutMs);
      await receiver.settled(options.warmup, options.timeoutMs);
      receiver.reset();
    }
    await send(sender(kind, port, options.count), options.timeoutMs);
    const got = await receiver.settled(options.count, options.timeoutMs);
    if (got.count !== options.count) {
      throw new Error(`WebSocket delivered ${got.count} of ${options.count} messages`);
    }
    return (got.count - 1) / ((got.last - got.first) / 1e9);
  } finally {
    await receiver.quit();
  }
}

/**
 * The datagrams the kernel has dropped at the loopback UDP socket on `port` for want of buffer
 * room (the last column of /proc/net/udp); NaN when it cannot be read.
 */
function udpDrops(port: number): number {
  try {
    const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    const line = readFileSync('/proc/net/udp', 'utf8')
      .split('\n')
      .find((l) => l.trim().split(/\s+/)[1] === local);
    return line === undefined ? Number.NaN : Number(line.trim().split(/\s+/).at(-1));
  } catch {
    return Number.NaN;
  }
}

/** A client for the relay runs: sends `count` messages to ws://127.0.0.1:<port>/ and says how many went. */
type Client = (port: number) => Promise<number>;

async function relayOnce(
  kind: string,
  client: Client,
  options: WsOptions,
): Promise<{ result: RelayResult; relay: { forwarded?: number; lost?: number; errors: number } }> {
  const receiver = new Receiver(...nodeCommand('receiver', 'dgram', 'udp'));
  let relay: Proc | undefined;
  try {
    const udpPort = await receiver.port;
    relay = new Proc(...nodeCommand('relay', kind, String(udpPort)));
    const port = await relay.next((l) => (l.startsWith('PORT ') ? Number(l.slice(5)) : undefined), 'relay port');
    if (options.warmup > 0) {
      await send(sender('ws', port, options.warmup), options.timeoutMs);
      await receiver.settled(undefined, options.timeoutMs);
      receiver.reset();
    }
    const dropsBefore = udpDrops(udpPort);
    const sent = await client(port);
    const got = await receiver.settled(undefined, options.timeoutMs);
    const dropped = udpDrops(udpPort) - dropsBefore;
    relay.send('quit');
    const stats = await relay.result<{ forwarded?: number; lost?: number; errors: number }>(`${kind} relay`);
    const seconds = (got.last - got.first) / 1e9;
    return {
      result: {
        rate: got.count > 1 && seconds > 0 ? (got.count - 1) / seconds : Number.NaN,
        sent,
        delivered: got.count / sent,
        receiverDropped: dropped / sent,
      },
      relay: stats,
    };
  } finally {
    await Promise.all([receiver.quit(), relay?.quit()]);
  }
}

/** The Node client: bench/sender.ts's raw `ws` sender, prebuilt bytes, optionally paced. */
const nodeClient =
  (options: WsOptions, pace: number): Client =>
  async (port) => {
    const r = await send(sender('ws', port, options.count, pace), options.timeoutMs);
    return r.sent + 1; // its first (untimed) send is one of the count
  };

/** What the browser rows need: a page to send from, and its closing. */
interface BrowserClient {
  readonly client: Client;
  close(): Promise<void>;
}

/** A chromium page sending prebuilt bytes over the browser's WebSocket; undefined (and why) when it cannot run. */
async function browserClient(options: WsOptions): Promise<BrowserClient | string> {
  const browser = await import('../test/helpers/browser.js');
  if (!browser.CHROMIUM.available) {
    return `chromium rows skipped: ${browser.CHROMIUM.command} is missing (apt-get install ${browser.CHROMIUM.debianPackages})`;
  }
  const chromium = await browser.launchChromium();
  try {
    const page = await browser.openPage({ chromium, timeout: options.timeoutMs });
    const packet = [...aiolo.encode(aiolo.Message.typed('/synth/1/freq', 'ifs', 440, 0.5, 'sine'))];
    const client: Client = async (port) => {
      // runs in the page: only its argument and the page's globals
      const sent = await page.evaluate(
        async ({ url, bytes, count }) => {
          const data = new Uint8Array(bytes);
          const socket = new WebSocket(url);
          socket.binaryType = 'arraybuffer';
          await new Promise((resolve, reject) => {
            socket.onopen = resolve;
            socket.onerror = () => reject(new Error(`cannot open ${url}`));
          });
          const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
          let i = 0;
          while (i < count) {
            // the browser's WebSocket has no backpressure but its buffer: keep under 1 MiB in it
            while (socket.bufferedAmount > 1 << 20) await tick();
            for (const end = Math.min(count, i + 1024); i < end; i++) socket.send(data);
          }
          while (socket.bufferedAmount > 0) await tick();
          socket.close();
          await new Promise((resolve) => {
            socket.onclose = resolve;
          });
          return i;
        },
        { url: `ws://127.0.0.1:${port}/`, bytes: packet, count: options.count },
      );
      return sent;
    };
    return {
      client,
      close: async () => {
        await page.close();
        await chromium.close();
      },
    };
  } catch (err) {
    await chromium.close();
    throw err;
  }
}

export async function runWs(options: WsOptions): Promise<WsResults> {
  const notes: string[] = [];
  const e2e = new Map<string, number[]>();
  const relaySamples = new Map<string, { rate: number[]; sent: number[]; delivered: number[]; dropped: number[] }>();
  const relayCounts = new Map<string, { forwarded: number; lost: number; errors: number }>();
  const loads: [string, Client][] = [['Node, flood', nodeClient(options, 0)]];
  if (options.pace > 0) loads.push([`Node, ${options.pace / 1000}k/s`, nodeClient(options, options.pace)]);
  let page: BrowserClient | undefined;
  if (options.browser) {
    try {
      const made = await browserClient(options);
      if (typeof made === 'string') notes.push(made);
      else {
        page = made;
        loads.push(['chromium, flood', made.client]);
      }
    } catch (err) {
      notes.push(`chromium rows skipped: chromium could not start (${(err as Error).message.split('\n')[0]})`);
    }
  } else {
    notes.push('chromium rows skipped: BENCH_WS_BROWSER=0');
  }
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const [name, kind] of Object.entries(END_TO_END)) {
        try {
          const x = await endToEndOnce(kind, options);
          e2e.set(name, [...(e2e.get(name) ?? []), x]);
        } catch (err) {
          notes.push(`${name}, its sender → its server, round ${round + 1}: ${(err as Error).message}`);
        }
      }
      for (const [load, client] of loads) {
        for (const [name, kind] of Object.entries(RELAYS)) {
          const key = `${load}\0${name}`;
          try {
            const r = await relayOnce(kind, client, options);
            const s = relaySamples.get(key) ?? { rate: [], sent: [], delivered: [], dropped: [] };
            s.rate.push(r.result.rate);
            s.sent.push(r.result.sent);
            s.delivered.push(r.result.delivered);
            s.dropped.push(r.result.receiverDropped);
            relaySamples.set(key, s);
            const c = relayCounts.get(name) ?? { forwarded: 0, lost: 0, errors: 0 };
            c.forwarded += r.relay.forwarded ?? 0;
            c.lost += r.relay.lost ?? 0;
            c.errors += r.relay.errors;
            relayCounts.set(name, c);
          } catch (err) {
            notes.push(`${name}, ${load}, round ${round + 1}: ${(err as Error).message}`);
          }
        }
      }
    }
  } finally {
    await page?.close();
  }
  for (const [name, c] of relayCounts) {
    if (c.errors > 0 || c.lost > 0) {
      notes.push(`${name}: ${c.errors} error(s) reported${c.lost > 0 ? `, ${c.lost} packet(s) counted lost` : ''}`);
    }
  }
  const endToEnd: Record<string, number> = {};
  for (const [name, xs] of e2e) endToEnd[name] = median(xs);
  const relay: Record<string, Record<string, RelayResult>> = {};
  for (const [key, s] of relaySamples) {
    const [load, name] = key.split('\0') as [string, string];
    relay[load] ??= {};
    relay[load][name] = {
      rate: median(s.rate),
      sent: median(s.sent),
      delivered: median(s.delivered),
      receiverDropped: median(s.dropped),
    };
  }
  return { endToEnd, relay, notes };
}

export function wsTables(r: WsResults): string {
  const mine = r.endToEnd.aiolo;
  const e2eRows = Object.entries(r.endToEnd).map(([name, x]) => [
    name,
    rate(x),
    name === 'aiolo' ? '' : ratio(x, mine),
  ]);
  const relayRows: string[][] = [];
  for (const [load, byRelay] of Object.entries(r.relay)) {
    const aioloRate = byRelay['aiolo bridge']?.rate;
    for (const [name, x] of Object.entries(byRelay)) {
      relayRows.push([
        load,
        name,
        String(x.sent),
        percent(x.delivered),
        Number.isNaN(x.receiverDropped) ? '—' : percent(x.receiverDropped),
        rate(x.rate),
        name === 'aiolo bridge' ? '' : ratio(x.rate, aioloRate),
      ]);
    }
  }
  return [
    'WebSocket, its sender → its server (small message, loopback, one packet per binary message; every message delivered):',
    '',
    table(['implementation', 'messages/s', '× aiolo'], e2eRows),
    '',
    'WebSocket client → relay → UDP receiver (small message, prebuilt bytes; raw dgram receiver):',
    '',
    table(
      [
        'client, load',
        'relay',
        'sent',
        'delivered',
        "dropped at the receiver's socket",
        'into the UDP receiver',
        '× aiolo',
      ],
      relayRows,
    ),
    '',
    "dropped at the receiver's socket: sent on by the relay, dropped by the kernel with the receiver's buffer",
    'full (it shares the cores with the client and the relay). Medians over rounds, each column on its own.',
    ...r.notes.map((n) => `\n${n}`),
  ].join('\n');
}

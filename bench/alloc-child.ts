// One receiver of the allocation section (bench/alloc.ts), in a process of its own so that its
// UDP path is its own choice (AIOLO_NATIVE):
//   node --import tsx bench/alloc-child.ts <aiolo|dgram> <flood binary> <warmup> <count>
// A C flooder paces the small message at it; after a warm-up, V8's sampling heap profiler runs
// over `count` messages, counting objects collected by young- and old-generation collections too
// (otherwise it reports only what is still alive). stdout: one JSON line,
//   {"messages":N,"bytes":{"<part>":bytesPerMessage,...}}
// by the part of the code each sampled allocation was made in.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aiolo } from './aiolo.js';

const [kind, flood, warmupArg, countArg] = process.argv.slice(2);
const warmup = Number(warmupArg);
const count = Number(countArg);
/** The pace: one the slowest receiver keeps up with, so that every message is received and counted. */
const RATE = 50_000;
/** Bytes between samples: small enough for a steady per-message figure from 100,000 messages. */
const SAMPLING_INTERVAL = 512;

let received = 0;
let port: number;
let stop: () => Promise<void>;
if (kind === 'aiolo') {
  const server = new aiolo.Server({ url: 'osc.udp://127.0.0.1:0', recvBufferSize: 4 * 1024 * 1024 });
  await server.start();
  const sub = server.route(aiolo.ANY_PATH, aiolo.ANY_ARGS).sub();
  void (async () => {
    for await (const _ of sub) received++;
  })();
  port = server.port as number;
  stop = () => server.stop();
} else {
  const socket = createSocket('udp4');
  socket.on('message', () => received++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(4 * 1024 * 1024);
  port = socket.address().port;
  stop = () => new Promise((resolve) => socket.close(() => resolve()));
}

const dir = mkdtempSync(join(tmpdir(), 'aiolo-alloc-'));
const packetFile = join(dir, 'small.osc');
writeFileSync(packetFile, aiolo.encode(aiolo.Message.typed('/synth/1/freq', 'ifs', 440, 0.5, 'sine')));
const run = (n: number) =>
  new Promise<void>((resolve, reject) => {
    const p = spawn(flood as string, ['udp', String(port), packetFile, String(n), String(RATE)], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', () => resolve());
  });

await run(warmup);
const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', {
  samplingInterval: SAMPLING_INTERVAL,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
const before = received;
await run(count);
const { profile } = await session.post('HeapProfiler.stopSampling');
const messages = received - before;
session.disconnect();
await stop();
rmSync(dir, { recursive: true, force: true });

/** The part of the code a frame is in, by its file. */
function part(url: string, name: string): string {
  if (url.includes('/transport/') || url.includes('/server/listen') || url.startsWith('node:dgram')) return 'receive';
  if (name === '(V8 API)') return 'receive'; // node:dgram's Buffer and sender object are made in C++
  if (url.includes('/codec/')) return 'decode';
  if (url.includes('/server/')) return 'dispatch';
  if (url.includes('alloc-child')) return 'consumer';
  return 'other';
}

interface Node {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: Node[];
}
const bytes: Record<string, number> = {};
const walk = (n: Node): void => {
  const p = part(n.callFrame.url, n.callFrame.functionName);
  bytes[p] = (bytes[p] ?? 0) + n.selfSize / Math.max(1, messages);
  for (const c of n.children) walk(c);
};
walk(profile.head as unknown as Node);
process.stdout.write(`${JSON.stringify({ messages, bytes })}\n`);
process.exit(0);

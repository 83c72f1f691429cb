// npm run fuzz: the long decoder fuzz run — 1,000,000 mutated and truncated packets (FUZZ_COUNT to
// change it; AIOLO_SEED to replay). Only OscDecodeError may come out, decoded packets must re-encode
// to themselves, and memory must stay bounded. Exits 1 on the first failure, printing the input.
import { decode, encode, OscDecodeError } from '../src/index.js';
import { randomPacket } from '../test/helpers/generate.js';
import { mutate } from '../test/helpers/mutate.js';
import { Random } from '../test/helpers/random.js';

const COUNT = Number(process.env.FUZZ_COUNT ?? 1_000_000);
const r = new Random();
const seeds = Array.from({ length: 500 }, () => encode(randomPacket(r)).slice(0, 4096));
const codes = new Map<string, number>();
let decoded = 0;
let peakHeap = 0;
const start = performance.now();
for (let i = 0; i < COUNT; i++) {
  const input = mutate(r, r.pick(seeds));
  try {
    const packet = decode(input, { maxDepth: 8 });
    decoded++;
    if (!decode(encode(packet), { maxDepth: 8 }).equals(packet)) {
      console.error(`unstable round trip for ${Buffer.from(input).toString('hex')} ${r.replay}`);
      process.exit(1);
    }
  } catch (err) {
    if (!(err instanceof OscDecodeError)) {
      console.error(`${String(err)} for ${Buffer.from(input).toString('hex')} ${r.replay}`);
      process.exit(1);
    }
    codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
  }
  if (i % 100_000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}
const seconds = (performance.now() - start) / 1000;
console.log(`${COUNT} inputs in ${seconds.toFixed(1)} s (${Math.round(COUNT / seconds)}/s), seed ${r.seed}`);
console.log(`decoded ${decoded}; rejected: ${[...codes].map(([c, n]) => `${c} ${n}`).join(', ')}`);
console.log(`peak heap ${(peakHeap / 2 ** 20).toFixed(1)} MB`);
if (peakHeap > 512 * 2 ** 20) {
  console.error('memory was not bounded');
  process.exit(1);
}

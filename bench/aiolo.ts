// The benchmark measures what users run: the compiled package in dist/ (tsx's transform of src/
// wraps every export in a getter, which costs more than some of the codec's operations). Types
// come from src/, so this file type-checks before a build. AIOLO_BENCH_FROM=src runs the sources
// instead: the test that checks the benchmark works runs it so, without a build.
import type * as Aiolo from '../src/index.js';
import { ROOT } from './root.js';

const fromSource = process.env.AIOLO_BENCH_FROM === 'src';
const entry = new URL(fromSource ? 'src/index.ts' : 'dist/index.js', ROOT).href;

export const aiolo: typeof Aiolo = await import(entry).catch((err: unknown) => {
  throw new Error(`the benchmark runs the built package: run 'npm run build' first (${String(err)})`);
});

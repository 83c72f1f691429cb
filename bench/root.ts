// The repository's root, from wherever this file runs: bench/root.ts under tsx, or
// dist-bench/bench/root.js once `npm run bench` has compiled the harness (bench/tsconfig.json).
import { fileURLToPath } from 'node:url';

export const COMPILED = import.meta.url.endsWith('.js');
export const ROOT = new URL(COMPILED ? '../../' : '../', import.meta.url);

/** A path under the repository's root, from a path relative to it. */
export const fromRoot = (file: string): string => fileURLToPath(new URL(file, ROOT));

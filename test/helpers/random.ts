// A small seeded PRNG for property and differential tests. The seed comes from AIOLO_SEED or is
// drawn at random; every randomized test runs its body through `seeded`, so that any failure —
// an assertion, an error, a deadline from `within`/`take`, the test's own timeout — reports
// `AIOLO_SEED=N`, and `AIOLO_SEED=N npm test` (or `node --import tsx --test FILE`) replays it.
import type { TestContext } from 'node:test';

export class Random {
  readonly seed: number;
  #state: number;

  constructor(seed: number = Number(process.env.AIOLO_SEED ?? Math.floor(Math.random() * 2 ** 32))) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  uint32(): number {
    return Math.floor(this.next() * 4294967296);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** A string of `n` characters drawn from `alphabet`. */
  string(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }

  /** A context line for assertion messages. */
  get replay(): string {
    return `(replay with AIOLO_SEED=${this.seed})`;
  }
}

/** The line every failure of a seeded test carries. */
export function replayLine(seed: number): string {
  return `replay with AIOLO_SEED=${seed}`;
}

/**
 * Wraps a randomized test's body: gives it a fresh `Random`, and if the body throws or rejects,
 * or is still running when the test ends (its `timeout`, or a cancelled run), reports the seed as a
 * diagnostic of the test, and in the error's message for failures that throw.
 *
 *     test('name', { timeout: 30_000 }, seeded(async (r, t) => { ... }));
 */
export function seeded(body: (r: Random, t: TestContext) => unknown): (t: TestContext) => Promise<void> {
  return async (t) => {
    const r = new Random();
    const line = replayLine(r.seed);
    let settled = false;
    // the signal aborts when the test ends; if the body has not finished by then, it timed out
    t.signal.addEventListener('abort', () => {
      if (!settled) t.diagnostic(`${line} (the test ended before its body did)`);
    });
    try {
      await body(r, t);
    } catch (err) {
      t.diagnostic(line);
      if (err instanceof Error && !err.message.includes(line)) {
        // the stack is formatted lazily from the message: read it before changing the message
        const stack = err.stack ?? '';
        const before = err.message;
        err.message = `${before} (${line})`;
        err.stack = stack.includes(before) ? stack.replace(before, err.message) : `${line}\n${stack}`;
      }
      throw err;
    } finally {
      settled = true;
    }
  };
}

// A small seeded PRNG for property and differential tests. The seed comes from AIOLO_SEED or is
// drawn at random; every failure message includes it, so `AIOLO_SEED=... npm test` replays a run.

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

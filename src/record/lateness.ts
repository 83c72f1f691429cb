// How late each replayed send was: a fixed histogram (bounded memory however long the replay),
// exact maximum and mean, p99 to within one bucket.

/** Bucket width in milliseconds (50 µs), and how far the buckets reach (1 s; later sends share the last). */
const BUCKET_MS = 0.05;
const BUCKETS = 20_000;

/** The lateness of a replay's sends, in milliseconds. */
export interface LatenessStats {
  /** Sends measured. */
  readonly count: number;
  /** The latest a send was. */
  readonly max: number;
  readonly mean: number;
  /** 99 % of sends were at most this late (rounded up to 50 µs). */
  readonly p99: number;
}

export class Lateness {
  readonly #buckets = new Uint32Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  add(ms: number): void {
    const late = Math.max(0, ms);
    this.#count++;
    this.#sum += late;
    if (late > this.#max) this.#max = late;
    const i = Math.min(BUCKETS - 1, Math.floor(late / BUCKET_MS));
    this.#buckets[i] = (this.#buckets[i] as number) + 1;
  }

  /** The lateness under which `q` of the sends fell (upper edge of its bucket, at most the maximum). */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#buckets[i] as number;
      if (seen >= rank) return Math.min(this.#max, (i + 1) * BUCKET_MS);
    }
    return this.#max;
  }

  get stats(): LatenessStats {
    return {
      count: this.#count,
      max: this.#max,
      mean: this.#count === 0 ? 0 : this.#sum / this.#count,
      p99: this.quantile(0.99),
    };
  }
}

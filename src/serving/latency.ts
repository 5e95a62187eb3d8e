/**
 * A latency histogram with bounded memory and O(1) recording, for scoring latency per model.
 *
 * Buckets are log-linear: 8 per power of two of microseconds (bucket i holds values in
 * [2^(i/8), 2^((i+1)/8)) µs; values under 1 µs go to bucket 0), from 1 µs to 2^24 µs (~16.8 s;
 * larger values go to the last bucket), 193 counters in all. A quantile is reported as the upper
 * bound of the bucket holding it, clamped to the exact minimum and maximum, so it is at most
 * 2^(1/8) − 1 ≈ 9 % above the true value (in the last bucket: the maximum). Count, sum, minimum
 * and maximum are exact.
 */

const PER_OCTAVE = 8;
const OCTAVES = 24;
const BUCKETS = PER_OCTAVE * OCTAVES + 1;

/** A summary of recorded latencies in ms (all 0 when nothing was recorded). */
export interface LatencySummary {
  readonly count: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly sumMs: number;
}

/** Records latencies (ms) and reports their distribution. */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;

  /** Records one latency in ms (negative or non-finite values count as 0). */
  record(ms: number): void {
    const v = ms > 0 && ms < Number.POSITIVE_INFINITY ? ms : 0;
    const us = v * 1000;
    const i = us < 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(us) * PER_OCTAVE));
    this.#counts[i]!++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /** Number of recorded latencies. */
  get count(): number {
    return this.#count;
  }

  /** The `q` quantile (0..1) in ms: the upper bound of its bucket, within [min, max]. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        if (i === BUCKETS - 1) return this.#max;
        const upper = 2 ** ((i + 1) / PER_OCTAVE) / 1000;
        return Math.min(this.#max, Math.max(this.#min, upper));
      }
    }
    return this.#max;
  }

  /** The summary of everything recorded so far. */
  summary(): LatencySummary {
    if (this.#count === 0) return { count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, sumMs: 0 };
    return {
      count: this.#count,
      minMs: this.#min,
      meanMs: this.#sum / this.#count,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
      maxMs: this.#max,
      sumMs: this.#sum,
    };
  }
}

/**
 * The seeded pseudo-random numbers of the `sluice start` simulation: xorshift32 (G. Marsaglia,
 * "Xorshift RNGs", Journal of Statistical Software 8(14), 2003) for uniforms and Box–Muller for
 * normals. Deterministic for a given seed; not for anything that needs real randomness.
 */

/** A seeded generator of uniform and normal samples. */
export class SeededRandom {
  #state: number;

  /** `seed` is taken as an unsigned 32-bit integer (0 becomes 1: xorshift needs a non-zero state). */
  constructor(seed: number) {
    this.#state = seed >>> 0 || 1;
  }

  /** A uniform sample in [0, 1). */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 0x1_0000_0000;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A standard normal sample (Box–Muller). */
  gauss(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/**
 * Seeded pseudo-random numbers so that fits are reproducible.
 *
 * Algorithm: SplitMix32-style mixing of a Weyl sequence (the 32-bit variant of Steele, Lea & Flood,
 * "Fast splittable pseudorandom number generators", OOPSLA 2014, as popularised by "mulberry32").
 * Statistical quality is ample for choosing splits and subsamples; not for cryptography.
 */

/** A source of uniform numbers in [0, 1). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** Creates a generator from an integer seed (any finite number; it is truncated to 32 bits). */
export function createRng(seed: number): Rng {
  let s = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

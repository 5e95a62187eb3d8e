/**
 * Gaussian tail probabilities for the anomaly-likelihood post-processor.
 *
 * `erfc` is the Chebyshev-fitted approximation of Press, Teukolsky, Vetterling & Flannery,
 * Numerical Recipes (2nd ed., §6.2, `erfcc`): fractional error below 1.2e-7 everywhere, including
 * far in the tail, which is what a likelihood of 1 - 1e-9 needs (1 - Φ(z) computed as Φ would lose it).
 */

/** Complementary error function, fractional error < 1.2e-7 (Numerical Recipes `erfcc`). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Upper tail of the standard normal: P(Z > z). */
export function normalTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

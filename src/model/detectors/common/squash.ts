/**
 * Squashing functions that turn unbounded statistics into scores in [0, 1].
 */

/**
 * Surprise of the largest of k standardised deviations, squashed without saturating: with
 * q = P(|Z| > z) = erfc(z/√2) (A&S 7.1.26 gives erfc directly, in log form, so it never underflows),
 * the tail of the maximum of k independent normals is 1 − (1 − q)^k; L = −log10 of that tail (decimal
 * digits of surprise) maps to L / (L + halfAt) ∈ [0, 1): 0 at z = 0, 0.5 at L = halfAt, and ordered
 * all the way up (a raw score that saturates at 1 would tie every large deviation).
 */
export function maxNormalSurprise(z: number, k: number, halfAt: number): number {
  if (!(z > 0)) return 0;
  const x = z * Math.SQRT1_2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const logQ = Math.log(poly) - x * x;
  let logTail: number;
  if (logQ < -30) logTail = Math.log(k) + logQ;
  else {
    const q = Math.exp(logQ);
    const tail = k === 1 ? q : -Math.expm1(k * Math.log1p(-Math.min(q, 1)));
    logTail = Math.log(tail > 0 ? tail : Number.MIN_VALUE);
  }
  const digits = logTail < 0 ? -logTail / Math.LN10 : 0;
  return digits / (digits + halfAt);
}

/**
 * Peaks-over-threshold tail model: the probability that a score this high or higher occurs, with the
 * tail beyond a high running quantile modelled as a generalised Pareto distribution (GPD).
 *
 * Source: Siffer, Fouque, Termier & Largouët (2017), "Anomaly detection in streams with extreme value
 * theory" (SPOT/DSPOT, KDD), after Pickands–Balkema–de Haan: exceedances over a high threshold t are
 * approximately GPD(γ, σ). Here every part is O(1) and bounded: the scores are already in units of
 * their mean absolute deviation, so a fixed t (a few deviations) is a high quantile; the exceedance
 * rate ρ is an exponentially weighted mean of 1[z > t], and γ, σ come from exponentially weighted
 * moments of the exceedances by the method of moments (Hosking & Wallis 1987): γ = ½(1 − m²/v),
 * σ = ½·m·(1 + m²/v), clamped to |γ| ≤ ½. Tail: P(Z > z) ≈ ρ·(1 + γ(z − t)/σ)^(−1/γ) for z > t.
 */

/** Online state of one tail model. */
export interface TailState {
  /** Exponentially weighted exceedance rate. */
  rate: number;
  /** Exponentially weighted mean and second moment of the exceedances over t. */
  m: number;
  m2: number;
  /** Scores and exceedances seen. */
  n: number;
  k: number;
}

/** Parameters of the tail model. */
export interface TailParams {
  /** Threshold t, in units of the score's mean absolute deviation. */
  readonly tailT: number;
  /** Smoothing factor of the exceedance moments. */
  readonly tailAlpha: number;
  /** Smoothing factor of the exceedance rate (per score, not per exceedance). */
  readonly rateAlpha: number;
}

/** A fresh tail model. */
export function newTail(): TailState {
  return { rate: 0, m: 0, m2: 0, n: 0, k: 0 };
}

/** Scores `z` ≥ 0 (returns its tail probability in (0, 1], 1 until 20 exceedances were seen), then learns it. */
export function updateTail(s: TailState, p: TailParams, z: number): number {
  let pv = 1;
  const y = z - p.tailT;
  if (s.k >= 20 && y > 0 && s.m > 0) {
    const v = Math.max(s.m2 - s.m * s.m, 1e-12);
    const r = (s.m * s.m) / v;
    const gamma = Math.max(-0.5, Math.min(0.5, 0.5 * (1 - r)));
    const sigma = 0.5 * s.m * (1 + r);
    const w = y / sigma;
    const tail = Math.abs(gamma) < 1e-6 ? Math.exp(-w) : 1 + gamma * w > 0 ? Math.pow(1 + gamma * w, -1 / gamma) : 0;
    pv = Math.max(Math.min(1, s.rate * tail), 1e-300);
  }
  s.n++;
  s.rate += Math.max(p.rateAlpha, 1 / s.n) * ((y > 0 ? 1 : 0) - s.rate);
  if (y > 0) {
    s.k++;
    const a = Math.max(p.tailAlpha, 1 / s.k);
    s.m += a * (y - s.m);
    s.m2 += a * (y * y - s.m2);
  }
  return pv;
}

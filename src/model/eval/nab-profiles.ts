/**
 * NAB's cost profiles and the small formulas every part of the scorer shares: the probationary
 * period, the scaled sigmoid and the normalisation of a raw score.
 *
 * Source: the Numenta Anomaly Benchmark scorer (Lavin & Ahmad, "Evaluating Real-time Anomaly
 * Detection Algorithms – the Numenta Anomaly Benchmark", ICMLA 2015; numenta/NAB commit ea702d7),
 * as described in ../shared/datasets/nab/SCORING.md §1–§3 and §8–§9.
 */

/** Weights of one cost profile: positive magnitudes; the scorer applies the signs (SCORING.md §1). */
export interface NabCosts {
  /** Reward of a detected window (A_TP). */
  readonly tp: number;
  /** Cost of one false-positive row (A_FP). */
  readonly fp: number;
  /** Cost of a missed window (A_FN). */
  readonly fn: number;
}

/** The three NAB profiles (config/profiles.json). A_TN is unused by the score and left out. */
export const NAB_PROFILES = {
  standard: { tp: 1.0, fp: 0.11, fn: 1.0 },
  reward_low_FP_rate: { tp: 1.0, fp: 0.22, fn: 1.0 },
  reward_low_FN_rate: { tp: 1.0, fp: 0.11, fn: 2.0 },
} as const satisfies Record<string, NabCosts>;

/** Name of a NAB profile. */
export type NabProfileName = keyof typeof NAB_PROFILES;

/** The profile names in NAB's reporting order. */
export const NAB_PROFILE_NAMES: readonly NabProfileName[] = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];

/** Rows in NAB's probationary period for a file of `n` rows: min(⌊0.15·n⌋, 750) (SCORING.md §2). */
export function nabProbation(n: number): number {
  return Math.min(Math.floor(0.15 * n), 0.15 * 5000);
}

/**
 * NAB's scaled sigmoid σ̃(y) = 2/(1+e^(5y)) − 1 for y ≤ 3, −1 above (SCORING.md §3), computed in the
 * same order of operations as NAB for bit-level agreement.
 */
export function scaledSigmoid(y: number): number {
  if (y > 3) return -1;
  return 2 * (1 / (1 + Math.exp(5 * y))) - 1;
}

/** σ̃(−1): the largest true-positive value before scaling (SCORING.md §3, "M"). */
export const SIGMOID_MAX = scaledSigmoid(-1);

/**
 * Normalised NAB score 100·(S − S_null)/(S_perfect − S_null) with S_perfect = A_TP·K and
 * S_null = −A_FN·K, for `windows` = K windows in the scored files (SCORING.md §8–§9). NaN when K = 0
 * (no windows: the score is undefined).
 */
export function nabNormalise(rawScore: number, costs: NabCosts, windows: number): number {
  const perfect = costs.tp * windows;
  const nil = -costs.fn * windows;
  if (perfect === nil) return Number.NaN;
  return (100 * (rawScore - nil)) / (perfect - nil);
}

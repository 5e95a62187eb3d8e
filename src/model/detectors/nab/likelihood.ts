/**
 * Anomaly likelihood: turns a stream of raw anomaly scores into the probability that the recent
 * scores are unusually high for this series.
 *
 * Source: Ahmad, Lavin, Purdy & Agha (2017), "Unsupervised real-time anomaly detection for streaming
 * data", Neurocomputing 262, §4 ("anomaly likelihood"). The paper keeps a sliding window of raw
 * scores, models it as a Gaussian (mean μ, deviation σ), and compares the mean of the last W′ raw
 * scores with it: L = 1 − Q((μ̃ − μ)/σ). Here the long window is replaced by exponentially weighted
 * moments (O(1) state instead of 8,640 stored scores) and only the upper tail counts (a raw score
 * below its usual level is not an anomaly), so the value kept is the tail probability Q itself.
 */
import { normalTail } from '../../postprocess-gaussian.ts';

/** Online state of one likelihood estimator (plain JSON-safe numbers). */
export interface LikelihoodState {
  /** Ring buffer of the last `short` raw scores. */
  ring: number[];
  /** Next write position in `ring`. */
  pos: number;
  /** Sum of `ring`. */
  sum: number;
  /** Exponentially weighted mean and variance of the short average. */
  mean: number;
  variance: number;
  /** Number of raw scores seen. */
  n: number;
}

/** Parameters of the estimator. */
export interface LikelihoodParams {
  /** W′: length of the short moving average. */
  readonly short: number;
  /** Smoothing factor of the long-run moments (≈ 1 / memory in records). */
  readonly alpha: number;
  /** Floor of the standard deviation, so a constant raw score does not make every blip infinitely unlikely. */
  readonly minStd: number;
}

/** A fresh estimator. */
export function newLikelihood(p: LikelihoodParams): LikelihoodState {
  return { ring: new Array<number>(p.short).fill(0), pos: 0, sum: 0, mean: 0, variance: 0, n: 0 };
}

/**
 * Feeds one raw score and returns the upper-tail probability of the new short average under the
 * long-run Gaussian (1 when not yet known), then learns from it.
 */
export function updateLikelihood(s: LikelihoodState, p: LikelihoodParams, raw: number): number {
  const len = s.ring.length;
  s.sum += raw - s.ring[s.pos]!;
  s.ring[s.pos] = raw;
  s.pos = (s.pos + 1) % len;
  s.n++;
  const avg = s.sum / Math.min(s.n, len);
  let tail = 1;
  if (s.n > len) {
    const sd = Math.max(Math.sqrt(s.variance), p.minStd);
    tail = normalTail((avg - s.mean) / sd);
  }
  // Welford-style exponentially weighted moments; the first scores start with a faster average.
  const a = Math.max(p.alpha, 1 / s.n);
  const d = avg - s.mean;
  s.mean += a * d;
  s.variance = (1 - a) * (s.variance + a * d * d);
  return tail;
}

/**
 * One metric's online pipeline in the `sluice-nab` detector: five views of the value, each turned
 * into a tail probability, combined into one p-value for the metric.
 *
 * Views:
 * 1. context: the context model (context-model.ts), surprise of the next quantised level, averaged
 *    over `ensemble` tables with different hash seeds;
 * 2. residual: distance to an exponentially weighted level forecast, in units of the running mean
 *    absolute deviation (EWMA control chart, Roberts 1959);
 * 3. spatial novelty: how far the value lies beyond the range seen so far, as a fraction of that
 *    range (graded form of the "spatial anomaly" rule in Numenta's NAB detector, Ahmad et al. 2017):
 *    an excess of `spatialTol` maps to p = pFloor, smaller excesses log-linearly towards 1;
 * 4. seasonal: distance to a per-time-of-day profile (`season` buckets per day, optionally per day of
 *    the week), the context conditioning of CAD OSE and of HTM's time-of-day encoder made explicit;
 * 5. multi-scale context: the context model on block means of 2, 4, 8 records (multiscale.ts), with
 *    its own likelihoods.
 * Views 1, 2, 4 and 5 pass through anomaly likelihoods (likelihood.ts); the metric's p-value is the
 * Bonferroni-corrected minimum over the enabled views.
 *
 * Input values are clamped to ±1e150 so the arithmetic stays finite; the caller skips non-finite
 * values, and a non-finite timestamp skips only the seasonal view.
 */
import { contextSeed, newContext, updateContext, type ContextState } from './context-model.ts';
import { newScales, updateScales, type ScaleState } from './multiscale.ts';
import { newLikelihood, updateLikelihood, type LikelihoodParams, type LikelihoodState } from './likelihood.ts';
import type { NabParams } from './params.ts';

/** Online state of one metric. */
export interface FeatureState {
  /** Values seen. */
  n: number;
  /** Range seen so far. */
  min: number;
  max: number;
  /** Residual view: level forecast and mean absolute deviation. */
  level: number;
  dev: number;
  /** Context view: `ensemble` hashed tables, one per seed. */
  contexts: ContextState[];
  ctxLik: LikelihoodState;
  resLik: LikelihoodState;
  /** Seasonal view: per-bucket mean, whether the bucket has been seen (0/1), mean absolute deviation. */
  prof: number[];
  profSeen: number[];
  sdev: number;
  seaLik: LikelihoodState;
  /** Multi-scale context view, one state per scale. */
  scales: ScaleState[];
}

const DAY_MS = 86_400_000;
const LIMIT = 1e150;

function likelihoodParams(p: NabParams): LikelihoodParams {
  return { short: p.short, alpha: p.alpha, minStd: p.minStd };
}

/** Number of seasonal buckets the parameters imply. */
export function seasonBuckets(p: NabParams): number {
  return p.season * (p.weekly === 1 ? 7 : 1);
}

/** Fresh state for one metric. */
export function newFeature(p: NabParams): FeatureState {
  const lik = likelihoodParams(p);
  const buckets = seasonBuckets(p);
  return {
    n: 0,
    min: 0,
    max: 0,
    level: 0,
    dev: 0,
    contexts: Array.from({ length: p.ensemble }, () => newContext(p)),
    ctxLik: newLikelihood(lik),
    resLik: newLikelihood(lik),
    prof: new Array<number>(buckets).fill(0),
    profSeen: new Array<number>(buckets).fill(0),
    sdev: 0,
    seaLik: newLikelihood(lik),
    scales: newScales(p),
  };
}

/** z ≥ 0 squashed into [0, 1): 0.5 at z = half. */
function squash(z: number, half: number): number {
  return Number.isFinite(z) ? z / (z + half) : 1;
}

function bucketOf(ts: number, p: NabParams): number {
  const inDay = ((ts % DAY_MS) + DAY_MS) % DAY_MS;
  const b = Math.min(p.season - 1, Math.floor((inDay / DAY_MS) * p.season));
  if (p.weekly !== 1) return b;
  return b + p.season * ((((Math.floor(ts / DAY_MS) % 7) + 7) % 7));
}

/** Scores a finite value `x` at time `ts`, learns from it, and returns the metric's p-value in (0, 1]. */
export function updateFeature(s: FeatureState, p: NabParams, value: number, ts: number): number {
  const lik = likelihoodParams(p);
  const x = Math.max(-LIMIT, Math.min(LIMIT, value));
  if (s.n === 0) {
    s.min = x;
    s.max = x;
    s.level = x;
  }
  s.n++;
  const range = s.max - s.min;
  const tiny = range > 0 ? range * 1e-3 : 1e-9;

  // View 1: context of quantised levels over the range seen before this value.
  const q = range > 0 ? Math.min(p.bins - 1, Math.max(0, Math.floor(((x - s.min) / range) * p.bins))) : 0;
  let rawCtx = 0;
  for (let k = 0; k < p.ensemble; k++) rawCtx += updateContext(s.contexts[k]!, p, q, contextSeed(p.seed + k));
  const pCtx = updateLikelihood(s.ctxLik, lik, rawCtx / p.ensemble);

  // View 2: residual against the level forecast.
  const err = Math.abs(x - s.level);
  const pRes = updateLikelihood(s.resLik, lik, squash(err / (s.dev > 0 ? s.dev : tiny), p.devHalf));
  s.level += p.levelAlpha * (x - s.level);
  s.dev += p.devAlpha * (err - s.dev);

  // View 5: multi-scale context, over the same range as view 1 (before this value).
  const pScale = (p.views & 16) !== 0 ? updateScales(s.scales, p, x, s.min, s.max) : 1;

  // View 3: spatial novelty against the range seen before this value.
  const excess = s.n > 1 && range > 0 ? Math.max(x - s.max, s.min - x, 0) / range : 0;
  const pSpace = excess > 0 ? Math.exp(Math.log(p.pFloor) * Math.min(1, excess / p.spatialTol)) : 1;
  if (x < s.min) s.min = x;
  if (x > s.max) s.max = x;

  // View 4: residual against the seasonal profile.
  let pSea = 1;
  if (p.season > 0 && Number.isFinite(ts)) {
    const b = bucketOf(ts, p);
    const m = s.prof[b]!;
    if (s.profSeen[b] === 0) {
      s.prof[b] = x;
      s.profSeen[b] = 1;
    } else {
      const e = Math.abs(x - m);
      pSea = updateLikelihood(s.seaLik, lik, squash(e / (s.sdev > 0 ? s.sdev : tiny), p.devHalf));
      s.sdev += p.devAlpha * (e - s.sdev);
      s.prof[b] = m + p.seasonAlpha * (x - m);
    }
  }

  let best = 1;
  if ((p.views & 1) !== 0) best = Math.min(best, pCtx);
  if ((p.views & 2) !== 0) best = Math.min(best, pRes);
  if ((p.views & 4) !== 0) best = Math.min(best, pSpace);
  if ((p.views & 8) !== 0) best = Math.min(best, pSea);
  if ((p.views & 16) !== 0 && p.scales > 0) best = Math.min(best, pScale);
  const enabled = (p.views & 1) + ((p.views >> 1) & 1) + ((p.views >> 2) & 1) + ((p.views >> 3) & 1) + ((p.views >> 4) & 1 & (p.scales > 0 ? 1 : 0));
  return Math.min(1, enabled * best);
}

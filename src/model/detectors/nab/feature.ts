/**
 * One metric's online pipeline in the `sluice-nab` detector: four views of the value, each turned
 * into a tail probability, combined into one p-value for the metric.
 *
 * Views:
 * 1. context: the context model (context-model.ts), surprise of the next quantised level;
 * 2. residual: distance to an exponentially weighted level forecast, in units of the running mean
 *    absolute deviation (EWMA control chart, Roberts 1959);
 * 3. spatial novelty: how far the value lies beyond the range seen so far, as a fraction of that
 *    range (graded form of the "spatial anomaly" rule in Numenta's NAB detector, Ahmad et al. 2017):
 *    an excess of `spatialTol` maps to p = pFloor, smaller excesses log-linearly towards 1;
 * 4. seasonal: distance to a per-time-of-day profile (`season` buckets per day, optionally per day of
 *    the week), the context conditioning of CAD OSE and of HTM's time-of-day encoder made explicit.
 * Views 1, 2 and 4 pass through the anomaly likelihood (likelihood.ts); the metric's p-value is the
 * Bonferroni-corrected minimum over the enabled views.
 *
 * Input values are clamped to ±1e150 so the arithmetic stays finite; the caller skips non-finite
 * values, and a non-finite timestamp skips only the seasonal view.
 */
import { contextSeed, newContext, updateContext, type ContextState } from './context-model.ts';
import { newTail, updateTail, type TailState } from './tail-model.ts';
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
  /** Residual novelty view: decaying envelope of past |residuals|. */
  env: number;
  /** Residual tail view: peaks-over-threshold model of the normalised residual. */
  resTail: TailState;
  /** Context view: `ensemble` tables with different hash seeds and shifted level boundaries. */
  contexts: ContextState[];
  ctxLik: LikelihoodState;
  /** Local context view: tables over levels of the signed residual (x − level) in units of the deviation. */
  locals: ContextState[];
  locLik: LikelihoodState;
  /** Per view: exponentially weighted rate of p-values below gcRef (genomic control). */
  gc: number[];
  resLik: LikelihoodState;
  /** Seasonal view: per-bucket mean, whether the bucket has been seen (0/1), mean absolute deviation. */
  prof: number[];
  profSeen: number[];
  sdev: number;
  seaLik: LikelihoodState;
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
    env: 0,
    resTail: newTail(),
    contexts: Array.from({ length: p.ensemble }, () => newContext(p)),
    ctxLik: newLikelihood(lik),
    locals: Array.from({ length: (p.views & 64) !== 0 ? p.localTables : 0 }, () => newContext(p)),
    locLik: newLikelihood(lik),
    gc: new Array<number>(7).fill(p.gcRef),
    resLik: newLikelihood(lik),
    prof: new Array<number>(buckets).fill(0),
    profSeen: new Array<number>(buckets).fill(0),
    sdev: 0,
    seaLik: newLikelihood(lik),
  };
}

/**
 * Levels of the k-th context table: spread geometrically around `bins` by binSpread octaves in all,
 * so the ensemble averages over quantisation resolutions as well as hash seeds.
 */
export function tableBins(p: NabParams, k: number): number {
  if (p.ensemble < 2 || p.binSpread === 0) return p.bins;
  return Math.max(2, Math.round(p.bins * 2 ** (p.binSpread * (k / (p.ensemble - 1) - 0.5))));
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
  // Each table of the ensemble shifts the level boundaries by k/ensemble of a level (averaged shifted
  // histograms, Scott 1985) and uses its own hash seed, so the average raw score depends less on
  // where one boundary falls and on which contexts collide in one table.
  const u = range > 0 ? (x - s.min) / range : 0;
  let rawCtx = 0;
  for (let k = 0; k < p.ensemble; k++) {
    const bk = tableBins(p, k);
    const q = range > 0 ? Math.min(bk - 1, Math.max(0, Math.floor(u * bk + (p.shift * k) / p.ensemble))) : 0;
    rawCtx += updateContext(s.contexts[k]!, p, q, contextSeed(k + p.seed), bk);
  }
  const pCtx = updateLikelihood(s.ctxLik, lik, rawCtx / p.ensemble);

  // View 7: the same context model over a local quantisation: the signed residual x − level in
  // units of `localWidth` mean absolute deviations, centred on the middle level. It sees shape
  // changes that are small against the all-time range (one extreme squeezes view 1 into few levels).
  let pLoc = 1;
  if (s.locals.length > 0) {
    const w = p.localWidth * (s.dev > 0 ? s.dev : tiny);
    const v = (x - s.level) / w + p.bins / 2;
    let raw = 0;
    for (let k = 0; k < s.locals.length; k++) {
      const q = Math.min(p.bins - 1, Math.max(0, Math.floor(v)));
      raw += updateContext(s.locals[k]!, p, q, contextSeed(k + p.seed + 101));
    }
    pLoc = updateLikelihood(s.locLik, lik, raw / s.locals.length);
  }

  // View 2: residual against the level forecast.
  const err = Math.abs(x - s.level);
  const pRes = updateLikelihood(s.resLik, lik, squash(err / (s.dev > 0 ? s.dev : tiny), p.devHalf));
  // View 5: residual novelty, the residual beyond the largest recent one (the spatial-novelty rule
  // applied to residuals, so a one-record spike inside the seen range is not averaged away by the
  // likelihood's moving average). The envelope relaxes towards the mean absolute deviation.
  const jump = s.n > 2 && s.env > 0 ? Math.max(0, err - s.env) / s.env : 0;
  const pJump = jump > 0 ? Math.exp(Math.log(p.pFloor) * Math.min(1, jump / p.jumpTol)) : 1;
  const relaxed = s.env + p.jumpDecay * (s.dev - s.env);
  s.env = Math.max(relaxed, s.env > 0 ? Math.min(err, s.env * p.jumpCap) : err);
  // View 6: the normalised residual of this one record against its own extreme-value tail.
  const pTail = (p.views & 32) !== 0 && s.n > 10 && s.dev > 0 ? updateTail(s.resTail, p, Math.min(err / s.dev, 1e6)) : 1;
  s.level += p.levelAlpha * (x - s.level);
  s.dev += p.devAlpha * (err - s.dev);

  // View 3: spatial novelty against the range seen before this value.
  const excess = s.n > 1 && range > 0 ? Math.max(x - s.max, s.min - x, 0) / range : 0;
  const conf = p.spatialN > 0 ? Math.min(1, s.n / p.spatialN) : 1;
  const pSpace = excess > 0 ? Math.exp(Math.log(p.pFloor) * conf * Math.min(1, excess / p.spatialTol)) : 1;
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

  const ps = [pCtx, pRes, pSpace, pSea, pJump, pTail, pLoc];
  let best = 1;
  let enabled = 0;
  let fisher = 0;
  for (let v = 0; v < ps.length; v++) {
    if ((p.views & (1 << v)) === 0) continue;
    enabled++;
    if (p.gcRef > 0 && ((p.gcViews >> v) & 1) === 1) {
      // Genomic control (Devlin & Roeder 1999): a view whose p-values fall below gcRef more often
      // than gcRef of the time is over-confident on this series; its p-values are inflated by the
      // observed/expected ratio, learnt from the series' own past (before this record).
      const rate = s.gc[v]!;
      ps[v] = Math.min(1, ps[v]! * Math.max(1, rate / p.gcRef));
      const a = Math.max(p.gcAlpha, 1 / (s.n + 1 / p.gcAlpha / 10));
      s.gc[v] = rate + a * ((ps[v]! < p.gcRef ? 1 : 0) - rate);
    }
    best = Math.min(best, ps[v]!);
    fisher -= Math.log(Math.max(ps[v]!, 1e-300));
  }
  if (p.combine === 1) return Math.max(chiSquareTail(2 * fisher, enabled), 1e-300);
  return Math.min(1, enabled * best);
}

/**
 * Upper tail of a χ² variable with 2k degrees of freedom at x (Fisher 1925, combining k independent
 * p-values: −2 Σ ln pᵢ ~ χ²₂ₖ): e^(−x/2) Σ_{j<k} (x/2)^j / j!.
 */
function chiSquareTail(x: number, k: number): number {
  const h = x / 2;
  let term = 1;
  let sum = 1;
  for (let j = 1; j < k; j++) {
    term *= h / j;
    sum += term;
  }
  return Math.min(1, Math.exp(-h) * sum);
}

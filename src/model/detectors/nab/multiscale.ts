/**
 * Multi-scale context view: the context model (context-model.ts) run on block means of the series
 * at dyadic scales (blocks of 2, 4, 8, … records), each through its own anomaly likelihood.
 *
 * Source: the multiresolution idea of wavelet-based and piecewise-aggregate detectors (Mallat 1989;
 * PAA, Keogh et al. 2001: a series summarised by means of equal blocks), applied to the per-record
 * context model. A pattern that is slow against the record rate, e.g. a level that drifts over tens of
 * records, gives no unusual transition between neighbouring records but does between block means.
 * Scale j (block m = 2^(j+1)) keeps `scaleTables` hashed tables of `table / m` cells, so their counts
 * halve after as many records as the per-record table's, and a likelihood over ⌈short / m⌉ blocks,
 * so it covers as many records as the per-record one. A block's p-value holds until the next block
 * ends. The view's p-value is the Bonferroni minimum over scales. Cost: amortised O(scaleTables)
 * per record (a block of m records does the work of one table update per table).
 */
import { contextSeed, newContext, updateContext, type ContextParams, type ContextState } from './context-model.ts';
import { newLikelihood, updateLikelihood, type LikelihoodParams, type LikelihoodState } from './likelihood.ts';
import type { NabParams } from './params.ts';

/** Online state of one scale. */
export interface ScaleState {
  /** Sum and count of the values in the current block. */
  sum: number;
  count: number;
  tables: ContextState[];
  lik: LikelihoodState;
  /** p-value of the last complete block (1 before the first). */
  p: number;
}

/** Block length of scale `j`. */
export function blockOf(j: number): number {
  return 2 ** (j + 1);
}

/** Context parameters of scale `j`: the per-record ones with a table of `table / m` cells. */
export function scaleContextParams(p: NabParams, j: number): ContextParams {
  return { bins: p.bins, order: p.order, table: Math.max(16, Math.round(p.table / blockOf(j))) };
}

/** Likelihood parameters of scale `j`: a moving average over ⌈short / m⌉ blocks. */
export function scaleLikelihoodParams(p: NabParams, j: number): LikelihoodParams {
  return { short: Math.max(1, Math.ceil(p.short / blockOf(j))), alpha: p.alpha, minStd: p.minStd };
}

/** Fresh states of every scale. */
export function newScales(p: NabParams): ScaleState[] {
  return Array.from({ length: p.scales }, (_, j) => ({
    sum: 0,
    count: 0,
    tables: Array.from({ length: p.scaleTables }, () => newContext(scaleContextParams(p, j))),
    lik: newLikelihood(scaleLikelihoodParams(p, j)),
    p: 1,
  }));
}

interface ScaleSetup {
  readonly m: number;
  readonly ctx: ContextParams;
  readonly lik: LikelihoodParams;
  readonly seeds: readonly number[];
}

const setups = new WeakMap<NabParams, readonly ScaleSetup[]>();

/** Per-scale block length, parameters and hash seeds, derived once per parameter object. */
function setupOf(p: NabParams): readonly ScaleSetup[] {
  let out = setups.get(p);
  if (out === undefined) {
    out = Array.from({ length: p.scales }, (_, j) => ({
      m: blockOf(j),
      ctx: scaleContextParams(p, j),
      lik: scaleLikelihoodParams(p, j),
      // Seed indices after the per-record tables' (seed … seed + ensemble − 1), distinct per scale.
      seeds: Array.from({ length: p.scaleTables }, (_, k) => contextSeed(p.seed + p.ensemble + j * p.scaleTables + k)),
    }));
    setups.set(p, out);
  }
  return out;
}

/**
 * Adds the finite value `x` to every scale's block; a scale whose block completes quantises the block
 * mean over the range [min, max] seen before `x` and scores it. Returns the view's p-value.
 */
export function updateScales(scales: ScaleState[], p: NabParams, x: number, min: number, max: number): number {
  const range = max - min;
  const setup = setupOf(p);
  let best = 1;
  for (let j = 0; j < scales.length; j++) {
    const s = scales[j]!;
    const u = setup[j]!;
    s.sum += x;
    s.count++;
    if (s.count >= u.m) {
      const mean = s.sum / u.m;
      s.sum = 0;
      s.count = 0;
      const q = range > 0 ? Math.min(p.bins - 1, Math.max(0, Math.floor(((mean - min) / range) * p.bins))) : 0;
      let raw = 0;
      for (let k = 0; k < s.tables.length; k++) raw += updateContext(s.tables[k]!, u.ctx, q, u.seeds[k]!);
      s.p = updateLikelihood(s.lik, u.lik, raw / s.tables.length);
    }
    if (s.p < best) best = s.p;
  }
  return Math.min(1, best * scales.length);
}

/**
 * Hyperparameters of the `sluice-nab` detector: one configuration for every series (no per-series
 * tuning); the defaults are the ones measured in docs/nab-detector.md.
 */
import { ErrorCode, SluiceError } from '../../../errors.ts';

/** Every hyperparameter, all plain numbers so the set round-trips through JSON. */
export interface NabParams {
  /** Records a series must see before it may score above 0 (its own learning period). */
  readonly warmup: number;
  /** Context model: quantisation levels over the running range. */
  readonly bins: number;
  /** Context model: how many past levels form a context. */
  readonly order: number;
  /** Context model: hashed table size (bounded state; also the halving period). */
  readonly table: number;
  /** Context model: number of hashed tables whose raw scores are averaged (different hash seeds). */
  readonly ensemble: number;
  /** Context model: seed index of the first table (table k uses seed index seed + k). */
  readonly seed: number;
  /** Multi-scale context view: number of dyadic scales (blocks of 2, 4, …, 2^scales records; 0: off). */
  readonly scales: number;
  /** Multi-scale context view: hashed tables per scale (each of table / block cells). */
  readonly scaleTables: number;
  /** Likelihood: length of the short moving average of raw scores. */
  readonly short: number;
  /** Likelihood: smoothing factor of the long-run moments of the short average. */
  readonly alpha: number;
  /** Likelihood: floor of the long-run standard deviation. */
  readonly minStd: number;
  /** Residual view: smoothing factor of the level forecast. */
  readonly levelAlpha: number;
  /** Residual view: smoothing factor of the mean absolute deviation. */
  readonly devAlpha: number;
  /** Residual view: deviations (in mean absolute deviations) that map to raw score 0.5. */
  readonly devHalf: number;
  /** Spatial novelty: excess beyond the seen range (as a fraction of it) that maps to p = pFloor; smaller excesses map log-linearly. */
  readonly spatialTol: number;
  /** Output level that counts as an alarm and starts the refractory period. */
  readonly alarm: number;
  /** Refractory period after an alarm, in records. */
  readonly refractory: number;
  /** Factor applied to the output during the refractory period. */
  readonly damp: number;
  /** Bit mask of the enabled views: 1 context, 2 residual, 4 spatial novelty, 8 seasonal, 16 multi-scale context. */
  readonly views: number;
  /** Seasonal view: buckets per day (0: off). */
  readonly season: number;
  /** Seasonal view: 1 to condition on the day of the week too. */
  readonly weekly: number;
  /** Seasonal view: smoothing factor of each bucket's mean. */
  readonly seasonAlpha: number;
  /** Tail probability that maps to output 1 (the output is −log10(p) / −log10(pFloor)). */
  readonly pFloor: number;
}

/** Defaults (see docs/nab-detector.md for how they were measured). */
export const DEFAULT_NAB_PARAMS: NabParams = {
  warmup: 150,
  bins: 16,
  order: 3,
  table: 4096,
  ensemble: 8,
  seed: 0,
  scales: 3,
  scaleTables: 4,
  short: 20,
  alpha: 0.002,
  minStd: 0.05,
  levelAlpha: 0.1,
  devAlpha: 0.01,
  devHalf: 3,
  spatialTol: 0.01,
  alarm: 0.35,
  refractory: 300,
  damp: 0.3,
  pFloor: 1e-12,
  views: 31,
  season: 48,
  weekly: 0,
  seasonAlpha: 0.1,
};

type Rule = (v: number) => boolean;
const positive: Rule = (v) => v > 0;
const unit: Rule = (v) => v > 0 && v < 1;
const count: Rule = (v) => Number.isInteger(v) && v >= 0 && v <= 1_000_000;
const RULES: Record<keyof NabParams, [Rule, string]> = {
  warmup: [count, 'an integer in [0, 1e6]'],
  bins: [(v) => Number.isInteger(v) && v >= 2 && v <= 1024, 'an integer in [2, 1024]'],
  order: [(v) => Number.isInteger(v) && v >= 1 && v <= 8, 'an integer in [1, 8]'],
  table: [(v) => Number.isInteger(v) && v >= 16 && v <= 65536, 'an integer in [16, 65536]'],
  ensemble: [(v) => Number.isInteger(v) && v >= 1 && v <= 64, 'an integer in [1, 64]'],
  seed: [count, 'an integer in [0, 1e6]'],
  scales: [(v) => Number.isInteger(v) && v >= 0 && v <= 8, 'an integer in [0, 8]'],
  scaleTables: [(v) => Number.isInteger(v) && v >= 1 && v <= 64, 'an integer in [1, 64]'],
  short: [(v) => Number.isInteger(v) && v >= 1 && v <= 1000, 'an integer in [1, 1000]'],
  alpha: [unit, 'in (0, 1)'],
  minStd: [positive, '> 0'],
  levelAlpha: [unit, 'in (0, 1)'],
  devAlpha: [unit, 'in (0, 1)'],
  devHalf: [positive, '> 0'],
  spatialTol: [(v) => v >= 0, '≥ 0'],
  alarm: [(v) => v > 0 && v <= 1, 'in (0, 1]'],
  refractory: [count, 'an integer in [0, 1e6]'],
  damp: [(v) => v >= 0 && v <= 1, 'in [0, 1]'],
  pFloor: [unit, 'in (0, 1)'],
  views: [(v) => Number.isInteger(v) && v >= 1 && v <= 31, 'an integer in [1, 31]'],
  season: [(v) => Number.isInteger(v) && v >= 0 && v <= 1440, 'an integer in [0, 1440]'],
  weekly: [(v) => v === 0 || v === 1, '0 or 1'],
  seasonAlpha: [unit, 'in (0, 1)'],
};

/** Merges `input` over the defaults and validates; throws MODEL_INVALID naming the bad field. */
export function parseNabParams(input: unknown, path = 'params'): NabParams {
  if (input === undefined || input === null) return DEFAULT_NAB_PARAMS;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new SluiceError(ErrorCode.MODEL_INVALID, `${path} must be an object`, { details: { path } });
  }
  const out: Record<string, number> = { ...DEFAULT_NAB_PARAMS };
  for (const [key, value] of Object.entries(input)) {
    const rule = RULES[key as keyof NabParams];
    if (rule === undefined) {
      throw new SluiceError(ErrorCode.MODEL_INVALID, `${path}/${key} is not a sluice-nab hyperparameter`, { details: { path: `${path}/${key}` } });
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || !rule[0](value)) {
      throw new SluiceError(ErrorCode.MODEL_INVALID, `${path}/${key} must be ${rule[1]}`, { details: { path: `${path}/${key}` } });
    }
    out[key] = value;
  }
  return out as unknown as NabParams;
}

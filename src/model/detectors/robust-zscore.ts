/**
 * `robust-zscore`: the statistical baseline. Per metric, an exponentially weighted robust location
 * and scale; the observation's largest standardised deviation across metrics, turned into a score.
 *
 * Algorithm (per metric j, for each finite value x):
 *   - location m and scale d are an EWMA of x and an EWMA of |x − m| (the mean absolute deviation,
 *     scaled by √(π/2) ≈ 1.2533 to estimate σ under normality), with weight a = max(α, 1/n) so the
 *     first values are averaged equally (bias-corrected start), α = 1 − 2^(−1/halfLife);
 *   - z = |x − m| / σ with σ = 1.2533·d + 0.001·|m| (a floor, so flat series score changes finitely),
 *     computed before the update;
 *   - the residual x − m is winsorised at ±clip·σ before it updates m and d, so a single outlier moves
 *     the estimate by at most a·clip·σ (Huber-type M-estimation, cf. Huber 1964, "Robust Estimation of a
 *     Location Parameter"; EWMA control charts: Roberts 1959, Hunter 1986), while a persistent level
 *     shift is still absorbed because d grows geometrically while it lasts.
 * Combination across the k metrics scored: with Z = max_j z_j, the tail P = 1 − (1 − erfc(Z/√2))^k is
 * the chance that the largest of k independent standard normals is as extreme (a soft Bonferroni
 * correction); the score is L/(L + 3) with L = −log10 P, in [0, 1) and never saturating early (see
 * common/squash.ts): 0.5 for a 1-in-1,000 observation.
 *
 * Fit: per metric, the median and the normalised MAD of the history seed the location and the scale of
 * every new series (the class baseline); an empty history means each series learns from scratch.
 * Unknown values (missing, NaN, ±Infinity): the metric is skipped — it contributes z = 0 and does not
 * update its estimates; an observation with no finite metric scores 0 and changes nothing. A metric
 * scores 0 until it has `minObservations` values.
 * State per series: 4·k doubles (count, location, scale, last z per metric): 8 metrics → 256 bytes of
 * data. score() allocates nothing.
 */
import type { DetectorFactory, DetectorModel, FitOptions, JsonValue, Observation } from '../types.ts';
import { metricsOf, readValues } from './common/observation.ts';
import { rejectUnknownKeys, requireFeatures, requireNumber, requireNumbers, requireObject } from './common/params.ts';
import { maxNormalSurprise } from './common/squash.ts';

const KIND = 'robust-zscore';
/** √(π/2): mean absolute deviation → standard deviation under normality. */
const MAD_TO_SIGMA = 1.2533141373155003;
/** Median absolute deviation → standard deviation under normality. */
const MEDIAN_AD_TO_SIGMA = 1.482602218505602;
/** Decimal digits of surprise that score 0.5 (a 1-in-1,000 event across the metrics scored). */
const SURPRISE_HALF_AT = 3;
/** σ never goes below this fraction of |location| (+1e-12): a flat series still scores changes finitely. */
const SCALE_FLOOR = 1e-3;

/** Hyperparameters of {@link robustZScore}. */
export interface RobustZScoreHyperparameters {
  /** Half-life of the EWMAs, in observations (≥ 1). */
  readonly halfLife: number;
  /** Winsorisation of residuals, in σ (> 0). */
  readonly clip: number;
  /** Values a metric must have seen before it scores (≥ 1). */
  readonly minObservations: number;
}

/** Defaults of {@link RobustZScoreHyperparameters}. */
export const ROBUST_ZSCORE_DEFAULTS: RobustZScoreHyperparameters = Object.freeze({ halfLife: 200, clip: 4, minObservations: 20 });

/** Per-series state: [count×k, location×k, scale×k, lastZ×k]. */
export type RobustZScoreState = Float64Array;

function readHyper(raw: Readonly<Record<string, unknown>>, path: string): RobustZScoreHyperparameters {
  rejectUnknownKeys(KIND, path, raw, ['halfLife', 'clip', 'minObservations', 'initial']);
  const d = ROBUST_ZSCORE_DEFAULTS;
  return {
    halfLife: requireNumber(KIND, `${path}/halfLife`, raw.halfLife ?? d.halfLife, { min: 1 }),
    clip: requireNumber(KIND, `${path}/clip`, raw.clip ?? d.clip, { min: 0, minExclusive: true }),
    minObservations: requireNumber(KIND, `${path}/minObservations`, raw.minObservations ?? d.minObservations, { min: 1, integer: true }),
  };
}

class RobustZScoreModel implements DetectorModel<RobustZScoreState> {
  readonly kind = KIND;
  readonly features: readonly string[];
  readonly hyper: RobustZScoreHyperparameters;
  /** Template of a new series' state (counts, locations, scales from the fit). */
  private readonly initial: Float64Array;
  private readonly alpha: number;
  private readonly scratch: Float64Array;

  constructor(features: readonly string[], hyper: RobustZScoreHyperparameters, initial: Float64Array) {
    this.features = features;
    this.hyper = hyper;
    this.initial = initial;
    this.alpha = 1 - Math.pow(2, -1 / hyper.halfLife);
    this.scratch = new Float64Array(features.length);
  }

  newState(): RobustZScoreState {
    return this.initial.slice();
  }

  score(state: RobustZScoreState, obs: Observation): number {
    const k = this.features.length;
    const x = this.scratch;
    if (readValues(obs, this.features, x) === 0) {
      state.fill(0, 3 * k, 4 * k);
      return 0;
    }
    const alpha = this.alpha;
    const clip = this.hyper.clip;
    const minObs = this.hyper.minObservations;
    let zMax = 0;
    let scored = 0;
    for (let j = 0; j < k; j++) {
      const v = x[j]!;
      if (v !== v) {
        state[3 * k + j] = 0;
        continue;
      }
      const n = state[j]! + 1;
      state[j] = n;
      if (n === 1) {
        state[k + j] = v;
        state[2 * k + j] = 0;
        state[3 * k + j] = 0;
        continue;
      }
      const m = state[k + j]!;
      const d = state[2 * k + j]!;
      const sigma = MAD_TO_SIGMA * d + SCALE_FLOOR * Math.abs(m) + 1e-12;
      let r = v - m;
      const z = Math.abs(r) / sigma;
      const zOut = n > minObs ? z : 0;
      state[3 * k + j] = zOut;
      if (zOut > zMax) zMax = zOut;
      scored++;
      const c = clip * sigma;
      if (r > c) r = c;
      else if (r < -c) r = -c;
      const a = alpha > 1 / n ? alpha : 1 / n;
      state[k + j] = m + a * r;
      state[2 * k + j] = d + a * (Math.abs(r) - d);
    }
    if (scored === 0 || zMax === 0) return 0;
    return maxNormalSurprise(zMax, scored, SURPRISE_HALF_AT);
  }

  explain(state: RobustZScoreState): Readonly<Record<string, number>> {
    const k = this.features.length;
    const out: Record<string, number> = {};
    for (let j = 0; j < k; j++) out[this.features[j]!] = state[3 * k + j]!;
    return out;
  }

  toParams(): JsonValue {
    const k = this.features.length;
    const init = this.initial;
    return {
      halfLife: this.hyper.halfLife,
      clip: this.hyper.clip,
      minObservations: this.hyper.minObservations,
      initial: {
        count: Array.from(init.subarray(0, k)),
        location: Array.from(init.subarray(k, 2 * k)),
        scale: Array.from(init.subarray(2 * k, 3 * k)),
      },
    };
  }

  stateToJSON(state: RobustZScoreState): JsonValue {
    return Array.from(state);
  }

  stateFromJSON(json: JsonValue): RobustZScoreState {
    const k = this.features.length;
    const state = requireNumbers(KIND, '/state', json, 4 * k);
    for (let j = 0; j < k; j++) {
      requireNumber(KIND, `/state/${j}`, state[j], { min: 0, integer: true });
      requireNumber(KIND, `/state/${2 * k + j}`, state[2 * k + j], { min: 0 });
      requireNumber(KIND, `/state/${3 * k + j}`, state[3 * k + j], { min: 0 });
    }
    return state;
  }
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const h = n >> 1;
  return n % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
}

/** The statistical baseline detector (see the algorithm notes above). */
export const robustZScore: DetectorFactory = {
  kind: KIND,
  description: 'per-metric robust EWMA z-score (winsorised location and mean absolute deviation), max over metrics',
  fit(history: readonly Observation[], options: FitOptions = {}): DetectorModel {
    const features = requireFeatures(KIND, options.features ?? metricsOf(history));
    const hyper = readHyper(options.hyperparameters ?? {}, '/hyperparameters');
    const k = features.length;
    const initial = new Float64Array(4 * k);
    const column = new Float64Array(history.length);
    for (let j = 0; j < k; j++) {
      let n = 0;
      const name = features[j]!;
      for (const obs of history) {
        const v = obs.values[name];
        if (typeof v === 'number' && Number.isFinite(v)) column[n++] = v;
      }
      if (n === 0) continue;
      const values = column.subarray(0, n).sort();
      const med = median(values);
      const dev = new Float64Array(n);
      for (let i = 0; i < n; i++) dev[i] = Math.abs(values[i]! - med);
      const mad = median(dev.sort());
      initial[j] = n;
      initial[k + j] = med;
      initial[2 * k + j] = (mad * MEDIAN_AD_TO_SIGMA) / MAD_TO_SIGMA;
    }
    return new RobustZScoreModel(features, hyper, initial);
  },
  fromParams(params: unknown, features: readonly string[]): DetectorModel {
    const names = requireFeatures(KIND, features);
    const raw = requireObject(KIND, '/params', params);
    const hyper = readHyper(raw, '/params');
    const k = names.length;
    const init = requireObject(KIND, '/params/initial', raw.initial);
    rejectUnknownKeys(KIND, '/params/initial', init, ['count', 'location', 'scale']);
    const initial = new Float64Array(4 * k);
    initial.set(requireNumbers(KIND, '/params/initial/count', init.count, k, { min: 0, integer: true }), 0);
    initial.set(requireNumbers(KIND, '/params/initial/location', init.location, k), k);
    initial.set(requireNumbers(KIND, '/params/initial/scale', init.scale, k, { min: 0 }), 2 * k);
    return new RobustZScoreModel(names, hyper, initial);
  },
};

/**
 * Running a fitted detector causally over one series, as in production: one observation at a time,
 * in file order, each scored against what the series has seen before it and then learnt from.
 */
import type { DetectorModel, Observation } from '../types.ts';

/** A multivariate series: timestamps and one value array per metric, all of the same length. */
export interface SeriesColumns {
  readonly timestamps: ArrayLike<number>;
  readonly values: Readonly<Record<string, ArrayLike<number>>>;
}

/** Options of {@link scoreCausally}. */
export interface CausalRunOptions {
  /** First row to score (earlier rows are skipped and get score 0). Default 0. */
  readonly from?: number;
  /**
   * Rows before this one (and from `from` on) are passed to `score`, so the series' state learns
   * them, but are reported as 0 (a warm-up whose scores are not used). Default 0.
   */
  readonly muteBefore?: number;
  /**
   * Maps each row's clamped raw score to the reported one (e.g. a per-series likelihood
   * post-processor); called for every row passed to `score`, muted ones included, in order. Its
   * result is clamped into [0, 1] too. Default: the raw score.
   */
  readonly calibrate?: (score: number, ts: number) => number;
  /** Called every `progressEvery` rows with the rows done so far. */
  readonly onProgress?: (rowsDone: number) => void;
  /** Default 4096. */
  readonly progressEvery?: number;
}

/**
 * Scores every row from `from` on with a fresh state of `model`, one row at a time. A score outside
 * [0, 1] is clamped into it, and NaN becomes 0, so the output is always a valid anomaly score. Rows
 * before `muteBefore` are scored (learnt) but reported as 0; `calibrate` post-processes each score.
 */
export function scoreCausally(model: DetectorModel, series: SeriesColumns, options: CausalRunOptions = {}): Float64Array {
  const n = series.timestamps.length;
  const names = Object.keys(series.values);
  const columns = names.map((name) => series.values[name]!);
  const out = new Float64Array(n);
  const state = model.newState();
  const every = options.progressEvery ?? 4096;
  const mute = options.muteBefore ?? 0;
  const calibrate = options.calibrate;
  for (let i = options.from ?? 0; i < n; i++) {
    const values: Record<string, number> = {};
    for (let c = 0; c < names.length; c++) values[names[c]!] = columns[c]![i]!;
    const obs: Observation = { ts: series.timestamps[i]!, values };
    const raw = clampScore(model.score(state, obs));
    const reported = calibrate === undefined ? raw : clampScore(calibrate(raw, obs.ts));
    out[i] = i < mute ? 0 : reported;
    if (options.onProgress !== undefined && (i + 1) % every === 0) options.onProgress(i + 1);
  }
  options.onProgress?.(n);
  return out;
}

/** `x` clamped into [0, 1]; NaN becomes 0. */
export function clampScore(x: number): number {
  return x > 0 ? (x < 1 ? x : 1) : 0;
}

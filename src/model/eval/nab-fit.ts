/**
 * How the NAB runner fits a detector, and the one post-processor configuration it may apply.
 *
 * Fit modes:
 * - `none`: one model fitted on an empty history, shared by every series; each series is scored from
 *   its first row (NAB's online protocol; purely online detectors learn as they go).
 * - `probation`: per series, a model fitted on that series' own probationary rows (NAB's first
 *   min(⌊0.15·N⌋, 750) rows, SCORING.md §2), which NAB never scores, so the fit sees nothing that is
 *   scored and the run stays causal. The probationary rows are then replayed through `score` on a
 *   fresh state (to prime rolling features and online statistics; outputs discarded) and reported
 *   as 0; the rest is scored one row at a time.
 * - `auto` (the default): `none` when the detector can be fitted on an empty history, `probation`
 *   when that fit throws MODEL_INVALID (a batch-trained detector such as isolation-forest). Resolved
 *   once per run, not per series; the result says which mode ran.
 *
 * Likelihood: with `likelihood`, each series' raw scores pass through its own decider (Numenta's
 * anomaly likelihood, ./../postprocess.ts) with {@link NAB_EVAL_LIKELIHOOD}, and the calibrated
 * likelihood is the reported anomaly score.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { DeciderOptions } from '../postprocess.ts';
import type { DetectorFactory, DetectorModel, FitOptions } from '../types.ts';

/** The fit modes accepted by the NAB runner (see the module comment). */
export const NAB_FIT_MODES = ['auto', 'none', 'probation'] as const;

/** A NAB runner fit mode. */
export type NabFitMode = (typeof NAB_FIT_MODES)[number];

/** A fit mode as it ran (`auto` resolved). */
export type ResolvedNabFitMode = Exclude<NabFitMode, 'auto'>;

/**
 * The single decider configuration used by `--likelihood`, chosen a priori from nupic's
 * `AnomalyLikelihood` defaults as NAB's Numenta detector runs it (not tuned on NAB): a 10-score
 * moving average, a Gaussian over the last 8640 smoothed scores (nupic's historicWindowSize, 30
 * days of 5-minute rows) with nupic's mean and variance floors, reported on the log scale
 * log(tail + 1e-10)/log(1e-10). No warm-up: the likelihood is reported from the first row (NAB does
 * not score the probationary period, which covers at least the first 150 rows of every file).
 */
export const NAB_EVAL_LIKELIHOOD: DeciderOptions = Object.freeze({
  calibration: 'likelihood',
  scale: 'log',
  window: 8640,
  shortWindow: 10,
  minMean: 0.03,
  minVariance: 0.0003,
  warmup: 0,
});

/** True when `mode` is one of {@link NAB_FIT_MODES}. */
export function isNabFitMode(mode: unknown): mode is NabFitMode {
  return typeof mode === 'string' && (NAB_FIT_MODES as readonly string[]).includes(mode);
}

/**
 * Resolves `mode` for `factory`: for `none` and `auto` it fits on an empty history and returns the
 * shared model; `auto` falls back to `probation` when that fit throws MODEL_INVALID (other errors
 * propagate). For `probation` no model is returned (each series fits its own).
 */
export function resolveNabFit(factory: DetectorFactory, mode: NabFitMode, fitOptions: FitOptions): { mode: ResolvedNabFitMode; shared: DetectorModel | null } {
  if (!isNabFitMode(mode)) {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `fit mode must be one of ${NAB_FIT_MODES.join(', ')}, got ${JSON.stringify(mode)}`, { details: { mode } });
  }
  if (mode === 'probation') return { mode, shared: null };
  try {
    return { mode: 'none', shared: factory.fit([], fitOptions) };
  } catch (error) {
    if (mode === 'auto' && error instanceof SluiceError && error.code === ErrorCode.MODEL_INVALID) return { mode: 'probation', shared: null };
    throw error;
  }
}

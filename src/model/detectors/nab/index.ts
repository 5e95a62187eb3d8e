/**
 * `sluice-nab`: the detector aimed at the top of the NAB scoreboard (issue 3, detector 4). See
 * docs/nab-detector.md for the design, the measurements and the experiment log.
 */
import { ErrorCode, SluiceError } from '../../../errors.ts';
import type { DetectorFactory, DetectorModel, FitOptions, Observation } from '../../types.ts';
import { NAB_KIND, NabModel } from './detector.ts';
import { DEFAULT_NAB_PARAMS, parseNabParams } from './params.ts';

export { NAB_KIND, NabModel, type NabState } from './detector.ts';
export { DEFAULT_NAB_PARAMS, parseNabParams, type NabParams } from './params.ts';

function featuresOf(history: readonly Observation[], options: FitOptions | undefined): string[] {
  if (options?.features !== undefined) return [...options.features];
  const names = new Set<string>();
  for (const o of history) for (const k of Object.keys(o.values)) names.add(k);
  return [...names].sort();
}

/**
 * Factory of `sluice-nab` models. The detector is purely online: `fit` only fixes the features
 * (options.features, else every metric seen in the history) and validates the hyperparameters;
 * each series learns from its own stream, starting with a `warmup` learning period.
 */
export const nabDetectorFactory: DetectorFactory = {
  kind: NAB_KIND,
  description: 'NAB-oriented online detector: context (ensemble, multi-scale) + residual + novelty + seasonal views, anomaly likelihood, refractory alarms',
  calibrated: { alarm: DEFAULT_NAB_PARAMS.alarm },
  fit(history: readonly Observation[], options?: FitOptions): DetectorModel {
    const features = featuresOf(history, options);
    if (features.length === 0) {
      throw new SluiceError(ErrorCode.MODEL_INVALID, 'fit: no features (pass options.features or a history with metrics)', { details: { path: 'features' } });
    }
    return new NabModel(parseNabParams(options?.hyperparameters, 'hyperparameters'), features);
  },
  fromParams(params: unknown, features: readonly string[]): DetectorModel {
    if (features.length === 0) throw new SluiceError(ErrorCode.MODEL_INVALID, 'features must not be empty', { details: { path: 'features' } });
    return new NabModel(parseNabParams(params ?? {}, 'params'), features);
  },
};

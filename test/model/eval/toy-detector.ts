/**
 * A tiny detector for the evaluation tests (the real ones live in src/model/detectors): per metric,
 * the online |z-score| of the value against the mean and variance seen so far (Welford), mapped to
 * [0, 1] by |z|/(|z| + 3) and maxed over metrics. NaN and ±Infinity are ignored (score 0, no
 * update). `fit` records the history's length so tests can check what it was given.
 */
import type { DetectorFactory, DetectorModel, FitOptions, JsonValue, Observation } from '../../../src/model/types.ts';

interface ZState {
  n: number[];
  mean: number[];
  m2: number[];
}

/** The toy |z| detector's factory; `lastHistory` holds the length of the last fit's history. */
export const toyFactory: DetectorFactory & { lastHistory: number; lastFeatures: readonly string[] } = {
  kind: 'toy-z',
  description: 'online |z-score| (tests only)',
  lastHistory: -1,
  lastFeatures: [],
  fit(history: readonly Observation[], options?: FitOptions): DetectorModel {
    toyFactory.lastHistory = history.length;
    const features = options?.features ?? [...new Set(history.flatMap((o) => Object.keys(o.values)))].sort();
    toyFactory.lastFeatures = features;
    return toyModel(features);
  },
  fromParams(_params: unknown, features: readonly string[]): DetectorModel {
    return toyModel(features);
  },
};

function toyModel(features: readonly string[]): DetectorModel<ZState> {
  return {
    kind: 'toy-z',
    features,
    newState: () => ({ n: features.map(() => 0), mean: features.map(() => 0), m2: features.map(() => 0) }),
    score(state, obs) {
      let best = 0;
      features.forEach((f, k) => {
        const x = obs.values[f];
        if (x === undefined || !Number.isFinite(x)) return;
        const n = state.n[k]!;
        if (n >= 2) {
          const sd = Math.sqrt(state.m2[k]! / (n - 1));
          const z = sd > 0 ? Math.abs(x - state.mean[k]!) / sd : 0;
          best = Math.max(best, z / (z + 3));
        }
        const delta = x - state.mean[k]!;
        state.n[k] = n + 1;
        state.mean[k] = state.mean[k]! + delta / (n + 1);
        state.m2[k] = state.m2[k]! + delta * (x - state.mean[k]!);
      });
      return best;
    },
    explain: () => ({}),
    toParams: () => null,
    stateToJSON: (s) => ({ n: s.n, mean: s.mean, m2: s.m2 }) as JsonValue,
    stateFromJSON: (j) => j as unknown as ZState,
  };
}

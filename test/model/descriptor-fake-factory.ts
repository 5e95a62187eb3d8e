/**
 * A tiny detector for the descriptor, store and registry tests (the real detectors are tested
 * through the same paths in descriptor.test.ts): score = min(1, scale·|x − running mean|) on the
 * first feature, state = count and mean. `fromParams` accepts only `{ scale: number > 0 }`.
 */
import { ErrorCode, SluiceError } from '../../src/errors.ts';
import type { DetectorFactory, DetectorModel, JsonValue, Observation } from '../../src/model/types.ts';

interface FakeState {
  n: number;
  mean: number;
}

/** The fake's kind. */
export const FAKE_KIND = 'fake-mean';

function model(scale: number, features: readonly string[]): DetectorModel<FakeState> {
  return {
    kind: FAKE_KIND,
    features,
    newState: () => ({ n: 0, mean: 0 }),
    score(state: FakeState, obs: Observation): number {
      const x = obs.values[features[0]!];
      if (x === undefined || !Number.isFinite(x)) return 0;
      const s = state.n === 0 ? 0 : Math.min(1, scale * Math.abs(x - state.mean));
      state.n++;
      state.mean += (x - state.mean) / state.n;
      return s;
    },
    explain: () => ({ [features[0]!]: 1 }),
    toParams: (): JsonValue => ({ scale }),
    stateToJSON: (s: FakeState): JsonValue => ({ n: s.n, mean: s.mean }),
    stateFromJSON: (json: JsonValue): FakeState => ({ ...(json as { n: number; mean: number }) }),
  };
}

/** The fake factory. */
export const fakeFactory: DetectorFactory = {
  kind: FAKE_KIND,
  description: 'test fake: distance from the running mean',
  fit: (_history, options) => model(Number(options?.hyperparameters?.['scale'] ?? 0.5), options?.features ?? ['x']),
  fromParams(params: unknown, features: readonly string[]): DetectorModel {
    const scale = (params as { scale?: unknown } | null)?.scale;
    if (typeof scale !== 'number' || !(scale > 0)) {
      throw new SluiceError(ErrorCode.MODEL_INVALID, `/params/scale must be a number > 0, got ${JSON.stringify(scale)}`);
    }
    if (features.length === 0) throw new SluiceError(ErrorCode.MODEL_INVALID, 'features must not be empty');
    return model(scale, features);
  },
};

/** A fake `onnx` factory: records what it was given; returns a fake model over the features. */
export function fakeOnnxFactory(options: { readonly async?: boolean } = {}): DetectorFactory & { received: unknown[] } {
  const received: unknown[] = [];
  return {
    kind: 'onnx',
    description: 'test fake onnx',
    received,
    fit: () => {
      throw new Error('not fitted here');
    },
    fromParams(params: unknown, features: readonly string[]): DetectorModel {
      received.push(params);
      const m = { ...model(1, features), kind: 'onnx' };
      return (options.async === true ? Promise.resolve(m) : m) as DetectorModel;
    },
  };
}

/** A deterministic sequence of observations of `x` (and `y`) with a spike. */
export function series(n: number, start = 1_700_000_000_000): Observation[] {
  const out: Observation[] = [];
  for (let i = 0; i < n; i++) {
    const base = Math.sin(i / 7) + 0.1 * Math.cos(i * 1.3);
    out.push({ ts: start + i * 60_000, values: { x: i === Math.floor(n * 0.8) ? base + 8 : base, y: Math.cos(i / 11) * 3 } });
  }
  return out;
}

/**
 * An ONNX model as a streaming {@link DetectorModel}: one synchronous inference per observation.
 *
 * The model runs in a worker thread (see session.ts); `score` writes the row into shared memory and
 * blocks in `Atomics.wait` until the worker answers (≈ 0.15 ms per call on the development machine,
 * most of it onnxruntime's per-run overhead), throwing a retriable MODEL_ONNX error after `timeoutMs`.
 * For throughput, score many rows at once through `model.scorer.scoreBatch` (async, event loop free).
 * The worker is `unref`'d; call `close()` when the model is retired.
 *
 * Missing or non-finite metrics: the series' last finite value of that metric is carried forward;
 * before the series has one, the feature's `fallback` (params; default 0) is used. The model never
 * sees NaN, and `score` never returns NaN (a non-finite model output scores 0).
 *
 * State per series: the last finite value and an exponentially weighted mean of each feature
 * (2 · features numbers plus a count), bounded. The mean is the reference of `explain`, which
 * attributes the score by occlusion: feature i's weight is max(0, s(x) − s(x with x_i := mean_i)),
 * i.e. how much the score falls when that metric looks like its usual self.
 */

import type { DetectorModel, JsonValue, Observation } from '../types.ts';
import { ErrorCode, SluiceError } from '../../errors.ts';
import { mapScore } from './mapping.ts';
import { onnxParamsToJSON } from './params.ts';
import type { OnnxParams } from './params.ts';
import { OnnxScorer } from './scorer.ts';

/** Detector kind of ONNX-backed models. */
export const ONNX_KIND = 'onnx';

/** Weight of the newest value in the per-series mean, once the series has 1/alpha values. */
const MEAN_ALPHA = 0.01;
/** Cap of the per-series count (only the mean's warm-up uses it). */
const COUNT_CAP = 1 / MEAN_ALPHA;

/** Online state of one series for an ONNX model. */
export interface OnnxState {
  /** Last finite value per feature (NaN: none yet). */
  readonly last: number[];
  /** Running mean per feature (NaN: none yet). */
  readonly mean: number[];
  /** Observations seen, capped at 1/alpha. */
  count: number;
}

/** An ONNX model scoring one series at a time. */
export class OnnxDetectorModel implements DetectorModel<OnnxState> {
  readonly kind = ONNX_KIND;
  readonly features: readonly string[];
  /** Batch and raw access to the same loaded model. */
  readonly scorer: OnnxScorer;
  readonly #params: OnnxParams;

  constructor(scorer: OnnxScorer, params: OnnxParams) {
    this.scorer = scorer;
    this.features = scorer.features;
    this.#params = params;
  }

  /** Loads `params.model` synchronously (blocks until the worker has parsed it). */
  static load(params: OnnxParams, features: readonly string[]): OnnxDetectorModel {
    return new OnnxDetectorModel(OnnxScorer.openSync(params, features, { syncRows: Math.max(64, features.length + 1) }), params);
  }

  /** Fresh state: nothing seen. */
  newState(): OnnxState {
    return { last: this.features.map(() => NaN), mean: this.features.map(() => NaN), count: 0 };
  }

  /** Scores `obs` (one synchronous inference), then learns its values. */
  score(state: OnnxState, obs: Observation): number {
    const row = this.#row(state, obs);
    const score = mapScore(this.#params.mapping, this.scorer.session.runSync(row, 1)[0] as number);
    this.#learn(state, obs);
    return score;
  }

  /** The raw model output for `obs` (same imputation as `score`), without learning. */
  raw(state: OnnxState, obs: Observation): number {
    return this.scorer.session.runSync(this.#row(state, obs), 1)[0] as number;
  }

  /** Occlusion weights against the series' mean (one inference of features + 1 rows). */
  explain(state: OnnxState, obs: Observation): Readonly<Record<string, number>> {
    const width = this.features.length;
    const row = this.#row(state, obs);
    const rows = new Float32Array((width + 1) * width);
    for (let k = 0; k <= width; k++) rows.set(row, k * width);
    for (let i = 0; i < width; i++) {
      const m = state.mean[i] as number;
      rows[(i + 1) * width + i] = Number.isFinite(m) ? m : (this.#params.fallback[i] as number);
    }
    const raw = this.scorer.session.runSync(rows, width + 1);
    const mapping = this.#params.mapping;
    const full = mapScore(mapping, raw[0] as number);
    const weights: Record<string, number> = {};
    this.features.forEach((name, i) => {
      weights[name] = Math.max(0, full - mapScore(mapping, raw[i + 1] as number));
    });
    return weights;
  }

  /** Parameters as JSON (model bytes in base64). */
  toParams(): JsonValue {
    return onnxParamsToJSON(this.#params);
  }

  /** State as JSON (NaN written as null). */
  stateToJSON(state: OnnxState): JsonValue {
    const nums = (xs: readonly number[]): JsonValue => xs.map((x) => (Number.isFinite(x) ? x : null));
    return { last: nums(state.last), mean: nums(state.mean), count: state.count };
  }

  /** Rebuilds state; throws MODEL_INVALID on malformed input. */
  stateFromJSON(json: JsonValue): OnnxState {
    const v = json as Record<string, JsonValue> | null;
    const width = this.features.length;
    const nums = (key: string): number[] => {
      const xs = v?.[key];
      if (!Array.isArray(xs) || xs.length !== width || !xs.every((x) => x === null || (typeof x === 'number' && Number.isFinite(x)))) {
        throw new SluiceError(ErrorCode.MODEL_INVALID, `/state/${key} must be ${width} finite numbers or nulls`);
      }
      return xs.map((x) => (x === null ? NaN : (x as number)));
    };
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SluiceError(ErrorCode.MODEL_INVALID, '/state must be an object');
    const count = v['count'];
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > COUNT_CAP) {
      throw new SluiceError(ErrorCode.MODEL_INVALID, `/state/count must be an integer in 0..${COUNT_CAP}`);
    }
    return { last: nums('last'), mean: nums('mean'), count };
  }

  /** Stops the model's worker. */
  close(): Promise<void> {
    return this.scorer.close();
  }

  #row(state: OnnxState, obs: Observation): number[] {
    return this.features.map((name, i) => {
      const v = obs.values[name];
      if (v !== undefined && Number.isFinite(v)) return v;
      const last = state.last[i] as number;
      return Number.isFinite(last) ? last : (this.#params.fallback[i] as number);
    });
  }

  #learn(state: OnnxState, obs: Observation): void {
    const alpha = Math.max(MEAN_ALPHA, 1 / (state.count + 1));
    this.features.forEach((name, i) => {
      const v = obs.values[name];
      if (v === undefined || !Number.isFinite(v)) return;
      state.last[i] = v;
      const m = state.mean[i] as number;
      state.mean[i] = Number.isFinite(m) ? m + alpha * (v - m) : v;
    });
    if (state.count < COUNT_CAP) state.count++;
  }
}

/**
 * Maps an ONNX model's raw per-row output to Sluice's anomaly score in [0, 1].
 *
 * A model trained elsewhere emits whatever its library calls a score, in that library's units and
 * direction. A mapping is a monotone function chosen per model:
 *
 * - `linear`: clamp(scale · raw + offset, 0, 1). The default, `{ scale: -1, offset: 0.5 }`, fits
 *   skl2onnx's outlier detectors, whose `scores` output is scikit-learn's `decision_function`
 *   (negative = outlier). For an IsolationForest with `contamination='auto'` (`offset_ = -0.5`) it
 *   gives exactly −score_samples, i.e. the anomaly score of Liu, Ting & Zhou, "Isolation Forest"
 *   (ICDM 2008), s(x, ψ) = 2^(−E[h(x)] / c(ψ)), which already lies in (0, 1]. With another
 *   contamination use `offset: -offset_`.
 * - `logistic`: 1 / (1 + exp(−scale · (raw − center))), a monotone squashing for unbounded outputs
 *   (a reconstruction error, a one-class SVM's margin). A negative `scale` flips the direction.
 *
 * A non-finite raw output (the model's own NaN) maps to 0: no evidence of an anomaly.
 */

import type { JsonValue } from '../types.ts';
import { ErrorCode, SluiceError } from '../../errors.ts';

/** Kinds of score mapping, as a const object. */
export const ScoreMappingKind = { LINEAR: 'linear', LOGISTIC: 'logistic' } as const;

/** clamp(scale · raw + offset, 0, 1). */
export interface LinearMapping {
  readonly kind: typeof ScoreMappingKind.LINEAR;
  readonly scale: number;
  readonly offset: number;
}

/** 1 / (1 + exp(−scale · (raw − center))). */
export interface LogisticMapping {
  readonly kind: typeof ScoreMappingKind.LOGISTIC;
  readonly scale: number;
  readonly center: number;
}

/** How a raw model output becomes a score in [0, 1]. */
export type ScoreMapping = LinearMapping | LogisticMapping;

/** Default mapping: skl2onnx outlier detectors' `decision_function` → IsolationForest paper score. */
export const DEFAULT_SCORE_MAPPING: ScoreMapping = { kind: ScoreMappingKind.LINEAR, scale: -1, offset: 0.5 };

/** Applies `mapping` to one raw output; the result is in [0, 1], never NaN. */
export function mapScore(mapping: ScoreMapping, raw: number): number {
  if (!Number.isFinite(raw)) return 0;
  let s: number;
  if (mapping.kind === ScoreMappingKind.LINEAR) {
    s = mapping.scale * raw + mapping.offset;
  } else {
    s = 1 / (1 + Math.exp(-mapping.scale * (raw - mapping.center)));
  }
  if (!(s > 0)) return 0; // also catches NaN from ±Infinity · 0
  return s < 1 ? s : 1;
}

/** Maps a whole column of raw outputs into a new array. */
export function mapScores(mapping: ScoreMapping, raw: Float32Array): Float32Array {
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = mapScore(mapping, raw[i] as number);
  return out;
}

/** Validates a mapping from JSON; throws MODEL_INVALID naming `path` and the reason. */
export function parseScoreMapping(value: unknown, path: string): ScoreMapping {
  if (value === undefined) return DEFAULT_SCORE_MAPPING;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${path} must be an object`);
  }
  const v = value as Record<string, unknown>;
  const num = (key: string): number => {
    const x = v[key];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw invalid(`${path}/${key} must be a finite number`);
    return x;
  };
  if (v['kind'] === ScoreMappingKind.LINEAR) {
    return { kind: ScoreMappingKind.LINEAR, scale: num('scale'), offset: num('offset') };
  }
  if (v['kind'] === ScoreMappingKind.LOGISTIC) {
    return { kind: ScoreMappingKind.LOGISTIC, scale: num('scale'), center: num('center') };
  }
  throw invalid(`${path}/kind must be 'linear' or 'logistic'`);
}

/** The mapping as JSON. */
export function scoreMappingToJSON(mapping: ScoreMapping): JsonValue {
  return { ...mapping };
}

function invalid(message: string): SluiceError {
  return new SluiceError(ErrorCode.MODEL_INVALID, message);
}

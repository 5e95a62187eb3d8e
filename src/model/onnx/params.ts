/**
 * Parameters of an ONNX-backed detector, as held in a descriptor: the model bytes (the `onnx`
 * format's payload) plus how to read and map its output. Bare bytes mean "all defaults".
 */

import type { JsonValue } from '../types.ts';
import { ErrorCode, SluiceError } from '../../errors.ts';
import { parseScoreMapping, scoreMappingToJSON } from './mapping.ts';
import type { ScoreMapping } from './mapping.ts';

/** Validated parameters of an ONNX detector. */
export interface OnnxParams {
  /** The serialised ONNX model. */
  readonly model: Uint8Array;
  /** Output to score; null: `scores` if the model has it, else its first output. */
  readonly output: string | null;
  /** Raw output → [0, 1]. */
  readonly mapping: ScoreMapping;
  /** Per-feature value used when a metric is missing or non-finite and the series has no last value. */
  readonly fallback: readonly number[];
  /** onnxruntime threads in the worker. */
  readonly threads: number;
  /** Longest a synchronous score waits, ms. */
  readonly timeoutMs: number;
}

/** Defaults of {@link OnnxParams}' optional fields. */
export const ONNX_PARAM_DEFAULTS = { threads: 1, timeoutMs: 10_000 } as const;

/**
 * Reads parameters: either the model bytes alone, or an object `{ model, output?, mapping?,
 * fallback?, threads?, timeoutMs? }` whose `model` is bytes or base64 (as {@link onnxParamsToJSON}
 * writes). Throws MODEL_INVALID naming the field.
 */
export function parseOnnxParams(params: unknown, features: readonly string[]): OnnxParams {
  if (features.length === 0) throw invalid('/features must name at least one metric');
  const v: Record<string, unknown> = params instanceof Uint8Array ? { model: params } : asObject(params);
  const model = parseModel(v['model']);
  const fallback = v['fallback'] === undefined ? features.map(() => 0) : parseFallback(v['fallback'], features.length);
  const output = v['output'];
  if (output !== undefined && output !== null && (typeof output !== 'string' || output === '')) {
    throw invalid('/params/output must be a non-empty string');
  }
  return {
    model,
    output: typeof output === 'string' ? output : null,
    mapping: parseScoreMapping(v['mapping'], '/params/mapping'),
    fallback,
    threads: positiveInt(v['threads'], 'threads', ONNX_PARAM_DEFAULTS.threads),
    timeoutMs: positiveInt(v['timeoutMs'], 'timeoutMs', ONNX_PARAM_DEFAULTS.timeoutMs),
  };
}

/** The parameters as JSON, model bytes in base64. */
export function onnxParamsToJSON(p: OnnxParams): JsonValue {
  const json: Record<string, JsonValue> = {
    model: Buffer.from(p.model.buffer, p.model.byteOffset, p.model.byteLength).toString('base64'),
    mapping: scoreMappingToJSON(p.mapping),
    fallback: [...p.fallback],
    threads: p.threads,
    timeoutMs: p.timeoutMs,
  };
  if (p.output !== null) json['output'] = p.output;
  return json;
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('/params must be the model bytes or an object with a model field');
  }
  return value as Record<string, unknown>;
}

function parseModel(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.byteLength === 0) throw invalid('/params/model is empty');
    return value;
  }
  if (typeof value === 'string' && value.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    return new Uint8Array(Buffer.from(value, 'base64'));
  }
  throw invalid('/params/model must be the ONNX model bytes or their base64');
}

function parseFallback(value: unknown, width: number): number[] {
  if (!Array.isArray(value) || value.length !== width || !value.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw invalid(`/params/fallback must be ${width} finite numbers, one per feature`);
  }
  return value as number[];
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalid(`/params/${name} must be an integer ≥ 1`);
  return value;
}

function invalid(message: string): SluiceError {
  return new SluiceError(ErrorCode.MODEL_INVALID, message);
}

/**
 * Batch scoring of an ONNX model: named features in, anomaly scores in [0, 1] (and raw outputs) out,
 * with inference in a worker thread so the caller's event loop stays free.
 *
 * Rows: feature i of a row feeds column i of the model's single 2-D input tensor, in the order of
 * `features`. A missing or non-finite value is replaced by the feature's `fallback` (batch scoring
 * is stateless; the per-series {@link OnnxDetectorModel} carries the series' last value forward
 * first). The model never sees NaN.
 */

import type { Observation } from '../types.ts';
import { ErrorCode, SluiceError } from '../../errors.ts';
import { mapScore, mapScores } from './mapping.ts';
import type { ScoreMapping } from './mapping.ts';
import type { OnnxParams } from './params.ts';
import { OnnxSession } from './session.ts';
import type { OnnxSessionOptions } from './session.ts';

/** Rows to score: a row-major Float32Array (`features.length` values per row) or arrays of numbers. */
export type OnnxRows = Float32Array | readonly (readonly number[])[];

/** Scores rows with an ONNX model loaded in a worker. */
export class OnnxScorer {
  readonly features: readonly string[];
  readonly mapping: ScoreMapping;
  readonly fallback: readonly number[];
  /** The underlying session (raw outputs, synchronous calls). */
  readonly session: OnnxSession;

  private constructor(session: OnnxSession, params: OnnxParams, features: readonly string[]) {
    this.session = session;
    this.features = [...features];
    this.mapping = params.mapping;
    this.fallback = params.fallback;
  }

  /** Loads the model without blocking the event loop. */
  static async open(params: OnnxParams, features: readonly string[], options: Partial<OnnxSessionOptions> = {}): Promise<OnnxScorer> {
    const session = await OnnxSession.open(params.model, sessionOptions(params, features, options));
    return new OnnxScorer(session, params, features);
  }

  /** Loads the model, blocking until the worker has parsed it (about 0.1–0.3 s). */
  static openSync(params: OnnxParams, features: readonly string[], options: Partial<OnnxSessionOptions> = {}): OnnxScorer {
    const session = OnnxSession.openSync(params.model, sessionOptions(params, features, options));
    return new OnnxScorer(session, params, features);
  }

  /** Anomaly scores in [0, 1], one per row, computed in the worker. */
  async scoreBatch(rows: OnnxRows): Promise<Float32Array> {
    return mapScores(this.mapping, await this.rawBatch(rows));
  }

  /** The model's raw outputs, one per row. */
  async rawBatch(rows: OnnxRows): Promise<Float32Array> {
    const flat = this.#flatten(rows);
    return this.session.run(flat, flat.length / this.features.length);
  }

  /** Raw outputs for observations (missing or non-finite metrics → fallback). */
  async rawObservations(observations: readonly Observation[]): Promise<Float32Array> {
    const width = this.features.length;
    const flat = new Float32Array(observations.length * width);
    observations.forEach((obs, r) => {
      for (let i = 0; i < width; i++) {
        const v = obs.values[this.features[i] as string];
        flat[r * width + i] = v !== undefined && Number.isFinite(v) ? v : (this.fallback[i] as number);
      }
    });
    return this.session.run(flat, observations.length);
  }

  /** Scores one row synchronously (blocks until the worker answers). */
  scoreSync(row: readonly number[]): number {
    return mapScore(this.mapping, this.rawSync(row));
  }

  /** The raw output for one row, synchronously. */
  rawSync(row: readonly number[]): number {
    return this.session.runSync(this.#clean(row), 1)[0] as number;
  }

  /** Stops the worker. */
  close(): Promise<void> {
    return this.session.close();
  }

  #flatten(rows: OnnxRows): Float32Array {
    const width = this.features.length;
    if (rows instanceof Float32Array) {
      if (rows.length % width !== 0) throw mismatch(`a row-major batch must hold a multiple of ${width} values, got ${rows.length}`);
      const flat = Float32Array.from(rows);
      for (let k = 0; k < flat.length; k++) if (!Number.isFinite(flat[k])) flat[k] = this.fallback[k % width] as number;
      return flat;
    }
    const flat = new Float32Array(rows.length * width);
    rows.forEach((row, r) => flat.set(this.#clean(row, r), r * width));
    return flat;
  }

  #clean(row: readonly number[], index = 0): number[] {
    if (row.length !== this.features.length) {
      throw mismatch(`row ${index} has ${row.length} values but the model reads ${this.features.length} features (${this.features.join(', ')})`);
    }
    return row.map((v, i) => (Number.isFinite(v) ? v : (this.fallback[i] as number)));
  }
}

function sessionOptions(params: OnnxParams, features: readonly string[], options: Partial<OnnxSessionOptions>): OnnxSessionOptions {
  const base: OnnxSessionOptions = { threads: params.threads, timeoutMs: params.timeoutMs, ...options, width: features.length };
  return params.output === null ? base : { ...base, output: params.output };
}

function mismatch(message: string): SluiceError {
  return new SluiceError(ErrorCode.MODEL_FEATURE_MISMATCH, message);
}

/**
 * The `sluice-nab` model: per-metric pipelines (feature.ts) combined into one score per record, with
 * a learning period and a refractory period after each alarm.
 *
 * Combination: the record's p-value is the smallest metric p-value times the number of metrics that
 * had a finite value (Bonferroni), and the output is −log10(p) / −log10(pFloor), clipped to [0, 1].
 * Refractory: once the output reaches `alarm`, the next `refractory` records are multiplied by `damp`.
 * NAB (Lavin & Ahmad 2015) rewards only the earliest detection in a window and charges every
 * detection outside windows, and an operator wants one alarm per incident, not one per record.
 *
 * Missing input: a metric that is absent, NaN or ±Infinity is skipped for that record (its state does
 * not change). A record with no finite metric scores 0 and only advances the refractory counter.
 */
import { ErrorCode, SluiceError } from '../../../errors.ts';
import type { DetectorModel, JsonValue, Observation } from '../../types.ts';
import { newFeature, updateFeature, type FeatureState } from './feature.ts';
import type { NabParams } from './params.ts';
import { validateState } from './state-json.ts';

/** Detector kind. */
export const NAB_KIND = 'sluice-nab';

/** Online state of one series. */
export interface NabState {
  /** Records seen. */
  n: number;
  /** Records left in the refractory period. */
  cool: number;
  /** Per-metric p-values of the last record (1 where missing), for explain(). */
  last: number[];
  feats: FeatureState[];
}

/** A fitted (parameterised) `sluice-nab` model. */
export class NabModel implements DetectorModel<NabState> {
  readonly kind = NAB_KIND;
  readonly features: readonly string[];
  readonly params: NabParams;
  readonly #logFloor: number;

  constructor(params: NabParams, features: readonly string[]) {
    this.params = params;
    this.features = [...features];
    this.#logFloor = -Math.log10(params.pFloor);
  }

  /** @inheritdoc */
  newState(): NabState {
    return { n: 0, cool: 0, last: this.features.map(() => 1), feats: this.features.map(() => newFeature(this.params)) };
  }

  /** @inheritdoc */
  score(state: NabState, obs: Observation): number {
    const p = this.params;
    let pMin = 1;
    let finite = 0;
    for (let i = 0; i < this.features.length; i++) {
      const x = obs.values[this.features[i]!];
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        state.last[i] = 1;
        continue;
      }
      finite++;
      const pf = updateFeature(state.feats[i]!, p, x, obs.ts);
      state.last[i] = pf;
      if (pf < pMin) pMin = pf;
    }
    state.n++;
    let out = 0;
    if (finite > 0 && state.n > p.warmup) {
      const pv = Math.max(Math.min(1, pMin * finite), 1e-300);
      const o = -Math.log10(pv) / this.#logFloor;
      out = o > 0 ? Math.min(1, o) : 0; // also maps a NaN, should one ever arise, to 0
    }
    if (state.cool > 0) {
      state.cool--;
      return out * p.damp;
    }
    if (out >= p.alarm) state.cool = p.refractory;
    return out;
  }

  /** @inheritdoc */
  explain(state: NabState): Readonly<Record<string, number>> {
    const out: Record<string, number> = {};
    this.features.forEach((f, i) => {
      out[f] = Math.max(0, -Math.log10(Math.max(state.last[i] ?? 1, 1e-300)));
    });
    return out;
  }

  /** @inheritdoc */
  toParams(): JsonValue {
    return { ...this.params };
  }

  /** @inheritdoc */
  stateToJSON(state: NabState): JsonValue {
    return structuredClone(state) as unknown as JsonValue;
  }

  /** @inheritdoc */
  stateFromJSON(json: JsonValue): NabState {
    try {
      return validateState(structuredClone(json), this.params, this.features.length);
    } catch (err) {
      if (err instanceof SluiceError) throw err;
      throw new SluiceError(ErrorCode.MODEL_INVALID, `state: ${(err as Error).message}`, { cause: err });
    }
  }
}

/**
 * The model layer's contracts: observations, detectors (fit in batch, score in the stream),
 * per-series online state, and the post-processor that turns scores into decisions.
 *
 * A fitted {@link DetectorModel} is immutable and shared by every series it scores (one device, or
 * every device of a class); what a series has learnt online lives in its own state object, created by
 * `newState()` and updated by `score()`. Both serialise to JSON: the model into a descriptor's
 * `native` payload, the state into a state store (so a restarted or moved serving task resumes).
 */

/** JSON-serialisable value. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * One observation of one series: named metric values at an event time. A metric may be missing,
 * NaN or ±Infinity: detectors never throw or return NaN for that (each documents what it does).
 */
export interface Observation {
  /** Event time, ms since the epoch. */
  readonly ts: number;
  readonly values: Readonly<Record<string, number>>;
}

/** A fitted detector: immutable parameters plus the rules to score one series online. */
export interface DetectorModel<State = unknown> {
  /** Detector type, e.g. `robust-zscore`; matches the descriptor's `kind`. */
  readonly kind: string;
  /** Metric names the model reads, in a fixed order. */
  readonly features: readonly string[];
  /** Fresh online state for one series; its size is bounded (see each detector's doc). */
  newState(): State;
  /**
   * Scores `obs` against what the series has seen so far, then learns from it (mutating `state`).
   * Returns a raw anomaly score in [0, 1], never NaN. Amortised O(1) per call.
   */
  score(state: State, obs: Observation): number;
  /**
   * How much each feature contributed to the last score of this series (non-negative weights),
   * for the anomalies topic. Called only for records that are reported, so it may be slower.
   */
  explain(state: State, obs: Observation): Readonly<Record<string, number>>;
  /** The model's parameters as JSON (the descriptor's native payload). */
  toParams(): JsonValue;
  /** A series' state as JSON. */
  stateToJSON(state: State): JsonValue;
  /** Rebuilds a series' state; throws MODEL_INVALID on malformed input. */
  stateFromJSON(json: JsonValue): State;
}

/** Options common to every detector's batch fit. */
export interface FitOptions {
  /** Metrics to use; default: every metric seen in the history, sorted. */
  readonly features?: readonly string[];
  /** Seed for detectors with randomness, so fits are reproducible. Default 1. */
  readonly seed?: number;
  /** Detector-specific hyperparameters, validated by the detector. */
  readonly hyperparameters?: Readonly<Record<string, JsonValue>>;
}

/** Builds models of one kind: by fitting on history, or from a descriptor's parameters. */
export interface DetectorFactory {
  readonly kind: string;
  /** One-line description for `--help` and reports. */
  readonly description: string;
  /**
   * Set when the scores are already calibrated anomaly likelihoods: `alarm` is the score at which
   * the detector itself raises an alarm, so decisions threshold the score directly instead of
   * calibrating it a second time.
   */
  readonly calibrated?: { readonly alarm: number };
  /** Fits a model on history (may be empty: purely online detectors then learn as they go). */
  fit(history: readonly Observation[], options?: FitOptions): DetectorModel;
  /** Rebuilds a model from its parameters; throws MODEL_INVALID naming the bad field. */
  fromParams(params: unknown, features: readonly string[]): DetectorModel;
}

/** A decision about one scored observation. */
export interface Decision {
  /** Calibrated anomaly likelihood in [0, 1]. */
  readonly likelihood: number;
  /** True when this observation raises (or continues, per the policy) an alarm. */
  readonly anomaly: boolean;
}

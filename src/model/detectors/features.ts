/**
 * Windowed features of a multivariate series, maintained online in bounded per-series state, so that
 * a model trained offline on these features (the Isolation Forest) is served on the same features in
 * the stream.
 *
 * For each metric, 4 features, in this order: the value, its difference from the previous value, and
 * the mean and the (population) standard deviation of the last `window` values (fewer while the window
 * fills). Mean and standard deviation are recomputed from the ring buffer each time (O(window), no
 * running sums, so no floating-point drift and a restored state gives identical features).
 *
 * Unknown values (missing, NaN, ±Infinity) do not enter the window: the metric's features are then its
 * last known value, a difference of 0, and the window's mean and deviation; a metric never seen yet
 * reads `fallback` (the training centre) with zero difference and deviation.
 *
 * State layout, one Float64Array, per metric a block of (window + 3) doubles:
 * [filled, head (next write slot), stale (1 when the last observation had no value), ring × window].
 */
import type { Observation } from '../types.ts';

/** Number of features per metric. */
export const FEATURES_PER_METRIC = 4;
/** Names of the per-metric features, in order. */
export const FEATURE_SUFFIXES = ['value', 'diff', 'mean', 'std'] as const;

/** Fixed shape of the windowed features of `metrics` with a ring of `window` values per metric. */
export class WindowFeatures {
  readonly metrics: readonly string[];
  readonly window: number;
  /** Length of the feature vector: 4 × metrics. */
  readonly width: number;
  /** Length of one series' state. */
  readonly stateLength: number;

  constructor(metrics: readonly string[], window: number) {
    this.metrics = metrics;
    this.window = window;
    this.width = metrics.length * FEATURES_PER_METRIC;
    this.stateLength = metrics.length * (window + 3);
  }

  /** A fresh, empty window state. */
  newState(): Float64Array {
    return new Float64Array(this.stateLength);
  }

  /** Adds one observation's values (NaN = unknown) to the windows. */
  push(state: Float64Array, values: Float64Array): void {
    const w = this.window;
    const stride = w + 3;
    for (let j = 0, b = 0; j < this.metrics.length; j++, b += stride) {
      const v = values[j]!;
      if (v !== v) {
        state[b + 2] = 1;
        continue;
      }
      const head = state[b + 1]!;
      state[b + 3 + head] = v;
      state[b + 1] = head + 1 === w ? 0 : head + 1;
      if (state[b]! < w) state[b] = state[b]! + 1;
      state[b + 2] = 0;
    }
  }

  /** Writes the feature vector of the series' latest observation into `out` (length {@link width}). */
  compute(state: Float64Array, fallback: Float64Array, out: Float64Array): void {
    const w = this.window;
    const stride = w + 3;
    for (let j = 0, b = 0, o = 0; j < this.metrics.length; j++, b += stride, o += FEATURES_PER_METRIC) {
      const filled = state[b]!;
      if (filled === 0) {
        const f = fallback[j]!;
        out[o] = f;
        out[o + 1] = 0;
        out[o + 2] = f;
        out[o + 3] = 0;
        continue;
      }
      const head = state[b + 1]!;
      const last = state[b + 3 + (head === 0 ? w - 1 : head - 1)]!;
      const prev = filled < 2 ? last : state[b + 3 + (head >= 2 ? head - 2 : head + w - 2)]!;
      let sum = 0;
      for (let i = 0; i < filled; i++) sum += state[b + 3 + i]!;
      const mean = sum / filled;
      let ss = 0;
      for (let i = 0; i < filled; i++) {
        const d = state[b + 3 + i]! - mean;
        ss += d * d;
      }
      out[o] = last;
      out[o + 1] = state[b + 2] === 1 ? 0 : last - prev;
      out[o + 2] = mean;
      out[o + 3] = Math.sqrt(ss / filled);
    }
  }

  /** Checks a state restored from JSON has a consistent shape; returns a reason or undefined. */
  check(state: Float64Array): string | undefined {
    const w = this.window;
    for (let j = 0, b = 0; j < this.metrics.length; j++, b += w + 3) {
      const filled = state[b]!;
      const head = state[b + 1]!;
      if (!Number.isInteger(filled) || filled < 0 || filled > w) return `block ${j}: filled must be an integer in [0, ${w}]`;
      if (!Number.isInteger(head) || head < 0 || head >= w) return `block ${j}: head must be an integer in [0, ${w - 1}]`;
      if (state[b + 2] !== 0 && state[b + 2] !== 1) return `block ${j}: stale must be 0 or 1`;
    }
    return undefined;
  }

  /**
   * Runs a history through the windows in order and returns the feature rows (row-major, `width`
   * columns), one per observation: the training set of an offline fit.
   */
  rows(history: readonly Observation[], fallback: Float64Array, read: (obs: Observation, out: Float64Array) => void): Float64Array {
    const state = this.newState();
    const values = new Float64Array(this.metrics.length);
    const rows = new Float64Array(history.length * this.width);
    const row = new Float64Array(this.width);
    for (let i = 0; i < history.length; i++) {
      read(history[i]!, values);
      this.push(state, values);
      this.compute(state, fallback, row);
      rows.set(row, i * this.width);
    }
    return rows;
  }
}

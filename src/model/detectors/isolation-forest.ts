/**
 * `isolation-forest`: trained in batch on windowed features, scored in the stream (train offline,
 * serve online).
 *
 * Algorithm: Liu, Ting & Zhou, "Isolation Forest", ICDM 2008 (and "Isolation-Based Anomaly Detection",
 * TKDD 2012). Each of `trees` isolation trees is grown on a subsample of ψ = min(sampleSize, n) rows
 * drawn without replacement: a node picks a random feature that is not constant in its rows and a
 * split uniformly between that feature's minimum and maximum, until a node holds one row or reaches
 * the height limit ⌈log2 ψ⌉. A leaf holding `size` rows at depth e stands for the path length
 * e + c(size), with c(n) = 2H(n−1) − 2(n−1)/n (the average unsuccessful-search path of a binary search
 * tree, H(i) ≈ ln i + 0.5772156649). The score is s = 2^(−E[h(x)]/c(ψ)) ∈ (0, 1]: near 1 is anomalous,
 * 0.5 or below is ordinary.
 *
 * Features: see ./features.ts (per metric: value, difference, rolling mean and standard deviation over
 * `window` values), maintained online in the series' state; the fit runs the same code over the
 * history, in order, so training and serving see identical features.
 * Trees are stored flat in preorder (left child = next node; `right` holds the right child's index;
 * a leaf has feature −1 and its path length in `value`); the parameters carry them as base64.
 * Unknown values: see ./features.ts (last known value, zero difference; before any value, the training
 * median). Fit needs at least 2 rows of history (MODEL_INVALID otherwise).
 * State per series: metrics × (window + 3) doubles (8 metrics, window 10: 832 bytes of data).
 */
import type { DetectorFactory, DetectorModel, FitOptions, JsonValue, Observation } from '../types.ts';
import { FEATURE_SUFFIXES, FEATURES_PER_METRIC, WindowFeatures } from './features.ts';
import { metricsOf, readValues } from './common/observation.ts';
import { invalid, rejectUnknownKeys, requireFeatures, requireNumber, requireNumbers, requireObject } from './common/params.ts';
import { createRng } from './common/prng.ts';
import type { Rng } from './common/prng.ts';
import { decodeFinite, decodeTyped, encodeTyped } from './common/typed-json.ts';

const KIND = 'isolation-forest';
const EULER_GAMMA = 0.5772156649015329;

/** Hyperparameters of {@link isolationForest}. */
export interface IsolationForestHyperparameters {
  /** Number of trees (≥ 1). */
  readonly trees: number;
  /** Subsample size ψ per tree (≥ 2). */
  readonly sampleSize: number;
  /** Rolling window of the features, in observations (≥ 2). */
  readonly window: number;
}

/** Defaults of {@link IsolationForestHyperparameters} (the paper's t = 100, ψ = 256). */
export const ISOLATION_FOREST_DEFAULTS: IsolationForestHyperparameters = Object.freeze({ trees: 100, sampleSize: 256, window: 10 });

/** Average path length of an unsuccessful search in a binary search tree of n nodes: c(n). */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** The fitted forest, flat. */
interface Forest {
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly value: Float64Array;
  readonly right: Int32Array;
  /** ψ actually used (for c(ψ)). */
  readonly sampleSize: number;
}

class IsolationForestModel implements DetectorModel<Float64Array> {
  readonly kind = KIND;
  readonly features: readonly string[];
  readonly hyper: IsolationForestHyperparameters;
  private readonly forest: Forest;
  private readonly windows: WindowFeatures;
  private readonly fallback: Float64Array;
  private readonly center: Float64Array;
  private readonly norm: number;
  private readonly values: Float64Array;
  private readonly row: Float64Array;

  constructor(features: readonly string[], hyper: IsolationForestHyperparameters, forest: Forest, fallback: Float64Array, center: Float64Array) {
    this.features = features;
    this.hyper = hyper;
    this.forest = forest;
    this.windows = new WindowFeatures(features, hyper.window);
    this.fallback = fallback;
    this.center = center;
    this.norm = averagePathLength(forest.sampleSize);
    this.values = new Float64Array(features.length);
    this.row = new Float64Array(this.windows.width);
  }

  newState(): Float64Array {
    return this.windows.newState();
  }

  /** Isolation score of one feature row. */
  scoreRow(row: Float64Array): number {
    const { roots, feature, value, right } = this.forest;
    let total = 0;
    for (let t = 0; t < roots.length; t++) {
      let i = roots[t]!;
      let f = feature[i]!;
      while (f >= 0) {
        i = row[f]! < value[i]! ? i + 1 : right[i]!;
        f = feature[i]!;
      }
      total += value[i]!;
    }
    if (this.norm === 0) return 0.5;
    return Math.pow(2, -total / roots.length / this.norm);
  }

  score(state: Float64Array, obs: Observation): number {
    readValues(obs, this.features, this.values);
    this.windows.push(state, this.values);
    this.windows.compute(state, this.fallback, this.row);
    return this.scoreRow(this.row);
  }

  /** Per metric: how much the score drops when that metric's features are set to the training median. */
  explain(state: Float64Array): Readonly<Record<string, number>> {
    const row = new Float64Array(this.windows.width);
    this.windows.compute(state, this.fallback, row);
    const base = this.scoreRow(row);
    const probe = new Float64Array(row.length);
    const out: Record<string, number> = {};
    for (let j = 0; j < this.features.length; j++) {
      probe.set(row);
      probe.set(this.center.subarray(j * FEATURES_PER_METRIC, (j + 1) * FEATURES_PER_METRIC), j * FEATURES_PER_METRIC);
      out[this.features[j]!] = Math.max(0, base - this.scoreRow(probe));
    }
    return out;
  }

  toParams(): JsonValue {
    const f = this.forest;
    return {
      trees: this.hyper.trees,
      sampleSize: f.sampleSize,
      window: this.hyper.window,
      nodes: f.feature.length,
      featureNames: this.features.flatMap((m) => FEATURE_SUFFIXES.map((s) => `${m}.${s}`)),
      fallback: Array.from(this.fallback),
      center: Array.from(this.center),
      roots: encodeTyped(f.roots),
      feature: encodeTyped(f.feature),
      value: encodeTyped(f.value),
      right: encodeTyped(f.right),
    };
  }

  stateToJSON(state: Float64Array): JsonValue {
    return Array.from(state);
  }

  stateFromJSON(json: JsonValue): Float64Array {
    const state = requireNumbers(KIND, '/state', json, this.windows.stateLength);
    const reason = this.windows.check(state);
    if (reason !== undefined) throw invalid(KIND, '/state', reason);
    return state;
  }
}

/** Grows one isolation tree over rows `idx[lo..hi)` into the flat arrays; returns the next free node. */
function grow(
  rows: Float64Array,
  width: number,
  idx: Int32Array,
  lo: number,
  hi: number,
  depth: number,
  limit: number,
  rng: Rng,
  out: { feature: Int32Array; value: Float64Array; right: Int32Array },
  node: number,
): number {
  const size = hi - lo;
  if (size > 1 && depth < limit) {
    for (let attempt = 0; attempt < width; attempt++) {
      const q = rng.int(width);
      let min = Infinity;
      let max = -Infinity;
      for (let i = lo; i < hi; i++) {
        const v = rows[idx[i]! * width + q]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (!(max > min)) continue;
      let p = min + rng.next() * (max - min);
      if (p <= min) p = (min + max) / 2;
      // Partition idx[lo..hi) into < p (left) and ≥ p (right).
      let split = lo;
      for (let i = lo; i < hi; i++) {
        const r = idx[i]!;
        if (rows[r * width + q]! < p) {
          idx[i] = idx[split]!;
          idx[split] = r;
          split++;
        }
      }
      out.feature[node] = q;
      out.value[node] = p;
      const next = grow(rows, width, idx, lo, split, depth + 1, limit, rng, out, node + 1);
      out.right[node] = next;
      return grow(rows, width, idx, split, hi, depth + 1, limit, rng, out, next);
    }
  }
  out.feature[node] = -1;
  out.value[node] = depth + averagePathLength(size);
  out.right[node] = -1;
  return node + 1;
}

function readHyper(raw: Readonly<Record<string, unknown>>, path: string): IsolationForestHyperparameters {
  const d = ISOLATION_FOREST_DEFAULTS;
  return {
    trees: requireNumber(KIND, `${path}/trees`, raw.trees ?? d.trees, { min: 1, max: 10_000, integer: true }),
    sampleSize: requireNumber(KIND, `${path}/sampleSize`, raw.sampleSize ?? d.sampleSize, { min: 2, max: 65_536, integer: true }),
    window: requireNumber(KIND, `${path}/window`, raw.window ?? d.window, { min: 2, max: 10_000, integer: true }),
  };
}

function columnMedians(rows: Float64Array, width: number, count: number): Float64Array {
  const out = new Float64Array(width);
  const column = new Float64Array(count);
  for (let q = 0; q < width; q++) {
    for (let i = 0; i < count; i++) column[i] = rows[i * width + q]!;
    column.sort();
    const h = count >> 1;
    out[q] = count % 2 === 1 ? column[h]! : (column[h - 1]! + column[h]!) / 2;
  }
  return out;
}

/** Checks a decoded forest can be traversed safely (every path ends at a leaf inside its tree). */
function checkForest(roots: Int32Array, feature: Int32Array, value: Float64Array, right: Int32Array, width: number): void {
  const nodes = feature.length;
  for (let t = 0; t < roots.length; t++) {
    const start = roots[t]!;
    const end = t + 1 < roots.length ? roots[t + 1]! : nodes;
    if (t === 0 ? start !== 0 : !(start > roots[t - 1]!)) throw invalid(KIND, `/params/roots[${t}]`, 'must start at 0 and increase');
    if (end <= start || end > nodes) throw invalid(KIND, `/params/roots[${t}]`, `must increase and stay below the node count ${nodes}`);
    for (let i = start; i < end; i++) {
      const f = feature[i]!;
      if (f === -1) {
        if (!(value[i]! >= 0)) throw invalid(KIND, `/params/value[${i}]`, 'must be a path length ≥ 0 at a leaf');
        continue;
      }
      if (f < 0 || f >= width) throw invalid(KIND, `/params/feature[${i}]`, `must be −1 or a feature index below ${width}`);
      if (!(i + 1 < end && right[i]! > i + 1 && right[i]! < end)) throw invalid(KIND, `/params/right[${i}]`, 'must point to a later node of the same tree');
      if (!Number.isFinite(value[i]!)) throw invalid(KIND, `/params/value[${i}]`, 'must be finite');
    }
  }
}

/** The Isolation Forest detector on windowed features (see the algorithm notes above). */
export const isolationForest: DetectorFactory = {
  kind: KIND,
  description: 'Isolation Forest (Liu, Ting & Zhou 2008) trained in batch on windowed features, scored in the stream',
  fit(history: readonly Observation[], options: FitOptions = {}): DetectorModel {
    const features = requireFeatures(KIND, options.features ?? metricsOf(history));
    const raw = options.hyperparameters ?? {};
    rejectUnknownKeys(KIND, '/hyperparameters', raw, ['trees', 'sampleSize', 'window']);
    const hyper = readHyper(raw, '/hyperparameters');
    if (history.length < 2) throw invalid(KIND, '/history', `needs at least 2 observations to fit, got ${history.length}`);
    const k = features.length;
    const windows = new WindowFeatures(features, hyper.window);
    const width = windows.width;
    // Training median of each metric: the value read before a metric has been seen.
    const fallback = new Float64Array(k);
    const scratch = new Float64Array(k);
    const cols = new Float64Array(history.length);
    for (let j = 0; j < k; j++) {
      let n = 0;
      for (const obs of history) {
        const v = obs.values[features[j]!];
        if (typeof v === 'number' && Number.isFinite(v)) cols[n++] = v;
      }
      if (n > 0) {
        const sorted = cols.subarray(0, n).sort();
        fallback[j] = n % 2 === 1 ? sorted[n >> 1]! : (sorted[(n >> 1) - 1]! + sorted[n >> 1]!) / 2;
      }
    }
    const n = history.length;
    const rows = windows.rows(history, fallback, (obs, out) => {
      readValues(obs, features, scratch);
      out.set(scratch);
    });
    const psi = Math.min(hyper.sampleSize, n);
    const limit = Math.ceil(Math.log2(psi));
    const rng = createRng(options.seed ?? 1);
    const maxNodes = hyper.trees * (2 * psi - 1);
    const out = { feature: new Int32Array(maxNodes), value: new Float64Array(maxNodes), right: new Int32Array(maxNodes) };
    const roots = new Int32Array(hyper.trees);
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    const idx = new Int32Array(psi);
    let next = 0;
    for (let t = 0; t < hyper.trees; t++) {
      // Partial Fisher–Yates: the first ψ entries of `all` become a uniform sample without replacement.
      for (let i = 0; i < psi; i++) {
        const j = i + rng.int(n - i);
        const tmp = all[i]!;
        all[i] = all[j]!;
        all[j] = tmp;
        idx[i] = all[i]!;
      }
      roots[t] = next;
      next = grow(rows, width, idx, 0, psi, 0, limit, rng, out, next);
    }
    // Training medians of the features, for explain(); sampled rows suffice.
    const sample = Math.min(n, 4096);
    const sampled = new Float64Array(sample * width);
    for (let i = 0; i < sample; i++) sampled.set(rows.subarray(Math.floor((i * n) / sample) * width, (Math.floor((i * n) / sample) + 1) * width), i * width);
    const center = columnMedians(sampled, width, sample);
    const forest: Forest = { roots, feature: out.feature.slice(0, next), value: out.value.slice(0, next), right: out.right.slice(0, next), sampleSize: psi };
    return new IsolationForestModel(features, hyper, forest, fallback, center);
  },
  fromParams(params: unknown, features: readonly string[]): DetectorModel {
    const names = requireFeatures(KIND, features);
    const raw = requireObject(KIND, '/params', params);
    rejectUnknownKeys(KIND, '/params', raw, ['trees', 'sampleSize', 'window', 'nodes', 'featureNames', 'fallback', 'center', 'roots', 'feature', 'value', 'right']);
    for (const key of ['trees', 'sampleSize', 'window', 'nodes', 'roots', 'feature', 'value', 'right', 'fallback', 'center']) {
      if (raw[key] === undefined) throw invalid(KIND, `/params/${key}`, 'is required');
    }
    const hyper = readHyper(raw, '/params');
    const width = names.length * FEATURES_PER_METRIC;
    const nodes = requireNumber(KIND, '/params/nodes', raw.nodes, { min: hyper.trees, integer: true, max: hyper.trees * (2 * hyper.sampleSize - 1) });
    const roots = decodeTyped(KIND, '/params/roots', raw.roots, Int32Array, hyper.trees);
    const feature = decodeTyped(KIND, '/params/feature', raw.feature, Int32Array, nodes);
    const value = decodeFinite(KIND, '/params/value', raw.value, nodes);
    const right = decodeTyped(KIND, '/params/right', raw.right, Int32Array, nodes);
    checkForest(roots, feature, value, right, width);
    const fallback = requireNumbers(KIND, '/params/fallback', raw.fallback, names.length);
    const center = requireNumbers(KIND, '/params/center', raw.center, width);
    return new IsolationForestModel(names, hyper, { roots, feature, value, right, sampleSize: hyper.sampleSize }, fallback, center);
  },
};

/**
 * `half-space-trees`: an online multivariate detector for streams.
 *
 * Algorithm: Tan, Ting & Liu, "Fast Anomaly Detection for Streaming Data", IJCAI 2011.
 *   - Each of `trees` full binary trees of depth `height` partitions a random work space: per dimension q
 *     (features normalised to [0, 1]), s_q ~ U(0, 1), range s_q ± 2·max(s_q, 1 − s_q); a node splits a
 *     random dimension at the middle of its current range. The structure is fixed at fit time and
 *     shared by every series (seeded PRNG: reproducible).
 *   - Each series keeps two mass profiles per node: r (reference, from the last complete window of
 *     `windowSize` observations) and l (latest, being counted); when a window completes, r ← l and l ← 0.
 *   - Score of x in one tree: r(node)·2^depth at the first node on x's path with r < sizeLimit
 *     (0.1·windowSize in the paper), or at the leaf. Higher mass means more normal.
 * Normalisation (ours): s̄ = mean over trees of r·2^depth/windowSize ∈ [0, 2^height]; the anomaly score
 * is 1 − log2(1 + s̄)/log2(1 + 2^height) ∈ [0, 1] (1: x fell where the reference window had nothing).
 *
 * Feature ranges (for the [0, 1] normalisation): min and max of the fit history, shared by every series;
 * without history, each series learns its own from its first `windowSize` observations (scoring 0), then
 * counts one window of mass (scoring 0), then scores. With history, the reference profile is the last
 * complete window of the history, so a new series scores from its first observation.
 * Unknown values: imputed with the series' last known value of that metric (or the middle of its
 * range); such an observation is scored but does not update the mass profiles. An observation with no
 * finite metric scores 0 and changes nothing.
 * State per series: two Uint16Array mass profiles of trees·(2^(height+1) − 1) counts plus 2 + 4k doubles
 * (defaults, 10 trees of height 8: 2 × 5,110 × 2 bytes ≈ 20 KiB). score() allocates nothing;
 * per observation it walks height + 1 nodes per tree, plus an amortised O(nodes / windowSize) swap.
 */
import type { DetectorFactory, DetectorModel, FitOptions, JsonValue, Observation } from '../types.ts';
import { metricsOf, readValues } from './common/observation.ts';
import { invalid, rejectUnknownKeys, requireFeatures, requireNumber, requireNumbers, requireObject } from './common/params.ts';
import { createRng } from './common/prng.ts';
import { decodeTyped, encodeTyped } from './common/typed-json.ts';

const KIND = 'half-space-trees';

/** Hyperparameters of {@link halfSpaceTrees}. */
export interface HalfSpaceTreesHyperparameters {
  /** Number of trees (≥ 1). */
  readonly trees: number;
  /** Depth of every tree (1..16). */
  readonly height: number;
  /** Observations per mass window ψ (2..65535). */
  readonly windowSize: number;
  /** A node with reference mass below this ends the scoring path (paper: 0.1·ψ). */
  readonly sizeLimit: number;
}

/** Defaults of {@link HalfSpaceTreesHyperparameters}: River's (10 trees, height 8, window 250), sizeLimit 0.1ψ. */
export const HALF_SPACE_TREES_DEFAULTS: HalfSpaceTreesHyperparameters = Object.freeze({ trees: 10, height: 8, windowSize: 250, sizeLimit: 25 });

/** Per-series state of {@link halfSpaceTrees}. */
export interface HalfSpaceTreesState {
  /** [phase (0 ranges, 1 first window, 2 scoring), count in window, lo×k, span×k, last×k, seen×k]. */
  readonly meta: Float64Array;
  /** Reference mass per node. */
  readonly r: Uint16Array;
  /** Latest mass per node. */
  readonly l: Uint16Array;
}

const PHASE_RANGES = 0;
const PHASE_FIRST_WINDOW = 1;
const PHASE_SCORING = 2;

interface Structure {
  /** Split dimension of each internal node, trees × (2^height − 1). */
  readonly splitDim: Int32Array;
  /** Split value (unit space) of each internal node. */
  readonly splitValue: Float64Array;
}

interface Fitted {
  /** Per metric lower bound and span of the normalisation, or null (learnt per series). */
  readonly lo: Float64Array | null;
  readonly span: Float64Array | null;
  /** Reference mass profile from the history, or null. */
  readonly reference: Uint16Array | null;
}

class HalfSpaceTreesModel implements DetectorModel<HalfSpaceTreesState> {
  readonly kind = KIND;
  readonly features: readonly string[];
  readonly hyper: HalfSpaceTreesHyperparameters;
  private readonly structure: Structure;
  private readonly fitted: Fitted;
  /** Nodes per tree (2^(h+1) − 1) and internal nodes per tree (2^h − 1). */
  private readonly nodesPerTree: number;
  private readonly innerPerTree: number;
  private readonly logMax: number;
  private readonly raw: Float64Array;
  private readonly x: Float64Array;

  constructor(features: readonly string[], hyper: HalfSpaceTreesHyperparameters, structure: Structure, fitted: Fitted) {
    this.features = features;
    this.hyper = hyper;
    this.structure = structure;
    this.fitted = fitted;
    this.nodesPerTree = 2 ** (hyper.height + 1) - 1;
    this.innerPerTree = 2 ** hyper.height - 1;
    this.logMax = Math.log2(1 + 2 ** hyper.height);
    this.raw = new Float64Array(features.length);
    this.x = new Float64Array(features.length);
  }

  newState(): HalfSpaceTreesState {
    const k = this.features.length;
    const size = this.hyper.trees * this.nodesPerTree;
    const meta = new Float64Array(2 + 4 * k);
    const { lo, span, reference } = this.fitted;
    if (lo !== null && span !== null) {
      meta.set(lo, 2);
      meta.set(span, 2 + k);
      meta[0] = reference !== null ? PHASE_SCORING : PHASE_FIRST_WINDOW;
    }
    return { meta, r: reference !== null ? reference.slice() : new Uint16Array(size), l: new Uint16Array(size) };
  }

  /**
   * Walks x (unit space, this.x) down every tree; adds 1 to l on the path when `update`; returns the
   * anomaly score from r.
   */
  private walk(state: HalfSpaceTreesState, x: Float64Array, update: boolean): number {
    const { splitDim, splitValue } = this.structure;
    const { r, l } = state;
    const h = this.hyper.height;
    const limit = this.hyper.sizeLimit;
    const N = this.nodesPerTree;
    const I = this.innerPerTree;
    let total = 0;
    for (let t = 0, base = 0, inner = 0; t < this.hyper.trees; t++, base += N, inner += I) {
      let node = 0;
      let found = false;
      for (let depth = 0; ; depth++) {
        if (update) l[base + node]!++;
        if (!found) {
          const m = r[base + node]!;
          if (m < limit || depth === h) {
            total += m * (1 << depth);
            found = true;
            if (!update) break;
          }
        }
        if (depth === h) break;
        node = x[splitDim[inner + node]!]! < splitValue[inner + node]! ? 2 * node + 1 : 2 * node + 2;
      }
    }
    const mean = total / (this.hyper.trees * this.hyper.windowSize);
    const s = 1 - Math.log2(1 + mean) / this.logMax;
    return s < 0 ? 0 : s > 1 ? 1 : s;
  }

  /** Maps the raw values into unit space (imputing unknowns); records last values when `learn`. */
  private toUnit(meta: Float64Array, raw: Float64Array, x: Float64Array): void {
    const k = this.features.length;
    for (let j = 0; j < k; j++) {
      const lo = meta[2 + j]!;
      const span = meta[2 + k + j]!;
      let v = raw[j]!;
      if (v !== v) v = meta[2 + 3 * k + j] === 1 ? meta[2 + 2 * k + j]! : lo + span / 2;
      else {
        meta[2 + 2 * k + j] = v;
        meta[2 + 3 * k + j] = 1;
      }
      x[j] = (v - lo) / span;
    }
  }

  private swap(state: HalfSpaceTreesState): void {
    state.r.set(state.l);
    state.l.fill(0);
    state.meta[1] = 0;
  }

  score(state: HalfSpaceTreesState, obs: Observation): number {
    const k = this.features.length;
    const meta = state.meta;
    const finite = readValues(obs, this.features, this.raw);
    if (finite === 0) return 0;
    const phase = meta[0];
    if (phase === PHASE_RANGES) {
      for (let j = 0; j < k; j++) {
        const v = this.raw[j]!;
        if (v !== v) continue;
        if (meta[2 + 3 * k + j] === 0) {
          meta[2 + j] = v;
          meta[2 + k + j] = v;
          meta[2 + 3 * k + j] = 1;
        } else {
          if (v < meta[2 + j]!) meta[2 + j] = v;
          if (v > meta[2 + k + j]!) meta[2 + k + j] = v;
        }
        meta[2 + 2 * k + j] = v;
      }
      meta[1]! += 1;
      if (meta[1] === this.hyper.windowSize) {
        for (let j = 0; j < k; j++) {
          if (meta[2 + 3 * k + j] === 0) {
            meta[2 + j] = 0;
            meta[2 + k + j] = 1;
          } else {
            meta[2 + k + j] = safeSpan(meta[2 + j]!, meta[2 + k + j]!);
          }
        }
        meta[0] = PHASE_FIRST_WINDOW;
        meta[1] = 0;
      }
      return 0;
    }
    this.toUnit(meta, this.raw, this.x);
    const update = finite === k;
    let s = 0;
    if (phase === PHASE_SCORING) s = this.walk(state, this.x, update);
    else if (update) this.walk(state, this.x, true);
    if (update) {
      meta[1]! += 1;
      if (meta[1] === this.hyper.windowSize) {
        this.swap(state);
        meta[0] = PHASE_SCORING;
      }
    }
    return s;
  }

  /** Per metric: how much the score drops when that metric is moved to the middle of its range. */
  explain(state: HalfSpaceTreesState, obs: Observation): Readonly<Record<string, number>> {
    const k = this.features.length;
    const out: Record<string, number> = {};
    for (const name of this.features) out[name] = 0;
    if (state.meta[0] !== PHASE_SCORING) return out;
    const raw = new Float64Array(k);
    readValues(obs, this.features, raw);
    const meta = state.meta.slice();
    const x = new Float64Array(k);
    this.toUnit(meta, raw, x);
    const base = this.walk(state, x, false);
    for (let j = 0; j < k; j++) {
      const keep = x[j]!;
      x[j] = 0.5;
      out[this.features[j]!] = Math.max(0, base - this.walk(state, x, false));
      x[j] = keep;
    }
    return out;
  }

  toParams(): JsonValue {
    const { lo, span, reference } = this.fitted;
    return {
      ...this.hyper,
      splitDim: encodeTyped(this.structure.splitDim),
      splitValue: encodeTyped(this.structure.splitValue),
      ranges: lo !== null && span !== null ? { lo: Array.from(lo), span: Array.from(span) } : null,
      reference: reference !== null ? encodeTyped(reference) : null,
    };
  }

  stateToJSON(state: HalfSpaceTreesState): JsonValue {
    return { meta: Array.from(state.meta), r: encodeTyped(state.r), l: encodeTyped(state.l) };
  }

  stateFromJSON(json: JsonValue): HalfSpaceTreesState {
    const k = this.features.length;
    const raw = requireObject(KIND, '/state', json);
    rejectUnknownKeys(KIND, '/state', raw, ['meta', 'r', 'l']);
    const meta = requireNumbers(KIND, '/state/meta', raw.meta, 2 + 4 * k);
    requireNumber(KIND, '/state/meta/0', meta[0], { min: 0, max: 2, integer: true });
    requireNumber(KIND, '/state/meta/1', meta[1], { min: 0, max: this.hyper.windowSize - 1, integer: true });
    for (let j = 0; j < k; j++) {
      if (meta[0] !== PHASE_RANGES) requireNumber(KIND, `/state/meta/${2 + k + j}`, meta[2 + k + j], { min: 0, minExclusive: true });
      if (meta[2 + 3 * k + j] !== 0 && meta[2 + 3 * k + j] !== 1) throw invalid(KIND, `/state/meta/${2 + 3 * k + j}`, 'must be 0 or 1');
    }
    const size = this.hyper.trees * this.nodesPerTree;
    return { meta, r: decodeTyped(KIND, '/state/r', raw.r, Uint16Array, size), l: decodeTyped(KIND, '/state/l', raw.l, Uint16Array, size) };
  }
}

/** Span of [lo, hi], never 0 (a constant metric gets a span relative to its magnitude). */
function safeSpan(lo: number, hi: number): number {
  const span = hi - lo;
  const floor = 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi));
  return span > floor ? span : floor;
}

function readHyper(raw: Readonly<Record<string, unknown>>, path: string): HalfSpaceTreesHyperparameters {
  const d = HALF_SPACE_TREES_DEFAULTS;
  const trees = requireNumber(KIND, `${path}/trees`, raw.trees ?? d.trees, { min: 1, max: 1000, integer: true });
  const height = requireNumber(KIND, `${path}/height`, raw.height ?? d.height, { min: 1, max: 16, integer: true });
  const windowSize = requireNumber(KIND, `${path}/windowSize`, raw.windowSize ?? d.windowSize, { min: 2, max: 65_535, integer: true });
  const sizeLimit = requireNumber(KIND, `${path}/sizeLimit`, raw.sizeLimit ?? (raw.windowSize !== undefined ? Math.floor(windowSize / 10) : d.sizeLimit), { min: 0, max: windowSize });
  if (trees * (2 ** (height + 1) - 1) > 1 << 22) throw invalid(KIND, `${path}/trees`, `× nodes per tree must stay ≤ ${1 << 22} (bounded per-series state)`);
  return { trees, height, windowSize, sizeLimit };
}

/** Builds the random half-space structure (InitialiseWorkSpace + BuildSingleHS-Tree of the paper). */
function buildStructure(k: number, hyper: HalfSpaceTreesHyperparameters, seed: number): Structure {
  const rng = createRng(seed);
  const I = 2 ** hyper.height - 1;
  const splitDim = new Int32Array(hyper.trees * I);
  const splitValue = new Float64Array(hyper.trees * I);
  const min = new Float64Array(k);
  const max = new Float64Array(k);
  const build = (inner: number, node: number, depth: number): void => {
    if (depth === hyper.height) return;
    const q = rng.int(k);
    const mid = (min[q]! + max[q]!) / 2;
    splitDim[inner + node] = q;
    splitValue[inner + node] = mid;
    const saveMax = max[q]!;
    max[q] = mid;
    build(inner, 2 * node + 1, depth + 1);
    max[q] = saveMax;
    const saveMin = min[q]!;
    min[q] = mid;
    build(inner, 2 * node + 2, depth + 1);
    min[q] = saveMin;
  };
  for (let t = 0; t < hyper.trees; t++) {
    for (let q = 0; q < k; q++) {
      const s = rng.next();
      const half = 2 * Math.max(s, 1 - s);
      min[q] = s - half;
      max[q] = s + half;
    }
    build(t * I, 0, 0);
  }
  return { splitDim, splitValue };
}

/** The Half-Space Trees detector (see the algorithm notes above). */
export const halfSpaceTrees: DetectorFactory = {
  kind: KIND,
  description: 'Half-Space Trees (Tan, Ting & Liu 2011): online mass profiles over random half-space partitions',
  fit(history: readonly Observation[], options: FitOptions = {}): DetectorModel {
    const features = requireFeatures(KIND, options.features ?? (history.length > 0 ? metricsOf(history) : undefined));
    const raw = options.hyperparameters ?? {};
    rejectUnknownKeys(KIND, '/hyperparameters', raw, ['trees', 'height', 'windowSize', 'sizeLimit']);
    const hyper = readHyper(raw, '/hyperparameters');
    const k = features.length;
    const structure = buildStructure(k, hyper, options.seed ?? 1);
    if (history.length === 0) return new HalfSpaceTreesModel(features, hyper, structure, { lo: null, span: null, reference: null });
    const lo = new Float64Array(k).fill(Infinity);
    const hi = new Float64Array(k).fill(-Infinity);
    for (const obs of history) {
      for (let j = 0; j < k; j++) {
        const v = obs.values[features[j]!];
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        if (v < lo[j]!) lo[j] = v;
        if (v > hi[j]!) hi[j] = v;
      }
    }
    const span = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      if (lo[j] === Infinity) {
        lo[j] = 0;
        span[j] = 1;
      } else span[j] = safeSpan(lo[j]!, hi[j]!);
    }
    // Count the history's mass windows with the serving code; the last complete one is the reference.
    const staging = new HalfSpaceTreesModel(features, hyper, structure, { lo, span, reference: null });
    const state = staging.newState();
    for (const obs of history) staging.score(state, obs);
    const reference = state.meta[0] === PHASE_SCORING ? state.r.slice() : null;
    return new HalfSpaceTreesModel(features, hyper, structure, { lo, span, reference });
  },
  fromParams(params: unknown, features: readonly string[]): DetectorModel {
    const names = requireFeatures(KIND, features);
    const raw = requireObject(KIND, '/params', params);
    rejectUnknownKeys(KIND, '/params', raw, ['trees', 'height', 'windowSize', 'sizeLimit', 'splitDim', 'splitValue', 'ranges', 'reference']);
    for (const key of ['trees', 'height', 'windowSize', 'sizeLimit', 'splitDim', 'splitValue']) {
      if (raw[key] === undefined) throw invalid(KIND, `/params/${key}`, 'is required');
    }
    const hyper = readHyper(raw, '/params');
    const k = names.length;
    const inner = hyper.trees * (2 ** hyper.height - 1);
    const splitDim = decodeTyped(KIND, '/params/splitDim', raw.splitDim, Int32Array, inner);
    for (let i = 0; i < inner; i++) if (splitDim[i]! < 0 || splitDim[i]! >= k) throw invalid(KIND, `/params/splitDim[${i}]`, `must be a feature index below ${k}`);
    const splitValue = decodeTyped(KIND, '/params/splitValue', raw.splitValue, Float64Array, inner);
    for (let i = 0; i < inner; i++) if (!Number.isFinite(splitValue[i]!)) throw invalid(KIND, `/params/splitValue[${i}]`, 'must be finite');
    let lo: Float64Array | null = null;
    let span: Float64Array | null = null;
    if (raw.ranges !== null && raw.ranges !== undefined) {
      const ranges = requireObject(KIND, '/params/ranges', raw.ranges);
      rejectUnknownKeys(KIND, '/params/ranges', ranges, ['lo', 'span']);
      lo = requireNumbers(KIND, '/params/ranges/lo', ranges.lo, k);
      span = requireNumbers(KIND, '/params/ranges/span', ranges.span, k, { min: 0, minExclusive: true });
    }
    let reference: Uint16Array | null = null;
    if (raw.reference !== null && raw.reference !== undefined) {
      if (lo === null) throw invalid(KIND, '/params/reference', 'needs /params/ranges');
      reference = decodeTyped(KIND, '/params/reference', raw.reference, Uint16Array, hyper.trees * (2 ** (hyper.height + 1) - 1));
    }
    return new HalfSpaceTreesModel(names, hyper, { splitDim, splitValue }, { lo, span, reference });
  },
};

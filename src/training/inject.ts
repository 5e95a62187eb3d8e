/**
 * Synthetic anomalies for the unsupervised evaluation (docs/training.md): telemetry has no labels,
 * so known anomalies are added to a copy of each held-back series and the detectors are asked to
 * find them.
 *
 * Placement: the held-back series is cut into ⌊n / every⌋ equal segments (one segment when the series
 * is shorter than `every` but still holds one anomaly with clean records around its window); each
 * segment gets one anomaly on one metric chosen at random (among those with values), starting at a
 * random record at least `detectionWindow` records into the segment and ending early enough that its
 * window (below) ends inside the segment, so windows never overlap and clean records separate them.
 * Shapes, in units of the metric's robust scale σ (from the training part of the series):
 * - spike: one record moved by ±U(6, 10)σ;
 * - shift: `length` records moved by ±U(4, 6)σ, then back;
 * - drift: `length` records moved by a ramp growing linearly to ±U(6, 10)σ, then back.
 * Window of an anomaly (where an alarm counts as its detection): from its first record to
 * `detectionWindow` records after its last. Everything is drawn from the seeded generator, so the
 * same seed gives the same anomalies.
 */
import type { RowWindow } from '../model/eval/nab-windows.ts';
import type { Rng } from '../model/detectors/common/prng.ts';

/** The shapes of injected anomalies. */
export const AnomalyShape = { SPIKE: 'spike', SHIFT: 'shift', DRIFT: 'drift' } as const;
/** One of {@link AnomalyShape}. */
export type AnomalyShape = (typeof AnomalyShape)[keyof typeof AnomalyShape];

/** Magnitude range of each shape, in σ. */
const MAGNITUDE: Readonly<Record<AnomalyShape, readonly [number, number]>> = {
  spike: [6, 10],
  shift: [4, 6],
  drift: [6, 10],
};
const SHAPES: readonly AnomalyShape[] = Object.values(AnomalyShape);

/** Where and how anomalies are injected. */
export interface InjectionOptions {
  /** One anomaly per this many records (at least one when the series has room for it). */
  readonly every: number;
  /** Records a shift or a drift lasts. */
  readonly length: number;
  /** Records after an anomaly within which an alarm still detects it. */
  readonly detectionWindow: number;
}

/** One injected anomaly. */
export interface InjectedAnomaly {
  readonly shape: AnomalyShape;
  readonly metric: string;
  /** First record it changes (index into the held-back series). */
  readonly start: number;
  /** Records it changes. */
  readonly length: number;
  /** Signed size at its largest, in σ. */
  readonly magnitude: number;
  readonly window: RowWindow;
}

/** Returns a copy of `values` with anomalies added (see the file comment), and the anomalies. */
export function injectAnomalies(
  values: Readonly<Record<string, Float64Array>>,
  scales: Readonly<Record<string, number>>,
  rng: Rng,
  options: InjectionOptions,
): { values: Record<string, Float64Array>; anomalies: InjectedAnomaly[] } {
  const out: Record<string, Float64Array> = {};
  for (const [name, column] of Object.entries(values)) out[name] = Float64Array.from(column);
  const metrics = Object.keys(values).filter((m) => Number.isFinite(scales[m]) && scales[m]! > 0).sort();
  const n = Object.values(values)[0]?.length ?? 0;
  const anomalies: InjectedAnomaly[] = [];
  const { detectionWindow } = options;
  const segments = n >= options.every ? Math.floor(n / options.every) : n >= 2 * detectionWindow + options.length + 1 ? 1 : 0;
  const every = segments === 0 ? 0 : Math.floor(n / segments);
  for (let k = 0; k < segments; k++) {
    const segment = k * every;
    const shape = SHAPES[rng.int(SHAPES.length)]!;
    const length = shape === AnomalyShape.SPIKE ? 1 : options.length;
    const first = segment + detectionWindow;
    const last = segment + every - length - detectionWindow;
    const start = first + rng.int(last - first + 1);
    const candidates = metrics.filter((m) => hasValues(values[m]!, start, length));
    const [lo, hi] = MAGNITUDE[shape];
    const size = lo + (hi - lo) * rng.next();
    const magnitude = rng.next() < 0.5 ? -size : size;
    if (candidates.length === 0) continue;
    const metric = candidates[rng.int(candidates.length)]!;
    const column = out[metric]!;
    const sigma = scales[metric]!;
    for (let i = 0; i < length; i++) {
      const factor = shape === AnomalyShape.DRIFT ? (i + 1) / length : 1;
      column[start + i] = column[start + i]! + magnitude * sigma * factor;
    }
    anomalies.push({ shape, metric, start, length, magnitude, window: { start, end: start + length - 1 + detectionWindow } });
  }
  return { values: out, anomalies };
}

/**
 * A robust scale of a metric's values: the median absolute deviation × 1.4826 (σ under
 * normality), else the standard deviation, else 1% of |median| (at least 1) for a constant metric.
 * NaN values are ignored; NaN when there is no finite value.
 */
export function robustScale(column: Float64Array): number {
  const finite = column.filter((v) => Number.isFinite(v)).sort();
  const n = finite.length;
  if (n === 0) return Number.NaN;
  const median = quantileSorted(finite, 0.5);
  const deviations = finite.map((v) => Math.abs(v - median)).sort();
  const mad = quantileSorted(deviations, 0.5) * 1.482602218505602;
  if (mad > 0) return mad;
  let sum = 0;
  let sumSq = 0;
  for (const v of finite) {
    sum += v;
    sumSq += v * v;
  }
  const std = Math.sqrt(Math.max(0, sumSq / n - (sum / n) ** 2));
  return std > 0 ? std : Math.max(Math.abs(median) * 0.01, 1);
}

function quantileSorted(sorted: Float64Array, q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

function hasValues(column: Float64Array, start: number, length: number): boolean {
  for (let i = start; i < start + length; i++) if (!Number.isFinite(column[i])) return false;
  return true;
}

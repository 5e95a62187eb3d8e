/**
 * The NAB scorer: score of one file at a threshold with its row counts, the corpus-wide threshold
 * sweep (sorted once, shared by every profile), and the full pipeline (sweep, final per-file
 * scoring, normalisation, event-level metrics).
 *
 * Source: numenta/NAB (`nab/sweeper.py`, `nab/scorer.py`, `nab/optimizer.py`; commit ea702d7), as
 * described in ../shared/datasets/nab/SCORING.md §5–§9; Lavin & Ahmad, ICMLA 2015.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import { eventMetrics, type EventMetrics } from './event-metrics.ts';
import { NAB_PROFILES, NAB_PROFILE_NAMES, nabNormalise, nabProbation, type NabCosts, type NabProfileName } from './nab-profiles.ts';
import { rowValues, validateWindows, windowIndexOfRows, type RowWindow } from './nab-windows.ts';

/** One file's detector output and labels, as the scorer needs them. */
export interface ScoredSeries {
  /** Name used in results and errors, e.g. `realKnownCause/nyc_taxi.csv`. */
  readonly name: string;
  /** The detector's anomaly score a_i for every row (probationary rows included), each in [0, 1]. */
  readonly scores: ArrayLike<number>;
  /** Label windows as inclusive row ranges, ordered and disjoint. */
  readonly windows: readonly RowWindow[];
  /** Rows not scored at the start; default NAB's min(⌊0.15·N⌋, 750). */
  readonly probation?: number;
}

/** Row-level counts of one file or the corpus (they do not enter the score; SCORING.md §5). */
export interface NabCounts {
  readonly tp: number;
  readonly tn: number;
  readonly fp: number;
  readonly fn: number;
}

/** Score and counts of one file at a threshold. */
export interface FileScore extends NabCounts {
  readonly name: string;
  /** S_f(θ): raw NAB score of the file. */
  readonly score: number;
  /** Scorable rows (N − P). */
  readonly scorable: number;
}

/** The result of a threshold sweep. */
export interface SweepResult {
  /** θ*: the largest threshold among those with the highest raw score (1.1 means no detections). */
  readonly threshold: number;
  /** S(θ*) as the sweep accumulated it (compensated sum). */
  readonly rawScore: number;
}

/** Everything NAB reports for one profile. */
export interface ProfileResult extends NabCounts {
  readonly profile: string;
  readonly costs: NabCosts;
  readonly threshold: number;
  /** Σ_f S_f(θ*) from the final per-file scoring (NAB's `Totals` row). */
  readonly rawScore: number;
  /** 100·(S − S_null)/(S_perfect − S_null). */
  readonly score: number;
  readonly files: readonly FileScore[];
  /** Event-level precision/recall/F1 at θ* (SCORING.md §12). */
  readonly events: EventMetrics;
}

/** The corpus result: one entry per profile, plus the window count K. */
export interface CorpusResult {
  readonly windows: number;
  readonly rows: number;
  readonly scorableRows: number;
  readonly profiles: Readonly<Record<string, ProfileResult>>;
}

function probationOf(series: ScoredSeries): number {
  const p = series.probation ?? nabProbation(series.scores.length);
  if (!Number.isInteger(p) || p < 0) throw new SluiceError(ErrorCode.EVAL_INVALID_DATA, `${series.name}: probation must be an integer ≥ 0, got ${p}`);
  return p;
}

function checkSeries(series: ScoredSeries): void {
  validateWindows(series.name, series.scores.length, series.windows);
  const a = series.scores;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (!(x >= 0 && x <= 1)) {
      throw new SluiceError(ErrorCode.EVAL_INVALID_DATA, `${series.name}: anomaly score of row ${i} is ${x}; NAB needs a number in [0, 1] for every row`, { details: { name: series.name, row: i } });
    }
  }
}

/**
 * S_f(θ) and the row counts of one file (SCORING.md §5): detections are scorable rows with
 * a_i ≥ θ; a window is worth its earliest detection's value, or −A_FN when missed; every detection
 * outside windows adds its (negative) value.
 */
export function scoreSeries(series: ScoredSeries, costs: NabCosts, threshold: number): FileScore {
  checkSeries(series);
  const n = series.scores.length;
  const p = Math.min(probationOf(series), n);
  const v = rowValues(n, series.windows, costs);
  const win = windowIndexOfRows(n, series.windows);
  const best = new Float64Array(series.windows.length).fill(Number.NaN);
  let fpSum = 0;
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  for (let i = p; i < n; i++) {
    const k = win[i]!;
    if (series.scores[i]! >= threshold) {
      if (k >= 0) {
        tp++;
        if (!(best[k]! >= v[i]!)) best[k] = v[i]!;
      } else {
        fp++;
        fpSum += v[i]!;
      }
    } else if (k >= 0) fn++;
    else tn++;
  }
  let score = fpSum;
  for (const b of best) score += Number.isNaN(b) ? -costs.fn : b;
  return { name: series.name, score, tp, tn, fp, fn, scorable: n - p };
}

/** Scorable rows of a corpus sorted once by descending score, ready for sweeps under any profile. */
export interface PreparedSweep {
  readonly series: readonly ScoredSeries[];
  /** Number of windows K over all series. */
  readonly windows: number;
  /** Scores of the scorable rows, in descending order. */
  readonly scores: Float64Array;
  /** Series index of each sorted row. */
  readonly seriesIndex: Uint32Array;
  /** Row index (within its series) of each sorted row. */
  readonly rowIndex: Uint32Array;
  /** Corpus-wide window id of each sorted row (−1 outside windows). */
  readonly windowId: Int32Array;
}

/** Validates `series` and sorts all their scorable rows by descending score (done once). */
export function prepareSweep(series: readonly ScoredSeries[]): PreparedSweep {
  let total = 0;
  for (const s of series) {
    checkSeries(s);
    total += Math.max(0, s.scores.length - probationOf(s));
  }
  const rawScores = new Float64Array(total);
  const rawSeries = new Uint32Array(total);
  const rawRow = new Uint32Array(total);
  const rawWindow = new Int32Array(total);
  let j = 0;
  let windowBase = 0;
  series.forEach((s, f) => {
    const win = windowIndexOfRows(s.scores.length, s.windows);
    for (let i = probationOf(s); i < s.scores.length; i++, j++) {
      rawScores[j] = s.scores[i]!;
      rawSeries[j] = f;
      rawRow[j] = i;
      rawWindow[j] = win[i]! < 0 ? -1 : windowBase + win[i]!;
    }
    windowBase += s.windows.length;
  });
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((x, y) => rawScores[y]! - rawScores[x]! || x - y);
  const scores = new Float64Array(total);
  const seriesIndex = new Uint32Array(total);
  const rowIndex = new Uint32Array(total);
  const windowId = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    const o = order[i]!;
    scores[i] = rawScores[o]!;
    seriesIndex[i] = rawSeries[o]!;
    rowIndex[i] = rawRow[o]!;
    windowId[i] = rawWindow[o]!;
  }
  return { series, windows: windowBase, scores, seriesIndex, rowIndex, windowId };
}

/**
 * The threshold sweep of SCORING.md §6: evaluates S(θ) at θ = 1.1 ("no detections") and at every
 * distinct score, walking the sorted rows once and updating the total incrementally (a window's
 * contribution only ever rises to its best detected value). Ties go to the largest θ. The total is
 * kept with Neumaier's compensated summation.
 */
export function sweepThreshold(prepared: PreparedSweep, costs: NabCosts): SweepResult {
  const values = prepared.series.map((s) => rowValues(s.scores.length, s.windows, costs));
  const best = new Float64Array(prepared.windows).fill(-costs.fn);
  let sum = -costs.fn * prepared.windows;
  let compensation = 0;
  const add = (x: number): void => {
    const t = sum + x;
    compensation += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  };
  let current = 1.1;
  let bestThreshold = current;
  let bestTotal = -Infinity;
  const { scores, seriesIndex, rowIndex, windowId } = prepared;
  for (let i = 0; i < scores.length; i++) {
    const a = scores[i]!;
    if (a !== current) {
      const total = sum + compensation;
      if (total > bestTotal) {
        bestTotal = total;
        bestThreshold = current;
      }
      current = a;
    }
    const v = values[seriesIndex[i]!]![rowIndex[i]!]!;
    const k = windowId[i]!;
    if (k < 0) add(v);
    else if (v > best[k]!) {
      add(v - best[k]!);
      best[k] = v;
    }
  }
  const total = sum + compensation;
  if (total > bestTotal) {
    bestTotal = total;
    bestThreshold = current;
  }
  return { threshold: bestThreshold, rawScore: bestTotal };
}

/** Options of {@link scoreCorpus}. */
export interface ScoreCorpusOptions {
  /** Profiles to score; default NAB's three. */
  readonly profiles?: Readonly<Record<string, NabCosts>>;
  /** Score at this fixed threshold instead of sweeping (a stricter, out-of-sample style figure). */
  readonly threshold?: number;
}

/**
 * The whole NAB pipeline on a set of files (SCORING.md §6–§9): per profile, the sweep for θ*, the
 * final per-file scores and counts at θ*, the normalised score and event-level metrics.
 */
export function scoreCorpus(series: readonly ScoredSeries[], options: ScoreCorpusOptions = {}): CorpusResult {
  const profiles: Readonly<Record<string, NabCosts>> = options.profiles ?? Object.fromEntries(NAB_PROFILE_NAMES.map((p) => [p, NAB_PROFILES[p]]));
  const prepared = prepareSweep(series);
  const results: Record<string, ProfileResult> = {};
  for (const [profile, costs] of Object.entries(profiles)) {
    const threshold = options.threshold ?? sweepThreshold(prepared, costs).threshold;
    const files = series.map((s) => scoreSeries(s, costs, threshold));
    const sum = (key: 'score' | 'tp' | 'tn' | 'fp' | 'fn'): number => files.reduce((acc, f) => acc + f[key], 0);
    const rawScore = sum('score');
    results[profile] = {
      profile,
      costs,
      threshold,
      rawScore,
      score: nabNormalise(rawScore, costs, prepared.windows),
      tp: sum('tp'),
      tn: sum('tn'),
      fp: sum('fp'),
      fn: sum('fn'),
      files,
      events: eventMetrics(series, threshold),
    };
  }
  const rows = series.reduce((acc, s) => acc + s.scores.length, 0);
  return { windows: prepared.windows, rows, scorableRows: prepared.scores.length, profiles: results };
}

/** Name of a NAB profile, re-exported for callers that only import the scorer. */
export type { NabProfileName };

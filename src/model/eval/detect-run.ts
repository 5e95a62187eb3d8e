/**
 * `detect` on a user's CSV: fit a detector on the first N rows (N = 0: purely online), then score
 * the remaining rows one at a time and turn each score into a decision; write every input row back
 * with `anomaly_score` and `is_anomaly` added.
 *
 * The first N rows are history, not scored: they are written with `anomaly_score` 0 and
 * `is_anomaly` 0.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { Decision, DetectorFactory, FitOptions, Observation } from '../types.ts';
import { scoreCausally } from './causal-run.ts';
import type { CsvTable } from './csv-table.ts';

/** Turns a series' scores into decisions (the post-processor's `decide`). */
export interface Decider {
  decide(score: number, ts: number): Decision;
}

/** Options of {@link runDetect}. */
export interface DetectRunOptions {
  readonly table: CsvTable;
  readonly factory: DetectorFactory;
  /** Rows fitted in batch before scoring starts; default 0. */
  readonly trainRows?: number;
  readonly fitOptions?: FitOptions;
  /** The post-processor for this series; default: anomaly when the score is ≥ 0.5. */
  readonly decider?: Decider;
  readonly onProgress?: (rowsDone: number) => void;
}

/** What {@link runDetect} returns. */
export interface DetectRunResult {
  /** Anomaly score of every row (0 for the training rows). */
  readonly scores: Float64Array;
  /** 1 where the decision was positive. */
  readonly anomalies: Uint8Array;
  readonly trainRows: number;
  readonly detector: string;
}

/** Fits on the first `trainRows` rows of `table`, then scores the rest causally. */
export function runDetect(options: DetectRunOptions): DetectRunResult {
  const { table, factory } = options;
  const n = table.lines.length;
  const trainRows = options.trainRows ?? 0;
  if (!Number.isInteger(trainRows) || trainRows < 0 || trainRows > n) {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `train rows must be an integer in 0..${n} (the rows of ${table.path}), got ${trainRows}`);
  }
  const history: Observation[] = [];
  for (let i = 0; i < trainRows; i++) history.push({ ts: table.timestamps[i]!, values: Object.fromEntries(table.columns.map((c) => [c, table.values[c]![i]!])) });
  const model = factory.fit(history, { features: table.columns, ...options.fitOptions });
  const scores = scoreCausally(model, { timestamps: table.timestamps, values: table.values }, { from: trainRows, ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
  const anomalies = new Uint8Array(n);
  for (let i = trainRows; i < n; i++) {
    const anomaly = options.decider === undefined ? scores[i]! >= 0.5 : options.decider.decide(scores[i]!, table.timestamps[i]!).anomaly;
    anomalies[i] = anomaly ? 1 : 0;
  }
  return { scores, anomalies, trainRows, detector: factory.kind };
}

/** The output CSV: every input line with `anomaly_score` and `is_anomaly` appended. */
export function formatDetectCsv(table: CsvTable, result: DetectRunResult): string {
  const sep = table.separator;
  const out = [`${table.headerLine}${sep}anomaly_score${sep}is_anomaly`];
  for (let i = 0; i < table.lines.length; i++) out.push(`${table.lines[i]}${sep}${result.scores[i]}${sep}${result.anomalies[i]}`);
  return `${out.join('\n')}\n`;
}

/**
 * The NAB evaluation runner: fits a detector on an empty history (NAB is an online benchmark: the
 * detector sees every row, the probationary ones included, one at a time), scores every series
 * causally, writes per-row results in NAB's format, and scores them for the three profiles.
 *
 * Output files: `<outDir>/<category>/<file>.csv` with `timestamp,value,anomaly_score,label`
 * (label 1 inside a window), timestamps and values as in the data files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { DetectorFactory, FitOptions } from '../types.ts';
import { scoreCausally } from './causal-run.ts';
import type { NabCorpus, NabSeries } from './nab-dataset.ts';
import { scoreCorpus, type CorpusResult } from './nab-scorer.ts';
import { windowIndexOfRows } from './nab-windows.ts';

/** Progress of a run, reported while it works. */
export interface NabProgress {
  /** 0-based index of the series being scored. */
  readonly seriesIndex: number;
  readonly seriesCount: number;
  readonly key: string;
  /** Rows of this series scored so far, and its length. */
  readonly seriesRowsDone: number;
  readonly seriesRows: number;
  /** Rows of the corpus scored so far, and its total. */
  readonly rowsDone: number;
  readonly rows: number;
  /** True on the last report of a series. */
  readonly seriesDone: boolean;
}

/** Options of {@link runNabEvaluation}. */
export interface NabRunOptions {
  readonly corpus: NabCorpus;
  readonly factory: DetectorFactory;
  /** Passed to `factory.fit` (features default to `["value"]`); the same for every series. */
  readonly fitOptions?: FitOptions;
  /** Folder for the per-row result files; nothing is written when omitted. */
  readonly outDir?: string;
  readonly onProgress?: (progress: NabProgress) => void;
}

/** The scores of one series. */
export interface NabSeriesRun {
  readonly series: NabSeries;
  /** Anomaly score of every row, in [0, 1]. */
  readonly scores: Float64Array;
  /** Path of the written result file, when one was written. */
  readonly resultPath?: string;
}

/** What {@link runNabEvaluation} returns. */
export interface NabRunResult {
  readonly detector: string;
  readonly runs: readonly NabSeriesRun[];
  readonly result: CorpusResult;
}

/** Runs `factory`'s detector causally over every series of `corpus` and scores the output. */
export function runNabEvaluation(options: NabRunOptions): NabRunResult {
  const { corpus, factory } = options;
  const model = factory.fit([], { features: ['value'], ...options.fitOptions });
  const runs: NabSeriesRun[] = [];
  let before = 0;
  corpus.series.forEach((series, index) => {
    const report = (done: number): void =>
      options.onProgress?.({
        seriesIndex: index,
        seriesCount: corpus.series.length,
        key: series.key,
        seriesRowsDone: done,
        seriesRows: series.values.length,
        rowsDone: before + done,
        rows: corpus.rows,
        seriesDone: done === series.values.length,
      });
    const scores = scoreCausally(model, { timestamps: series.timestamps, values: { value: series.values } }, { onProgress: report });
    before += series.values.length;
    if (options.outDir === undefined) runs.push({ series, scores });
    else runs.push({ series, scores, resultPath: writeNabResult(options.outDir, series, scores) });
  });
  const result = scoreCorpus(runs.map((r) => ({ name: r.series.key, scores: r.scores, windows: r.series.windows })));
  return { detector: factory.kind, runs, result };
}

/** Writes one series' per-row results in NAB's format; returns the file's path. */
export function writeNabResult(outDir: string, series: NabSeries, scores: ArrayLike<number>): string {
  const dir = join(outDir, series.category);
  const path = join(dir, series.file);
  const label = windowIndexOfRows(scores.length, series.windows);
  const lines = ['timestamp,value,anomaly_score,label'];
  for (let i = 0; i < scores.length; i++) lines.push(`${series.timestampText[i]},${series.valueText[i]},${scores[i]},${label[i]! >= 0 ? 1 : 0}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, `${lines.join('\n')}\n`);
  } catch (error) {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `${path}: cannot write the results (${(error as Error).message})`, { cause: error, details: { path } });
  }
  return path;
}

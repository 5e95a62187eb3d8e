/**
 * The NAB evaluation runner: fits a detector (on an empty history, or per series on its probationary
 * rows; see ./nab-fit.ts), scores every series causally, one row at a time (NAB is an online
 * benchmark), optionally turns the raw scores into per-series calibrated likelihoods, writes per-row
 * results in NAB's format, and scores them for the three profiles.
 *
 * Output files: `<outDir>/<category>/<file>.csv` with `timestamp,value,anomaly_score,label`
 * (label 1 inside a window), timestamps and values as in the data files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SluiceError } from '../../errors.ts';
import { createDecider, type DeciderOptions } from '../postprocess.ts';
import type { DetectorFactory, DetectorModel, FitOptions, Observation } from '../types.ts';
import { scoreCausally, type CausalRunOptions } from './causal-run.ts';
import type { NabCorpus, NabSeries } from './nab-dataset.ts';
import { NAB_EVAL_LIKELIHOOD, resolveNabFit, type NabFitMode, type ResolvedNabFitMode } from './nab-fit.ts';
import { nabProbation } from './nab-profiles.ts';
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
  /** `none`, `probation` or `auto` (default; see ./nab-fit.ts). */
  readonly fit?: NabFitMode;
  /**
   * Report each series' calibrated likelihood instead of the raw score: `true` for
   * {@link NAB_EVAL_LIKELIHOOD}, or decider options; default false (raw scores).
   */
  readonly likelihood?: boolean | DeciderOptions;
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
  /** The fit mode that ran (`auto` resolved). */
  readonly fit: ResolvedNabFitMode;
  /** The decider options behind the reported likelihoods, or null for raw scores. */
  readonly likelihood: DeciderOptions | null;
  readonly runs: readonly NabSeriesRun[];
  readonly result: CorpusResult;
}

/** Runs `factory`'s detector causally over every series of `corpus` and scores the output. */
export function runNabEvaluation(options: NabRunOptions): NabRunResult {
  const { corpus, factory } = options;
  const fitOptions: FitOptions = { features: ['value'], ...options.fitOptions };
  const { mode, shared } = resolveNabFit(factory, options.fit ?? 'auto', fitOptions);
  const likelihood = options.likelihood === true ? NAB_EVAL_LIKELIHOOD : options.likelihood === false || options.likelihood === undefined ? null : options.likelihood;
  if (likelihood !== null) createDecider(likelihood); // validates the options before any work
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
    const columns = { timestamps: series.timestamps, values: { value: series.values } };
    const probation = mode === 'probation' ? nabProbation(series.values.length) : 0;
    const model = shared ?? fitOnProbation(factory, series, probation, fitOptions);
    const decider = likelihood === null ? null : createDecider(likelihood);
    const calibrate = decider === null ? {} : { calibrate: (score: number, ts: number) => decider.decide(score, ts).likelihood };
    const run: CausalRunOptions = { onProgress: report, muteBefore: probation, ...calibrate };
    const scores = scoreCausally(model, columns, run);
    before += series.values.length;
    if (options.outDir === undefined) runs.push({ series, scores });
    else runs.push({ series, scores, resultPath: writeNabResult(options.outDir, series, scores) });
  });
  const result = scoreCorpus(runs.map((r) => ({ name: r.series.key, scores: r.scores, windows: r.series.windows })));
  return { detector: factory.kind, fit: mode, likelihood, runs, result };
}

/** A model fitted on the first `rows` rows of `series`; a failed fit is rethrown naming the series. */
function fitOnProbation(factory: DetectorFactory, series: NabSeries, rows: number, fitOptions: FitOptions): DetectorModel {
  const history: Observation[] = [];
  for (let i = 0; i < rows; i++) history.push({ ts: series.timestamps[i]!, values: { value: series.values[i]! } });
  try {
    return factory.fit(history, fitOptions);
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    throw new SluiceError(error.code, `${series.path}: fit on the ${rows} probationary rows failed: ${error.message}`, { cause: error, details: { ...error.details, key: series.key } });
  }
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

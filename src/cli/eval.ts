/**
 * `sluice eval nab`: runs a detector causally over a NAB-layout dataset, writes per-row results in
 * NAB's format, scores them with the NAB scorer (three profiles, threshold swept over all series),
 * prints a table, writes an HTML report and, with `--json`, ends with one JSON line of the scores.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ErrorCode, SluiceError } from '../errors.ts';
import { renderNabReport } from '../model/eval/html-report.ts';
import { readNabCorpus } from '../model/eval/nab-dataset.ts';
import { NAB_FIT_MODES, isNabFitMode } from '../model/eval/nab-fit.ts';
import { NAB_PROFILE_NAMES } from '../model/eval/nab-profiles.ts';
import { runNabEvaluation, type NabProgress } from '../model/eval/nab-runner.ts';
import { scoreCorpus, type CorpusResult } from '../model/eval/nab-scorer.ts';
import { DEFAULT_DETECTOR, detectorFactories, getDetectorFactory } from '../model/registry.ts';
import { UsageError, parseCommand, stringFlag } from './args.ts';
import type { Command } from './command.ts';
import { count, duration, err, out, table } from './output.ts';

const USAGE = `Usage: sluice eval nab --data DIR [--detector NAME] [--fit auto|none|probation] [--likelihood]
                       [--out DIR] [--threshold X] [--json]

Runs a detector over every series of a NAB-layout dataset (data/<category>/<file>.csv and
labels/combined_windows.json) causally: one row at a time, as in production. Writes the per-row
results in NAB's format (timestamp,value,anomaly_score,label) to DIR/<category>/<file>.csv, scores
them with the NAB scorer for the three profiles (one threshold per profile, swept over all series,
as NAB does), prints the scores with row counts and event-level precision/recall/F1, and writes an
HTML report with a chart per series.

Flags:
  --data DIR        the dataset folder (required), e.g. ../shared/datasets/nab
  --detector NAME   detector to run (default ${DEFAULT_DETECTOR}); one of: ${[...detectorFactories.keys()].sort().join(', ')}
  --fit MODE        none: one model fitted on an empty history scores every row of every series;
                    probation: per series, a model fitted on that series' probationary rows (NAB's
                    first min(15%, 750) rows, which NAB never scores), which are replayed to prime
                    the state and reported as 0, then the rest scored one row at a time;
                    auto (default): none, or probation when the detector cannot fit an empty
                    history (isolation-forest)
  --likelihood      report each series' calibrated anomaly likelihood (Numenta's, log scale, one
                    fixed configuration: 10-row average, Gaussian over the last 8640) instead of
                    the raw score; for detectors whose raw scores are not calibrated
  --out DIR         where results and report.html go (default nab-results/<detector>, with
                    -likelihood appended under --likelihood)
  --threshold X     also score at this fixed threshold in [0, 1] (NAB's θ* is tuned on the test data)
  --json            end the output with one JSON line {"standard":…,"reward_low_FP_rate":…,"reward_low_FN_rate":…}

Example:
  sluice eval nab --data ../shared/datasets/nab --detector robust-zscore --out /tmp/nab`;

const FLAGS = {
  data: { type: 'string' },
  detector: { type: 'string' },
  out: { type: 'string' },
  threshold: { type: 'string' },
  fit: { type: 'string' },
  likelihood: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** The `eval` command. */
export const evalCommand: Command = {
  name: 'eval',
  summary: 'evaluate a detector on labelled data (eval nab: the NAB score)',
  usage: USAGE,
  async run(args) {
    const parsed = parseCommand(args, FLAGS, USAGE);
    const [suite, ...extra] = parsed.positionals;
    if (suite === undefined) throw new UsageError('missing benchmark name (only nab is supported)', USAGE);
    if (suite !== 'nab') throw new UsageError(`unknown benchmark ${JSON.stringify(suite)} (only nab is supported)`, USAGE);
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`, USAGE);
    const data = stringFlag(parsed, 'data');
    if (data === undefined) throw new UsageError('missing --data DIR (the NAB dataset folder)', USAGE);
    const detector = stringFlag(parsed, 'detector') ?? DEFAULT_DETECTOR;
    const factory = getDetectorFactory(detector);
    const fit = stringFlag(parsed, 'fit') ?? 'auto';
    if (!isNabFitMode(fit)) throw new UsageError(`--fit must be one of ${NAB_FIT_MODES.join(', ')}, got ${JSON.stringify(fit)}`, USAGE);
    const likelihood = parsed.values.likelihood === true;
    const outDir = resolve(stringFlag(parsed, 'out') ?? join('nab-results', likelihood ? `${detector}-likelihood` : detector));
    const json = parsed.values.json === true;
    const fixedRaw = stringFlag(parsed, 'threshold');
    const fixed = fixedRaw === undefined ? undefined : Number(fixedRaw);
    if (fixed !== undefined && !(fixedRaw!.trim() !== '' && fixed >= 0 && fixed <= 1)) throw new UsageError(`--threshold must be a number in [0, 1], got ${JSON.stringify(fixedRaw)}`, USAGE);

    const started = performance.now();
    const corpus = readNabCorpus(data);
    const progress = progressReporter();
    const run = runNabEvaluation({ corpus, factory, fit, likelihood, outDir, onProgress: progress.update });
    progress.done();
    const seconds = performance.now() - started;
    const scored = run.runs.map((r) => ({ name: r.series.key, scores: r.scores, windows: r.series.windows }));
    const atFixed = fixed === undefined ? undefined : scoreCorpus(scored, { threshold: fixed });

    const reportPath = join(outDir, 'report.html');
    const html = renderNabReport({
      title: `NAB evaluation: ${detector}`,
      detector,
      result: run.result,
      series: run.runs.map((r) => ({ key: r.series.key, values: r.series.values, scores: r.scores, windows: r.series.windows })),
      notes: [`Data: ${resolve(data)}. Causal run, one configuration for all series; thresholds swept per profile over all series (NAB's protocol).`, `Fit: ${describeFit(run.fit)}. Scores: ${run.likelihood === null ? 'raw' : 'calibrated likelihood'}.`],
    });
    writeOut(reportPath, html);
    const summary = { ...summaryJson(detector, run.result), fit: run.fit, likelihood: run.likelihood, ...(atFixed === undefined ? {} : { fixedThreshold: summaryJson(detector, atFixed) }) };
    writeOut(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

    out(`NAB evaluation of ${detector} on ${corpus.series.length} series (${count(corpus.rows)} rows, ${corpus.windows} label windows) in ${duration(seconds)}`);
    out(`fit: ${describeFit(run.fit)}; scores: ${run.likelihood === null ? 'raw' : 'calibrated likelihood (--likelihood)'}`);
    out();
    for (const line of scoreTable(run.result)) out(line);
    out();
    if (atFixed !== undefined) {
      out(`At the fixed threshold ${fixed} (not tuned on the data):`);
      for (const line of scoreTable(atFixed)) out(line);
      out();
    }
    out(`per-row results: ${outDir}/<category>/<file>.csv (${run.runs.length} files)`);
    out(`report:          ${reportPath}`);
    if (json) out(JSON.stringify(Object.fromEntries(NAB_PROFILE_NAMES.map((p) => [p, run.result.profiles[p]!.score]))));
    return 0;
  },
};

function describeFit(mode: string): string {
  return mode === 'probation' ? "probation (per series, on its own probationary rows; those rows report 0)" : 'none (empty history; every row scored online)';
}

/** The printed table: one row per profile. */
function scoreTable(result: CorpusResult): string[] {
  const rows = Object.values(result.profiles).map((p) => [
    p.profile,
    p.score.toFixed(2),
    p.rawScore.toFixed(4),
    p.threshold.toFixed(6),
    count(p.tp),
    count(p.fp),
    count(p.fn),
    p.events.precision.toFixed(3),
    p.events.recall.toFixed(3),
    p.events.f1.toFixed(3),
  ]);
  return table(['profile', 'NAB score', 'raw S(θ*)', 'θ*', 'TP rows', 'FP rows', 'FN rows', 'event P', 'event R', 'event F1'], rows, [false, true, true, true, true, true, true, true, true, true]);
}

function summaryJson(detector: string, result: CorpusResult): Record<string, unknown> {
  return {
    detector,
    windows: result.windows,
    rows: result.rows,
    scorableRows: result.scorableRows,
    profiles: Object.fromEntries(
      Object.values(result.profiles).map((p) => [
        p.profile,
        { score: p.score, rawScore: p.rawScore, threshold: p.threshold, tp: p.tp, tn: p.tn, fp: p.fp, fn: p.fn, events: p.events, files: p.files },
      ]),
    ),
  };
}

function writeOut(path: string, text: string): void {
  try {
    mkdirSync(resolve(path, '..'), { recursive: true });
    writeFileSync(path, text);
  } catch (error) {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `${path}: cannot write (${(error as Error).message})`, { cause: error, details: { path } });
  }
}

/**
 * Progress on stderr: a redrawn bar when stderr is a terminal, otherwise one line per finished
 * series.
 */
function progressReporter(): { update(p: NabProgress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let drawn = false;
  return {
    update(p) {
      if (tty) {
        const width = 30;
        const fraction = p.rows === 0 ? 1 : p.rowsDone / p.rows;
        const filled = Math.round(fraction * width);
        const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
        const line = `  ${bar} ${String(Math.round(fraction * 100)).padStart(3)}%  ${p.seriesIndex + 1}/${p.seriesCount}  ${p.key}`;
        const columns = process.stderr.columns || 100;
        process.stderr.write(`\r\u001b[2K${line.slice(0, Math.max(10, columns - 1))}`);
        drawn = true;
      } else if (p.seriesDone) {
        err(`[${p.seriesIndex + 1}/${p.seriesCount}] ${p.key}: ${count(p.seriesRows)} rows`);
      }
    },
    done() {
      if (drawn) process.stderr.write('\r\u001b[2K');
    },
  };
}

/**
 * The NAB runner end to end with a toy detector on three real NAB series: files written in NAB's
 * format, counts consistent with the scorer, re-scoring the written files gives the same result,
 * and the run is causal (changing future rows never changes past scores).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { scoreCausally } from '../../../src/model/eval/causal-run.ts';
import { renderNabReport } from '../../../src/model/eval/html-report.ts';
import { readNabCorpus, readNabLabels, readNabResults, type NabCorpus } from '../../../src/model/eval/nab-dataset.ts';
import { nabProbation } from '../../../src/model/eval/nab-profiles.ts';
import { runNabEvaluation } from '../../../src/model/eval/nab-runner.ts';
import { scoreCorpus } from '../../../src/model/eval/nab-scorer.ts';
import { toyFactory } from './toy-detector.ts';

const NAB = join(import.meta.dirname, '../../../../shared/datasets/nab');
const skip = existsSync(join(NAB, 'data')) ? false : `NAB dataset not found at ${NAB}`;
const KEYS = ['artificialNoAnomaly/art_flatline.csv', 'artificialWithAnomaly/art_daily_jumpsup.csv', 'realKnownCause/ec2_request_latency_system_failure.csv'];

function subset(corpus: NabCorpus): NabCorpus {
  const series = corpus.series.filter((s) => KEYS.includes(s.key));
  return { ...corpus, series, windows: series.reduce((n, s) => n + s.windows.length, 0), rows: series.reduce((n, s) => n + s.values.length, 0) };
}

test('runNabEvaluation writes NAB-format results whose re-scoring equals the returned result', { skip }, (t) => {
  const out = mkdtempSync(join(tmpdir(), 'sluice-nab-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const corpus = subset(readNabCorpus(NAB));
  assert.equal(corpus.series.length, 3);
  const progress: string[] = [];
  const run = runNabEvaluation({ corpus, factory: toyFactory, outDir: out, onProgress: (p) => p.seriesDone && progress.push(`${p.seriesIndex + 1}/${p.seriesCount} ${p.key} ${p.rowsDone}/${p.rows}`) });
  assert.equal(toyFactory.lastHistory, 0, 'fitted on an empty history');
  assert.deepEqual(toyFactory.lastFeatures, ['value']);
  assert.equal(progress.length, 3);
  assert.match(progress[2]!, new RegExp(`^3/3 .* ${corpus.rows}/${corpus.rows}$`));
  for (const r of run.runs) {
    const path = join(out, r.series.category, r.series.file);
    assert.equal(r.resultPath, path);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'timestamp,value,anomaly_score,label');
    assert.equal(lines.length - 1, r.series.values.length);
    const labelled = lines.slice(1).filter((l) => l.endsWith(',1')).length;
    assert.equal(labelled, r.series.windows.reduce((n, w) => n + w.end - w.start + 1, 0));
    assert.ok(r.scores.every((a) => a >= 0 && a <= 1));
  }
  const scorable = corpus.series.reduce((n, s) => n + s.values.length - nabProbation(s.values.length), 0);
  for (const p of Object.values(run.result.profiles)) {
    assert.equal(p.tp + p.fp + p.tn + p.fn, scorable);
    assert.equal(p.events.windows, corpus.windows);
    assert.ok(p.events.detectedWindows <= corpus.windows);
    assert.ok(Number.isFinite(p.score));
  }
  // The written files, scored as NAB would score them, give the same numbers.
  const reread = readNabResults({ dir: out, labels: readNabLabels(join(NAB, 'labels/combined_windows.json')) });
  assert.deepEqual(reread.map((s) => s.key), [...KEYS].sort());
  const again = scoreCorpus(reread.map((s) => ({ name: s.key, scores: s.scores, windows: s.windows })));
  for (const [name, p] of Object.entries(run.result.profiles)) {
    assert.equal(again.profiles[name]!.threshold, p.threshold);
    assert.equal(again.profiles[name]!.rawScore, p.rawScore);
  }
  const html = renderNabReport({ title: 'NAB', detector: run.detector, result: run.result, series: run.runs.map((r) => ({ key: r.series.key, values: r.series.values, scores: r.scores, windows: r.series.windows })) });
  assert.equal(html.match(/<svg /g)?.length, 3);
  assert.doesNotMatch(html, /<script|src=|href=/);
  assert.ok(html.length < 200_000, `report is ${html.length} bytes`);
});

test('scoring is causal: changing future rows never changes past scores', { skip }, () => {
  const series = readNabCorpus(NAB).series.find((s) => s.key === KEYS[2])!;
  const model = toyFactory.fit([], { features: ['value'] });
  const cut = 2000;
  const base = scoreCausally(model, { timestamps: series.timestamps, values: { value: series.values } });
  const changed = Float64Array.from(series.values, (v, i) => (i >= cut ? v * 10 + 1000 : v));
  const after = scoreCausally(model, { timestamps: series.timestamps, values: { value: changed } });
  assert.deepEqual(after.subarray(0, cut), base.subarray(0, cut));
  assert.notDeepEqual(after.subarray(cut), base.subarray(cut));
});

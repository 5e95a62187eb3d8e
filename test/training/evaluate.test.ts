/**
 * The evaluation on held-back data and the publish rule: the held-back part is the newest of each
 * series and is never fitted; a detector scores the injected copy and the clean copy from the same
 * primed state; a candidate is published unless it is worse than the live model beyond the
 * tolerance, and the reason says which figure decided.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { robustZScore } from '../../src/model/detectors/robust-zscore.ts';
import { judge, evaluateModel, splitForEvaluation, type ModelEvaluation } from '../../src/training/evaluate.ts';
import { TRAINING_DEFAULTS } from '../../src/training/options.ts';
import { fleetTelemetry } from './fleet.ts';
import { SeriesSampler } from '../../src/training/sampler.ts';

const tolerance = { f1: 0.05, falseAlarmsPer1k: 1 };
const evaluation = (f1: number, falseAlarmsPer1k: number, injected = 10, records = 10_000): ModelEvaluation => ({
  f1,
  precision: f1,
  recall: f1,
  falseAlarmsPer1k,
  falseAlarms: (falseAlarmsPer1k * records) / 1000,
  detected: 0,
  injected,
  records,
});

test('the publish rule: no live model, within tolerance, below on F1, above on false alarms', () => {
  assert.deepEqual(judge(evaluation(0.1, 9), null, tolerance), { publish: true, reason: 'no live model to compare with' });
  assert.equal(judge(evaluation(0.76, 2), evaluation(0.8, 1.5), tolerance).publish, true);
  assert.match(judge(evaluation(0.7, 1), evaluation(0.8, 1), tolerance).reason, /^F1 0\.700 is below the live model's 0\.800 − tolerance 0\.05$/);
  const noisy = judge(evaluation(0.9, 3.1), evaluation(0.8, 2), tolerance);
  assert.equal(noisy.publish, false);
  assert.match(noisy.reason, /^3\.100 false alarms per 1,000 records is above the live model's 2\.000 \+ tolerance 1$/);
  const short = judge(evaluation(0.9, 4, 10, 250), evaluation(0.9, 0, 10, 250), tolerance);
  assert.equal(short.publish, true, 'one more alarm in 250 records is not enough to reject');
  const twoMore = judge(evaluation(0.9, 8, 10, 250), evaluation(0.9, 0, 10, 250), tolerance);
  assert.equal(twoMore.publish, false);
  assert.match(twoMore.reason, /^8\.000 false alarms per 1,000 records is above the live model's 0\.000 \+ one alarm \(4\.000\)$/);
  const unmeasured = judge(evaluation(0, 0, 0), evaluation(0, 0, 0), tolerance);
  assert.equal(unmeasured.publish, true);
  assert.match(unmeasured.reason, /F1 not compared/);
});

test('held-back data is the newest part of each series; the injected copy differs only at the anomalies', () => {
  const sampler = new SeriesSampler({ maxRecords: 100_000, maxRecordsPerSeries: 100_000, maxSeries: 10 });
  for (const r of fleetTelemetry({ classes: { pump: ['a', 'b'] }, records: 1_000, start: 0, stepMs: 1_000 })) sampler.add(r, 'class');
  const split = splitForEvaluation(sampler.series(), TRAINING_DEFAULTS.evaluation, 3);
  for (const s of split) {
    assert.equal(s.clean.ts.length, 200);
    assert.equal(s.train.ts.length, 800);
    assert.equal(s.clean.ts[0], s.train.ts[799]! + 1_000, 'held back: the records right after the training part');
    assert.equal(s.prime.ts.length, 800, 'primed with up to primeRecords training records');
    assert.ok(s.anomalies.length >= 1);
  }
  const model = robustZScore.fit([], { features: ['temp', 'vib'] });
  const a = evaluateModel(model, robustZScore, split);
  assert.deepEqual(evaluateModel(model, robustZScore, split), a, 'scoring is deterministic and does not change the split');
  assert.equal(a.injected, split.reduce((n, s) => n + s.anomalies.length, 0));
  assert.ok(a.detected <= a.injected);
});

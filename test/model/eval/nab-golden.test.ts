/**
 * The golden test of SCORING.md on ARTime's stored per-row output (../shared/datasets/nab/results/
 * ARTime/**): per-row values v_i against NAB's `S(t)_<profile>` columns, per-file scores and counts
 * at NAB's stored threshold against `ARTime_<profile>_scores.csv`, and the full sweep over the 35
 * files against the table at the top of SCORING.md. Skips when the dataset is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readNabLabels, readNabResults } from '../../../src/model/eval/nab-dataset.ts';
import { NAB_PROFILES, NAB_PROFILE_NAMES, nabProbation } from '../../../src/model/eval/nab-profiles.ts';
import { scoreCorpus, scoreSeries } from '../../../src/model/eval/nab-scorer.ts';
import { rowValues } from '../../../src/model/eval/nab-windows.ts';

const NAB = join(import.meta.dirname, '../../../../shared/datasets/nab');
const skip = existsSync(join(NAB, 'results/ARTime')) ? false : `NAB dataset not found at ${NAB}`;

// The golden table at the top of SCORING.md (this 35-file copy), as printed there.
const GOLDEN = {
  standard: { threshold: 0.337609, raw: 19.63157, score: 67.8469 },
  reward_low_FP_rate: { threshold: 0.497367, raw: 8.624651, score: 57.8406 },
  reward_low_FN_rate: { threshold: 0.337609, raw: 11.63157, score: 73.7161 },
} as const;

const load = () => {
  const labels = readNabLabels(join(NAB, 'labels/combined_windows.json'));
  return readNabResults({ dir: join(NAB, 'results/ARTime'), labels, prefix: 'ARTime_' });
};

test('ARTime golden test: full sweep over the 35 files gives SCORING.md’s θ*, raw score and NAB score', { skip }, () => {
  const series = load();
  assert.equal(series.length, 35);
  const result = scoreCorpus(series);
  assert.equal(result.windows, 55);
  assert.equal(result.rows, 181_653);
  assert.equal(result.scorableRows, 160_224);
  for (const profile of NAB_PROFILE_NAMES) {
    const got = result.profiles[profile]!;
    const want = GOLDEN[profile];
    // θ* is one of the stored scores: equal to the printed value exactly.
    assert.equal(got.threshold, want.threshold, `${profile} θ*`);
    // Printed with 6 and 4 decimals: agreement to half a unit in the last place.
    assert.ok(Math.abs(got.rawScore - want.raw) <= 5e-7, `${profile} raw ${got.rawScore} vs ${want.raw}`);
    assert.ok(Math.abs(got.score - want.score) <= 5e-5, `${profile} score ${got.score} vs ${want.score}`);
    assert.ok(Math.abs(got.score - (100 * (got.rawScore + got.costs.fn * 55)) / ((got.costs.tp + got.costs.fn) * 55)) <= 1e-12);
    assert.equal(got.tp + got.fn + got.fp + got.tn, 160_224);
  }
});

test('ARTime golden test: per-file scores and counts at NAB’s stored threshold match ARTime_<profile>_scores.csv to 1e-9', { skip }, () => {
  const series = new Map(load().map((s) => [s.key, s]));
  for (const profile of NAB_PROFILE_NAMES) {
    const lines = readFileSync(join(NAB, `results/ARTime/ARTime_${profile}_scores.csv`), 'utf8').trim().split('\n').slice(1);
    assert.equal(lines.length, 35);
    for (const line of lines) {
      const [, , file, threshold, score, tp, tn, fp, fn, total] = line.split(',');
      const s = series.get(file!);
      assert.ok(s, `result file for ${file}`);
      const got = scoreSeries(s, NAB_PROFILES[profile], Number(threshold));
      assert.ok(Math.abs(got.score - Number(score)) <= 1e-9, `${profile} ${file}: ${got.score} vs ${score}`);
      assert.deepEqual([got.tp, got.tn, got.fp, got.fn, got.scorable], [tp, tn, fp, fn, total].map(Number), `${profile} ${file} counts`);
    }
  }
});

test('ARTime golden test: per-row values v_i equal NAB’s S(t)_<profile> columns on every row', { skip }, () => {
  let rows = 0;
  for (const s of load()) {
    for (const profile of NAB_PROFILE_NAMES) {
      const stored = s.extra[`S(t)_${profile}`]!;
      const v = rowValues(s.scores.length, s.windows, NAB_PROFILES[profile]);
      for (let i = 0; i < v.length; i++) {
        if (Math.abs(v[i]! - stored[i]!) > 1e-12) assert.fail(`${s.key} ${profile} row ${i}: ${v[i]} vs ${stored[i]}`);
      }
    }
    rows += s.scores.length;
    assert.ok(nabProbation(s.scores.length) <= 750);
  }
  assert.equal(rows, 181_653);
});

/**
 * The NAB scorer against SCORING.md: the sigmoid's reference values, every synthetic test vector of
 * §11, the probation rule, the sweep's tie rule, and the equivalence of the one-pass sweep with
 * scoring every candidate threshold directly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError } from '../../../src/errors.ts';
import { NAB_PROFILES, nabNormalise, nabProbation, scaledSigmoid } from '../../../src/model/eval/nab-profiles.ts';
import { prepareSweep, scoreCorpus, scoreSeries, sweepThreshold, type ScoredSeries } from '../../../src/model/eval/nab-scorer.ts';

const close = (actual: number, expected: number, tol: number, what: string): void => {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (|Δ| = ${Math.abs(actual - expected)})`);
};

test('scaled sigmoid matches the reference values of SCORING.md §3', () => {
  const ref: [number, number][] = [
    [-1, 0.98661429815143],
    [-0.5, 0.84828363995751],
    [-0.25, 0.55459972234938],
    [0, 0],
    [0.5, -0.84828363995751],
    [0.75, -0.95404526017995],
    [1, -0.98661429815143],
    [2, -0.9999092042626],
    [3, -0.99999938819555],
    [3.0000001, -1],
  ];
  for (const [y, v] of ref) close(scaledSigmoid(y), v, 1e-14, `σ̃(${y})`);
  assert.equal(scaledSigmoid(-1), 0.9866142981514305);
});

test('probationary period: min(⌊0.15·N⌋, 750)', () => {
  assert.equal(nabProbation(4032), 604);
  assert.equal(nabProbation(5000), 750);
  assert.equal(nabProbation(22695), 750);
  assert.equal(nabProbation(10), 1);
});

// SCORING.md §11: P = 0, 0-based rows, inclusive windows.
const VECTORS: {
  name: string;
  n: number;
  windows: [number, number][];
  detected: number[];
  costs: { tp: number; fp: number; fn: number };
  score: number;
  counts: [number, number, number, number]; // TP / FP / TN / FN
}[] = [
  { name: 'A', n: 100, windows: [[30, 34], [65, 69]], detected: [30, 31, 37], costs: { tp: 1, fp: 1, fn: 1 }, score: -0.9540452601799487, counts: [2, 1, 89, 8] },
  { name: 'A-standard', n: 100, windows: [[30, 34], [65, 69]], detected: [30, 31, 37], costs: { tp: 1, fp: 0.11, fn: 1 }, score: -0.10494497861979436, counts: [2, 1, 89, 8] },
  { name: 'A-lowFP', n: 100, windows: [[30, 34], [65, 69]], detected: [30, 31, 37], costs: { tp: 1, fp: 0.22, fn: 1 }, score: -0.20988995723958873, counts: [2, 1, 89, 8] },
  { name: 'A-lowFN', n: 100, windows: [[30, 34], [65, 69]], detected: [30, 31, 37], costs: { tp: 1, fp: 0.11, fn: 2 }, score: -1.1049449786197945, counts: [2, 1, 89, 8] },
  { name: 'B (left edge)', n: 10, windows: [[4, 5]], detected: [4], costs: { tp: 1, fp: 1, fn: 1 }, score: 1.0, counts: [1, 0, 8, 1] },
  { name: "B' (right edge, w = 2)", n: 10, windows: [[4, 5]], detected: [5], costs: { tp: 1, fp: 1, fn: 1 }, score: 0.8597925669097837, counts: [1, 0, 8, 1] },
  { name: 'C (right edge, w = 100)', n: 1000, windows: [[450, 549]], detected: [549], costs: { tp: 1, fp: 1, fn: 1 }, score: 0.025333905068325228, counts: [1, 0, 900, 99] },
  { name: "C' (one row after)", n: 1000, windows: [[450, 549]], detected: [550], costs: { tp: 1, fp: 1, fn: 1 }, score: -1.0252471588601502, counts: [0, 1, 899, 100] },
  { name: 'D (no windows)', n: 1000, windows: [], detected: [0], costs: { tp: 1, fp: 1, fn: 1 }, score: -1.0, counts: [0, 1, 999, 0] },
  { name: 'E (miss only)', n: 1000, windows: [[495, 504]], detected: [], costs: { tp: 1, fp: 1, fn: 1 }, score: -1.0, counts: [0, 0, 990, 10] },
  { name: 'F (mid-window)', n: 1000, windows: [[450, 549]], detected: [500], costs: { tp: 1, fp: 1, fn: 1 }, score: 0.8597925669097837, counts: [1, 0, 900, 99] },
  { name: 'G (FP before first window)', n: 1000, windows: [[450, 549]], detected: [100], costs: { tp: 1, fp: 0.11, fn: 1 }, score: -1.11, counts: [0, 1, 899, 100] },
  { name: 'H (FP > 3 widths after)', n: 1000, windows: [[450, 549]], detected: [900], costs: { tp: 1, fp: 0.11, fn: 1 }, score: -1.11, counts: [0, 1, 899, 100] },
];

function vectorSeries(v: (typeof VECTORS)[number]): ScoredSeries {
  const scores = new Float64Array(v.n);
  for (const i of v.detected) scores[i] = 1;
  return { name: v.name, scores, windows: v.windows.map(([start, end]) => ({ start, end })), probation: 0 };
}

for (const v of VECTORS) {
  test(`test vector ${v.name}`, () => {
    const r = scoreSeries(vectorSeries(v), v.costs, 0.5);
    close(r.score, v.score, 1e-12, 'score');
    assert.deepEqual([r.tp, r.fp, r.tn, r.fn], v.counts);
  });
}

test('probationary rows are never scored nor counted', () => {
  const scores = new Float64Array(100).fill(1);
  const r = scoreSeries({ name: 'p', scores, windows: [{ start: 50, end: 59 }] }, NAB_PROFILES.standard, 0.5);
  assert.equal(r.scorable, 85);
  assert.equal(r.tp + r.fp + r.tn + r.fn, 85);
  assert.equal(r.fp, 75);
});

test('the one-pass sweep equals scoring every candidate threshold directly, ties going to the largest θ', () => {
  // A deterministic pseudo-random corpus with repeated score values (ties) and several windows.
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const series: ScoredSeries[] = [0, 1, 2].map((f) => {
    const n = 300 + 50 * f;
    const scores = Float64Array.from({ length: n }, () => Math.round(rnd() * 40) / 40);
    const windows = f === 2 ? [] : [{ start: 100, end: 129 }, { start: 200 + f, end: 240 }];
    return { name: `s${f}`, scores, windows };
  });
  const prepared = prepareSweep(series);
  for (const costs of [NAB_PROFILES.standard, NAB_PROFILES.reward_low_FP_rate, NAB_PROFILES.reward_low_FN_rate, { tp: 1, fp: 0.001, fn: 1 }]) {
    const candidates = [1.1, ...new Set(series.flatMap((s) => Array.from(s.scores).slice(nabProbation(s.scores.length))))].sort((a, b) => b - a);
    let bestT = Number.NaN;
    let bestS = -Infinity;
    for (const t of candidates) {
      const total = series.reduce((acc, s) => acc + scoreSeries(s, costs, t).score, 0);
      if (total > bestS + 1e-12) {
        bestS = total;
        bestT = t;
      }
    }
    const swept = sweepThreshold(prepared, costs);
    assert.equal(swept.threshold, bestT);
    close(swept.rawScore, bestS, 1e-9, 'raw score');
  }
});

test('a detector that never fires scores the null baseline; the perfect detector scores 100', () => {
  const windows = [{ start: 200, end: 249 }, { start: 400, end: 449 }];
  const nullScores = new Float64Array(600).fill(0.5);
  const perfect = new Float64Array(600);
  for (const w of windows) perfect[w.start] = 1;
  const n = scoreCorpus([{ name: 'n', scores: nullScores, windows }]);
  const p = scoreCorpus([{ name: 'p', scores: perfect, windows }]);
  for (const profile of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']) {
    assert.equal(n.profiles[profile]!.score, 0);
    assert.equal(n.profiles[profile]!.threshold, 1.1);
    assert.equal(p.profiles[profile]!.score, 100);
    assert.equal(p.profiles[profile]!.events.f1, 1);
  }
  close(nabNormalise(46.6344501971, NAB_PROFILES.standard, 116), 70.1011, 1e-4, 'numenta standard (SCORING.md §9)');
});

test('bad input is a typed EVAL_INVALID_DATA error naming the series and row', () => {
  const scores = Float64Array.from([0, 0.5, Number.NaN, 0]);
  assert.throws(
    () => scoreSeries({ name: 'cat/x.csv', scores, windows: [] }, NAB_PROFILES.standard, 0.5),
    (e) => isSluiceError(e, 'SLUICE_EVAL_INVALID_DATA') && /cat\/x\.csv.*row 2/.test(e.message),
  );
  assert.throws(
    () => scoreSeries({ name: 'w', scores: new Float64Array(10), windows: [{ start: 5, end: 6 }, { start: 6, end: 8 }] }, NAB_PROFILES.standard, 0.5),
    (e) => isSluiceError(e, 'SLUICE_EVAL_INVALID_DATA') && /window 1/.test(e.message),
  );
});

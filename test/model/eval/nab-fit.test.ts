/**
 * The NAB runner's fit modes and likelihood option on synthetic series (no dataset needed): with
 * `probation` each series' model is fitted on exactly its probationary rows before any of its rows
 * is scored, those rows report 0, and the run stays causal; `auto` picks `probation` only for a
 * detector that cannot fit an empty history; `likelihood` reports per-series calibrated scores in
 * [0, 1], deterministically.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, SluiceError } from '../../../src/errors.ts';
import { isolationForest } from '../../../src/model/detectors/isolation-forest.ts';
import { scoreCausally } from '../../../src/model/eval/causal-run.ts';
import type { NabCorpus, NabSeries } from '../../../src/model/eval/nab-dataset.ts';
import { NAB_EVAL_LIKELIHOOD, resolveNabFit } from '../../../src/model/eval/nab-fit.ts';
import { nabProbation } from '../../../src/model/eval/nab-profiles.ts';
import { runNabEvaluation } from '../../../src/model/eval/nab-runner.ts';
import { createDecider } from '../../../src/model/postprocess.ts';
import type { DetectorFactory, DetectorModel, Observation } from '../../../src/model/types.ts';
import { toyFactory } from './toy-detector.ts';

const T0 = Date.UTC(2020, 0, 1);
const STEP = 300_000;

/** A noisy daily-ish sine with a level shift inside its one window (deterministic noise). */
function synthetic(key: string, n: number, phase: number): NabSeries {
  let seed = 12345 + phase;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const start = Math.floor(n * 0.7);
  const values = Float64Array.from({ length: n }, (_, i) => 10 + Math.sin((i + phase) / 20) + 0.2 * noise() + (i >= start + 10 && i < start + 30 ? 6 : 0));
  const timestamps = Float64Array.from({ length: n }, (_, i) => T0 + i * STEP);
  const [category, file] = key.split('/') as [string, string];
  return {
    key,
    category,
    file,
    path: `/synthetic/${key}`,
    timestampText: Array.from(timestamps, (t) => new Date(t).toISOString().replace('T', ' ').slice(0, 19)),
    timestamps,
    values,
    valueText: Array.from(values, String),
    windows: [{ start, end: start + 60 }],
  };
}

function corpusOf(series: NabSeries[]): NabCorpus {
  return { root: '/synthetic', series, windows: series.reduce((n, s) => n + s.windows.length, 0), rows: series.reduce((n, s) => n + s.values.length, 0) };
}

const A = synthetic('cat/a.csv', 400, 0);
const B = synthetic('cat/b.csv', 1200, 7);

type Event = { readonly kind: 'fit'; readonly values: number[] } | { readonly kind: 'score'; readonly value: number };

/**
 * A batch-only spy detector: it cannot fit an empty history (MODEL_INVALID /history, as
 * isolation-forest), scores |x − mean of its history| / (1 + that), and logs every fit and score.
 */
function spyFactory(): DetectorFactory & { readonly log: Event[] } {
  const log: Event[] = [];
  return {
    kind: 'spy',
    description: 'spy (tests only)',
    log,
    fit(history: readonly Observation[]): DetectorModel {
      if (history.length < 2) throw new SluiceError(ErrorCode.MODEL_INVALID, `spy: /history needs at least 2 observations, got ${history.length}`, { details: { path: '/history' } });
      const values = history.map((o) => o.values.value!);
      log.push({ kind: 'fit', values });
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      return {
        kind: 'spy',
        features: ['value'],
        newState: () => null,
        score(_state, obs) {
          const x = obs.values.value!;
          log.push({ kind: 'score', value: x });
          const d = Math.abs(x - mean);
          return d / (1 + d);
        },
        explain: () => ({}),
        toParams: () => null,
        stateToJSON: () => null,
        stateFromJSON: () => null,
      };
    },
    fromParams(): DetectorModel {
      throw new Error('unused');
    },
  };
}

test('auto picks probation for a detector that cannot fit an empty history; each series is fitted on exactly its probationary rows first', () => {
  const spy = spyFactory();
  const run = runNabEvaluation({ corpus: corpusOf([A, B]), factory: spy });
  assert.equal(run.fit, 'probation');
  assert.equal(run.likelihood, null);
  let at = 0;
  for (const [k, series] of [A, B].entries()) {
    const n = series.values.length;
    const p = nabProbation(n);
    assert.ok(p >= 60);
    // First the fit, on the probationary rows and nothing else; then every row scored once, in order.
    const fit = spy.log[at]!;
    assert.equal(fit.kind, 'fit', `series ${k}: nothing is scored before the fit`);
    assert.deepEqual(fit.kind === 'fit' ? fit.values : [], Array.from(series.values.subarray(0, p)));
    const scored = spy.log.slice(at + 1, at + 1 + n);
    assert.ok(scored.every((e) => e.kind === 'score'));
    assert.deepEqual(scored.map((e) => (e.kind === 'score' ? e.value : NaN)), Array.from(series.values));
    at += 1 + n;
    const scores = run.runs[k]!.scores;
    assert.ok(scores.subarray(0, p).every((s) => s === 0), 'probationary rows report 0');
    assert.ok(scores.subarray(p).some((s) => s > 0));
    assert.ok(scores.every((s) => s >= 0 && s <= 1));
  }
  assert.equal(spy.log.length, at);
  // The scored rows are what the model fitted on the probationary rows says, row by row.
  const model = spyFactory().fit(Array.from(A.values.subarray(0, nabProbation(400)), (v, i) => ({ ts: A.timestamps[i]!, values: { value: v } })));
  const direct = scoreCausally(model, { timestamps: A.timestamps, values: { value: A.values } }, { muteBefore: nabProbation(400) });
  assert.deepEqual(run.runs[0]!.scores, direct);
});

test('fit modes: none keeps one empty-history model and fails for a batch-only detector; probation fits any detector per series', () => {
  const none = runNabEvaluation({ corpus: corpusOf([A]), factory: toyFactory });
  assert.equal(none.fit, 'none');
  assert.equal(toyFactory.lastHistory, 0);
  assert.ok(none.runs[0]!.scores.subarray(0, nabProbation(400)).some((s) => s > 0), 'with none, probationary rows are scored');
  assert.throws(() => runNabEvaluation({ corpus: corpusOf([A]), factory: spyFactory(), fit: 'none' }), (e: unknown) => e instanceof SluiceError && e.code === ErrorCode.MODEL_INVALID);
  const probation = runNabEvaluation({ corpus: corpusOf([A, B]), factory: toyFactory, fit: 'probation' });
  assert.equal(probation.fit, 'probation');
  assert.equal(toyFactory.lastHistory, nabProbation(1200));
  assert.throws(() => resolveNabFit(toyFactory, 'later' as 'auto', {}), (e: unknown) => e instanceof SluiceError && e.code === ErrorCode.INVALID_ARGUMENT && /fit mode/.test(e.message));
  // A series too short to fit on its probation names the file.
  const tiny = synthetic('cat/tiny.csv', 12, 0);
  assert.throws(() => runNabEvaluation({ corpus: corpusOf([{ ...tiny, windows: [] }]), factory: spyFactory() }), (e: unknown) => e instanceof SluiceError && e.code === ErrorCode.MODEL_INVALID && e.message.includes('/synthetic/cat/tiny.csv') && e.message.includes('1 probationary rows'));
});

test('the probation run is causal: changing rows after a cut never changes the scores before it', () => {
  const cut = 900;
  const changed: NabSeries = { ...B, values: Float64Array.from(B.values, (v, i) => (i >= cut ? v * 3 - 40 : v)) };
  for (const likelihood of [false, true]) {
    const base = runNabEvaluation({ corpus: corpusOf([B]), factory: isolationForest, likelihood }).runs[0]!.scores;
    const after = runNabEvaluation({ corpus: corpusOf([changed]), factory: isolationForest, likelihood }).runs[0]!.scores;
    assert.deepEqual(after.subarray(0, cut), base.subarray(0, cut));
    assert.notDeepEqual(after.subarray(cut), base.subarray(cut));
  }
});

test('likelihood scores are in [0, 1], deterministic, per series, and are the decider over the raw scores', () => {
  const corpus = corpusOf([A, B]);
  const raw = runNabEvaluation({ corpus, factory: isolationForest });
  const one = runNabEvaluation({ corpus, factory: isolationForest, likelihood: true });
  const two = runNabEvaluation({ corpus, factory: isolationForest, likelihood: true });
  assert.equal(raw.fit, 'probation');
  assert.deepEqual(one.likelihood, NAB_EVAL_LIKELIHOOD);
  for (const [k, r] of one.runs.entries()) {
    assert.ok(r.scores.every((s) => s >= 0 && s <= 1 && !Number.isNaN(s)));
    assert.deepEqual(r.scores, two.runs[k]!.scores, 'deterministic');
    assert.notDeepEqual(r.scores, raw.runs[k]!.scores);
  }
  // Series B alone gets the same likelihoods as after A: the decider's state is per series.
  const alone = runNabEvaluation({ corpus: corpusOf([B]), factory: isolationForest, likelihood: true });
  assert.deepEqual(alone.runs[0]!.scores, one.runs[1]!.scores);
  // Recompute B's likelihoods from an unmuted raw run: the decider sees every raw score, the
  // probationary replay included, and the probationary rows report 0.
  const p = nabProbation(B.values.length);
  const model = isolationForest.fit(Array.from(B.values.subarray(0, p), (v, i) => ({ ts: B.timestamps[i]!, values: { value: v } })), { features: ['value'] });
  const rawB = scoreCausally(model, { timestamps: B.timestamps, values: { value: B.values } });
  const decider = createDecider(NAB_EVAL_LIKELIHOOD);
  const expected = Float64Array.from(rawB, (s, i) => {
    const likelihood = decider.decide(s, B.timestamps[i]!).likelihood;
    return i < p ? 0 : likelihood;
  });
  assert.deepEqual(one.runs[1]!.scores, expected);
  // The level shift inside the window stands out in the likelihood.
  const w = B.windows[0]!;
  const inWindow = Math.max(...one.runs[1]!.scores.subarray(w.start, w.end + 1));
  const before = Math.max(...one.runs[1]!.scores.subarray(p, w.start));
  assert.ok(inWindow > before, `max likelihood in the window ${inWindow} vs before it ${before}`);
  assert.throws(() => runNabEvaluation({ corpus, factory: toyFactory, likelihood: { window: 0 } }), (e: unknown) => e instanceof SluiceError && e.code === ErrorCode.INVALID_ARGUMENT && /window/.test(e.message));
});

test('scoreCausally: muted rows are learnt but report 0, and calibrate sees every scored row in order', () => {
  const model = toyFactory.fit([], { features: ['value'] });
  const series = { timestamps: A.timestamps, values: { value: A.values } };
  const plain = scoreCausally(model, series);
  const seen: number[] = [];
  const muted = scoreCausally(model, series, {
    muteBefore: 50,
    calibrate: (s, ts) => {
      seen.push(ts);
      return s * 2;
    },
  });
  assert.deepEqual(seen, Array.from(A.timestamps));
  assert.ok(muted.subarray(0, 50).every((s) => s === 0));
  assert.deepEqual(muted.subarray(50), plain.subarray(50).map((s) => Math.min(1, s * 2)));
});

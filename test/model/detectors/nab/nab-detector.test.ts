import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { isSluiceError } from '../../../../src/errors.ts';
import { nabDetectorFactory, NAB_KIND } from '../../../../src/model/detectors/nab/index.ts';
import { readNabCorpus, runNabEvaluation } from '../../../../src/model/eval/index.ts';
import type { JsonValue, Observation } from '../../../../src/model/types.ts';

const NAB = '../shared/datasets/nab';
const FIVE_MIN = 300_000;

/** A daily sine with noise from a small LCG, and a level shift at `shiftAt`. */
function series(n: number, shiftAt = -1): Observation[] {
  let seed = 12345;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
  const out: Observation[] = [];
  for (let i = 0; i < n; i++) {
    const v = 10 + 5 * Math.sin((2 * Math.PI * i) / 288) + rnd() + (shiftAt >= 0 && i >= shiftAt ? 20 : 0);
    out.push({ ts: Date.UTC(2024, 0, 1) + i * FIVE_MIN, values: { value: v, other: -v / 2 + rnd() } });
  }
  return out;
}

test('scores stay in [0, 1] and a level shift raises an alarm', () => {
  const model = nabDetectorFactory.fit([], { features: ['value'] });
  assert.equal(model.kind, NAB_KIND);
  const state = model.newState();
  const scores = series(2000, 1500).map((o) => model.score(state, o));
  for (const s of scores) assert.ok(s >= 0 && s <= 1);
  assert.ok(Math.max(...scores.slice(1500, 1510)) >= 0.35, 'the shift is flagged at once');
  assert.ok(Math.max(...scores.slice(600, 1500)) < Math.max(...scores.slice(1500, 1510)));
});

test('state and parameters round-trip through JSON with identical scores', () => {
  const data = series(1200, 900);
  const model = nabDetectorFactory.fit(data.slice(0, 10), { hyperparameters: { refractory: 100 } });
  assert.deepEqual(model.features, ['other', 'value']);
  const a = model.newState();
  for (const o of data.slice(0, 700)) model.score(a, o);
  const copy = nabDetectorFactory.fromParams(JSON.parse(JSON.stringify(model.toParams())), model.features);
  const b = copy.stateFromJSON(JSON.parse(JSON.stringify(model.stateToJSON(a))) as JsonValue);
  for (const o of data.slice(700)) assert.equal(copy.score(b, o), model.score(a, o));
  assert.deepEqual(copy.stateToJSON(b), model.stateToJSON(a));
});

test('NaN, ±Infinity and missing metrics never throw nor give NaN, and are skipped', () => {
  const model = nabDetectorFactory.fit([], { features: ['value', 'other'] });
  const state = model.newState();
  const clean = model.newState();
  const data = series(800);
  for (const [i, o] of data.entries()) {
    const bad: Observation[] = [
      { ts: o.ts, values: { value: Number.NaN, other: Number.POSITIVE_INFINITY } },
      { ts: o.ts, values: {} },
      { ts: Number.NaN, values: { value: Number.NEGATIVE_INFINITY } },
    ];
    if (i % 50 === 7) for (const b of bad) {
      const s = model.score(state, b);
      assert.ok(s >= 0 && s <= 1, `score ${s}`);
    }
    const s = model.score(state, o);
    model.score(clean, o);
    assert.ok(s >= 0 && s <= 1);
  }
  // Skipped records leave the learnt per-metric state untouched.
  const j = model.stateToJSON(state) as { feats: JsonValue };
  const k = model.stateToJSON(clean) as { feats: JsonValue };
  assert.deepEqual(j.feats, k.feats);
  assert.doesNotThrow(() => model.stateFromJSON(JSON.parse(JSON.stringify(model.stateToJSON(state))) as JsonValue));
  // Extreme finite values stay finite too.
  for (const v of [1e300, -1e300, 5e-324]) assert.ok(Number.isFinite(model.score(state, { ts: 0, values: { value: v, other: v } })));
});

test('causal: changing future rows never changes past scores', () => {
  const model = nabDetectorFactory.fit([], { features: ['value'] });
  const base = series(1000);
  const altered = base.map((o, i) => (i >= 600 ? { ts: o.ts, values: { value: 1000 - i } } : o));
  const s1 = model.newState();
  const s2 = model.newState();
  const a = base.map((o) => model.score(s1, o));
  const b = altered.map((o) => model.score(s2, o));
  assert.deepEqual(a.slice(0, 600), b.slice(0, 600));
  assert.notDeepEqual(a.slice(600), b.slice(600));
});

test('invalid hyperparameters and states are MODEL_INVALID errors naming the field', () => {
  assert.throws(
    () => nabDetectorFactory.fit([], { features: ['value'], hyperparameters: { bins: 1 } }),
    (e: unknown) => isSluiceError(e, 'SLUICE_MODEL_INVALID') && e.message.includes('hyperparameters/bins'),
  );
  assert.throws(() => nabDetectorFactory.fromParams({ nope: 1 }, ['value']), (e: unknown) => isSluiceError(e, 'SLUICE_MODEL_INVALID') && e.message.includes('params/nope'));
  assert.throws(() => nabDetectorFactory.fit([]), (e: unknown) => isSluiceError(e, 'SLUICE_MODEL_INVALID'));
  const model = nabDetectorFactory.fit([], { features: ['value'] });
  const good = JSON.parse(JSON.stringify(model.stateToJSON(model.newState()))) as { feats: { contexts: { pair: number[] }[] }[] };
  good.feats[0]!.contexts[3]!.pair.pop();
  assert.throws(() => model.stateFromJSON(good as unknown as JsonValue), (e: unknown) => isSluiceError(e, 'SLUICE_MODEL_INVALID') && e.message.includes('state/feats/0/contexts/3/pair'));
  assert.throws(() => model.stateFromJSON(null), (e: unknown) => isSluiceError(e, 'SLUICE_MODEL_INVALID'));
  const sea = JSON.parse(JSON.stringify(model.stateToJSON(model.newState()))) as { feats: { prof: number[] }[] };
  sea.feats[0]!.prof[5] = Number.NaN;
  assert.throws(() => model.stateFromJSON(sea as unknown as JsonValue), (e: unknown) => isSluiceError(e, 'SLUICE_MODEL_INVALID') && e.message.includes('state/feats/0/prof/5'));
  assert.throws(
    () => nabDetectorFactory.fit([], { features: ['value'], hyperparameters: { ensemble: 0 } }),
    (e: unknown) => isSluiceError(e, 'SLUICE_MODEL_INVALID') && e.message.includes('hyperparameters/ensemble'),
  );
  // A state saved with another ensemble size is refused, naming the path.
  const one = nabDetectorFactory.fit([], { features: ['value'], hyperparameters: { ensemble: 1 } });
  assert.throws(
    () => model.stateFromJSON(one.stateToJSON(one.newState())),
    (e: unknown) => isSluiceError(e, 'SLUICE_MODEL_INVALID') && e.message.includes('state/feats/0/contexts'),
  );
});

test('NAB standard profile on the 35 series with the exact scorer', { skip: existsSync(NAB) ? false : `${NAB} is absent` }, () => {
  const corpus = readNabCorpus(NAB);
  const { result } = runNabEvaluation({ corpus, factory: nabDetectorFactory });
  const standard = result.profiles.standard!.score;
  // Measured 66.38 / 62.16 / 69.71 (docs/nab-detector.md); HTM scores 66.59 and ARTime 67.85 on these files.
  assert.ok(standard >= 66.2, `standard ${standard}`);
  assert.ok(result.profiles.reward_low_FP_rate!.score >= 62.0, `low FP ${result.profiles.reward_low_FP_rate!.score}`);
  assert.ok(result.profiles.reward_low_FN_rate!.score >= 69.5, `low FN ${result.profiles.reward_low_FN_rate!.score}`);
});

test('the context-table ensemble makes the NAB score robust to the hash seeds', { skip: existsSync(NAB) ? false : `${NAB} is absent` }, () => {
  // One table's collisions are arbitrary: across seeds a single table scored 63.4 to 66.4; the average
  // of 8 tables 66.4 to 67.2 (8 seeds each, docs/nab-detector.md). Three disjoint seed sets here.
  const corpus = readNabCorpus(NAB);
  const scores = [1000, 2000, 3000].map((seed) => {
    const { result } = runNabEvaluation({ corpus, factory: nabDetectorFactory, fitOptions: { hyperparameters: { seed } } });
    return result.profiles.standard!.score;
  });
  assert.ok(Math.min(...scores) >= 66.0, `standard by seed ${scores.join(', ')}`);
  assert.ok(Math.max(...scores) - Math.min(...scores) <= 1.5, `standard by seed ${scores.join(', ')}`);
});

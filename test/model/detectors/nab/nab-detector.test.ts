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
  const sc = JSON.parse(JSON.stringify(model.stateToJSON(model.newState()))) as { feats: { scales: { tables: { ctx: number[] }[] }[] }[] };
  sc.feats[0]!.scales[2]!.tables[1]!.ctx.push(0);
  assert.throws(() => model.stateFromJSON(sc as unknown as JsonValue), (e: unknown) => isSluiceError(e, 'SLUICE_MODEL_INVALID') && e.message.includes('state/feats/0/scales/2/tables/1/ctx'));
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
  // Measured 68.07 / 63.75 / 71.44 (docs/nab-detector.md); HTM scores 66.59 and ARTime 67.85 on these files.
  assert.ok(standard >= 67.9, `standard ${standard}`);
  assert.ok(result.profiles.reward_low_FP_rate!.score >= 63.5, `low FP ${result.profiles.reward_low_FP_rate!.score}`);
  assert.ok(result.profiles.reward_low_FN_rate!.score >= 71.2, `low FN ${result.profiles.reward_low_FN_rate!.score}`);
});

test('NAB scores stay close under other hash seeds, and the multi-scale view adds to them', { skip: existsSync(NAB) ? false : `${NAB} is absent` }, () => {
  // Which contexts collide in a hashed table is arbitrary. With one table the standard score ranged
  // from 63.4 to 66.4 across seed sets; with 8 tables (and 4 per scale) it ranges from 66.2 to 68.1 over
  // 8 seed sets, mean 67.6 (docs/nab-detector.md). Three other seed sets here (measured 67.66, 67.97, 67.78).
  const corpus = readNabCorpus(NAB);
  const standard = (hyperparameters: Record<string, number>): number =>
    runNabEvaluation({ corpus, factory: nabDetectorFactory, fitOptions: { hyperparameters } }).result.profiles.standard!.score;
  const scores = [1000, 2000, 3000].map((seed) => standard({ seed }));
  assert.ok(Math.min(...scores) >= 67.4, `standard by seed ${scores.join(', ')}`);
  assert.ok(Math.max(...scores) - Math.min(...scores) <= 1.0, `standard by seed ${scores.join(', ')}`);
  // Without the multi-scale view (measured 66.38 on the default seed).
  assert.ok(standard({ scales: 0 }) < Math.min(...scores), 'the multi-scale context view adds to the score');
});

test('multi-scale view: block means of 2, 4 and 8 records, a p-value held between block ends', () => {
  const model = nabDetectorFactory.fit([], { features: ['value'], hyperparameters: { views: 16, warmup: 0 } });
  const state = model.newState();
  const data = series(3000);
  const scores = data.map((o) => model.score(state, o));
  const j = model.stateToJSON(state) as { feats: { scales: { count: number; tables: { pair: number[] }[]; lik: { ring: number[] } }[] }[] };
  const scales = j.feats[0]!.scales;
  assert.deepEqual(scales.map((s) => s.count), [3000 % 2, 3000 % 4, 3000 % 8]);
  assert.deepEqual(scales.map((s) => s.tables[0]!.pair.length), [2048, 1024, 512]);
  assert.deepEqual(scales.map((s) => s.lik.ring.length), [10, 5, 3]);
  // Between block ends of the shortest scale (odd rows: a block of 2 has not completed) the view's
  // p-value, hence the score, cannot change unless the refractory period starts or ends.
  const quiet = model.newState();
  const plain = nabDetectorFactory.fit([], { features: ['value'], hyperparameters: { views: 16, warmup: 0, refractory: 0 } });
  const raw = data.slice(0, 1000).map((o) => plain.score(quiet, o));
  for (let i = 2; i < raw.length; i += 2) assert.equal(raw[i], raw[i - 1], `row ${i}`);
  assert.ok(raw.some((v) => v > 0) && scores.every((v) => v >= 0 && v <= 1));
});

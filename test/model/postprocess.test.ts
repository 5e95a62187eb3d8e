import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { DECIDER_DEFAULTS, createDecider, deciderFromJSON, logLikelihood, type Decider, type DeciderOptions } from '../../src/model/index.ts';
import { erfc, normalTail } from '../../src/model/postprocess-gaussian.ts';
import { createRng } from '../../src/model/detectors/common/prng.ts';
import { expectCode } from '../helpers.ts';

/** A seeded generator for reproducible synthetic scores (the detectors' own PRNG). */
function rng(seed: number): () => number {
  return createRng(seed).next;
}

/** Anomaly flags of `decider` over `scores` at one record a minute. */
function run(decider: Decider, scores: readonly number[], start = 0, step = 60_000): boolean[] {
  return scores.map((s, i) => decider.decide(s, start + i * step).anomaly);
}

const RAW: DeciderOptions = { calibration: 'none', warmup: 0, high: 0.8, low: 0.4 };

describe('decider: hysteresis, gap, warm-up', () => {
  test('raises at ≥ high, stays raised until < low, then can raise again (onset reporting)', () => {
    const d = createDecider(RAW);
    const scores = [0.1, 0.8, 0.7, 0.95, 0.5, 0.39, 0.6, 0.85, 0.85, 0.1];
    const active: boolean[] = [];
    const flags = scores.map((s, i) => {
      const f = d.decide(s, i).anomaly;
      active.push(d.active);
      return f;
    });
    assert.deepEqual(flags, [false, true, false, false, false, false, false, true, false, false]);
    assert.deepEqual(active, [false, true, true, true, true, false, false, true, true, false]);
  });

  test("report 'active' marks every record while the alarm is raised", () => {
    const d = createDecider({ ...RAW, report: 'active' });
    assert.deepEqual(run(d, [0.1, 0.9, 0.5, 0.41, 0.2, 0.9]), [false, true, true, true, false, true]);
  });

  test('minGapMs (event time) suppresses a new alarm too soon after the last; a persistent excursion raises once the gap passed', () => {
    const d = createDecider({ ...RAW, minGapMs: 1000 });
    const at = (score: number, ts: number): boolean => d.decide(score, ts).anomaly;
    assert.equal(at(0.9, 0), true);
    assert.equal(at(0.1, 100), false);
    assert.equal(at(0.9, 500), false, 'within the gap');
    assert.equal(d.active, false);
    assert.equal(at(0.9, 999), false);
    assert.equal(at(0.9, 1000), true, 'gap passed, still high');
    assert.equal(at(0.1, 1100), false);
    assert.equal(at(0.9, 5000), true);
  });

  test('no decision during warm-up: likelihood 0.5, anomaly false, whatever the scores', () => {
    const d = createDecider({ ...RAW, warmup: 5 });
    const out = [1, 1, 1, 1, 1].map((s, i) => d.decide(s, i));
    assert.ok(out.every((x) => x.likelihood === 0.5 && !x.anomaly));
    assert.equal(d.decide(1, 5).anomaly, true, 'first decision after warm-up');
  });

  test('NaN and ±Infinity (score or ts) never throw, change no state, and are not anomalies', () => {
    const d = createDecider({ warmup: 3, window: 50 });
    const r = rng(1);
    for (let i = 0; i < 100; i++) d.decide(r() * 0.1, i);
    const before = JSON.stringify(d.toJSON());
    const last = d.decide(0.05, 100).likelihood;
    const after = JSON.stringify(d.toJSON());
    for (const [s, ts] of [[Number.NaN, 101], [Infinity, 101], [-Infinity, 101], [0.99, Number.NaN], [0.99, Infinity]] as const) {
      const out = d.decide(s, ts);
      assert.equal(out.anomaly, false);
      assert.equal(out.likelihood, last);
    }
    assert.notEqual(before, after);
    assert.equal(JSON.stringify(d.toJSON()), after);
    assert.equal(createDecider().decide(Number.NaN, 0).likelihood, 0.5);
  });
});

describe('decider: calibration (anomaly likelihood)', () => {
  test('matches the Gaussian tail of the smoothed-score history (probability and log scales)', () => {
    // History of alternating 0.2 / 0.4: mean 0.3, variance 0.01; a score of 0.5 is z = 2.
    const opts = { shortWindow: 1, window: 100, minMean: 0, minVariance: 1e-12, warmup: 0 } as const;
    const prob = createDecider({ ...opts, scale: 'probability' });
    const log = createDecider({ ...opts, scale: 'log' });
    for (let i = 0; i < 100; i++) {
      prob.decide(i % 2 === 0 ? 0.2 : 0.4, i);
      log.decide(i % 2 === 0 ? 0.2 : 0.4, i);
    }
    const phi2 = 0.9772498680518208; // Φ(2)
    assert.ok(Math.abs(prob.decide(0.5, 100).likelihood - phi2) < 1e-6);
    assert.ok(Math.abs(log.decide(0.5, 100).likelihood - Math.log(1 - phi2 + 1e-10) / Math.log(1e-10)) < 1e-5);
  });

  test('on noisy scores it stays quiet, and flags a sustained jump', () => {
    const r = rng(42);
    const d = createDecider({ warmup: 300, window: 500 });
    const noise = Array.from({ length: 3000 }, () => 0.2 * r());
    const falseAlarms = run(d, noise).filter(Boolean).length;
    assert.ok(falseAlarms <= 3, `false alarms on noise: ${falseAlarms}`);
    const spike = run(d, Array.from({ length: 10 }, () => 0.9 + 0.1 * r()), 3000 * 60_000);
    assert.equal(spike.filter(Boolean).length, 1, 'one alarm for one excursion');
    assert.ok(spike.indexOf(true) <= 3, `raised early: at ${spike.indexOf(true)}`);
  });

  test('a flat history does not turn a tiny blip into an alarm (mean and variance floors)', () => {
    const d = createDecider({ warmup: 10 });
    run(d, Array.from({ length: 500 }, () => 0));
    assert.equal(run(d, [0.02, 0.02, 0.02], 500 * 60_000).some(Boolean), false);
  });

  test('memory is bounded by window + shortWindow', () => {
    const d = createDecider({ window: 64, shortWindow: 4, warmup: 0 });
    const r = rng(3);
    for (let i = 0; i < 5000; i++) d.decide(r(), i);
    const json = d.toJSON() as { long: { values: number[] }; short: { values: number[] } };
    assert.equal(json.long.values.length, 64);
    assert.equal(json.short.values.length, 4);
  });

  test('erfc and the normal tail match reference values', () => {
    const cases: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [3, 2.209049699858544e-5],
      [5, 1.5374597944280349e-12],
      [-1, 1.8427007929497148],
    ];
    for (const [x, want] of cases) assert.ok(Math.abs(erfc(x) - want) <= 1.2e-7 * want, `erfc(${x})`);
    assert.ok(Math.abs(normalTail(0) - 0.5) < 1e-7);
    assert.equal(logLikelihood(1e-5), Math.log(1e-5 + 1e-10) / Math.log(1e-10));
    assert.equal(logLikelihood(1), 0, 'clamped to [0, 1]');
    assert.equal(logLikelihood(0), 1);
  });
});

describe('decider: options and JSON', () => {
  test('defaults are applied and exposed', () => {
    assert.deepEqual(createDecider().options, DECIDER_DEFAULTS);
    assert.equal(createDecider({ warmup: 7 }).options.warmup, 7);
  });

  test('bad options → INVALID_ARGUMENT naming the option', async () => {
    const cases: [DeciderOptions, string][] = [
      [{ window: 0 }, 'window'],
      [{ window: 1.5 }, 'window'],
      [{ window: 1e6 }, 'window'],
      [{ shortWindow: 0 }, 'shortWindow'],
      [{ window: 5, shortWindow: 6 }, 'shortWindow'],
      [{ warmup: -1 }, 'warmup'],
      [{ high: 0 }, 'high'],
      [{ high: 1.5 }, 'high'],
      [{ high: Number.NaN }, 'high'],
      [{ high: 0.5, low: 0.6 }, 'low'],
      [{ low: -0.1 }, 'low'],
      [{ minGapMs: -1 }, 'minGapMs'],
      [{ minVariance: 0 }, 'minVariance'],
      [{ minMean: Infinity }, 'minMean'],
      [{ calibration: 'magic' as never }, 'calibration'],
      [{ scale: 'db' as never }, 'scale'],
      [{ report: 'all' as never }, 'report'],
      [{ threshold: 0.5 } as never, "unknown option 'threshold'"],
    ];
    for (const [options, name] of cases) await expectCode(() => createDecider(options), ErrorCode.INVALID_ARGUMENT, name);
  });

  test('toJSON → JSON → deciderFromJSON continues with identical decisions', () => {
    const r = rng(9);
    const scores = Array.from({ length: 1500 }, (_, i) => (i % 400 > 390 ? 0.95 : 0.3 * r()));
    const options: DeciderOptions = { window: 200, shortWindow: 5, warmup: 50, minGapMs: 120_000, report: 'active' };
    const a = createDecider(options);
    const first = scores.slice(0, 700).map((s, i) => a.decide(s, i * 60_000));
    assert.ok(first.some((x) => x.anomaly));
    const b = deciderFromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    assert.deepEqual(b.options, a.options);
    const rest = scores.slice(700).map((s, i) => ({ s, ts: (700 + i) * 60_000 }));
    assert.deepEqual(
      rest.map(({ s, ts }) => b.decide(s, ts)),
      rest.map(({ s, ts }) => a.decide(s, ts)),
    );
  });

  test('state round-trips when rounding left a running sum of squares a hair below zero', () => {
    // 0.9² + 0.3² added, then both subtracted again as zeros push them out of the 10-score ring.
    const a = createDecider({ calibration: 'none', high: 0.5, low: 0.5, warmup: 0 });
    [0.9, 0.3, ...Array.from({ length: 10 }, () => 0)].forEach((s, i) => a.decide(s, i));
    const json = a.toJSON() as { short: { sumSq: number } };
    assert.ok(json.short.sumSq < 0, `the case under test: sumSq ${json.short.sumSq}`);
    const b = deciderFromJSON(JSON.parse(JSON.stringify(json)));
    assert.deepEqual([0.7, 0, 0.2].map((s, i) => b.decide(s, 20 + i)), [0.7, 0, 0.2].map((s, i) => a.decide(s, 20 + i)));
  });

  test('malformed state → MODEL_INVALID naming the path', async () => {
    const good = createDecider({ window: 4, shortWindow: 2, warmup: 0 });
    for (let i = 0; i < 10; i++) good.decide(0.1 * i, i);
    const json = JSON.parse(JSON.stringify(good.toJSON())) as Record<string, any>;
    const mutate = (f: (j: Record<string, any>) => void): unknown => {
      const j = structuredClone(json);
      f(j);
      return j;
    };
    deciderFromJSON(json);
    await expectCode(() => deciderFromJSON(null), ErrorCode.MODEL_INVALID, '/');
    await expectCode(() => deciderFromJSON(mutate((j) => (j.v = 2))), ErrorCode.MODEL_INVALID, '/v');
    await expectCode(() => deciderFromJSON(mutate((j) => (j.options.window = -1))), ErrorCode.MODEL_INVALID, 'window');
    await expectCode(() => deciderFromJSON(mutate((j) => j.long.values.push(1))), ErrorCode.MODEL_INVALID, '/long/values');
    await expectCode(() => deciderFromJSON(mutate((j) => (j.short.values[0] = 'x'))), ErrorCode.MODEL_INVALID, '/short/values/0');
    await expectCode(() => deciderFromJSON(mutate((j) => (j.long.sum = null))), ErrorCode.MODEL_INVALID, '/long/sum');
    await expectCode(() => deciderFromJSON(mutate((j) => (j.long.sumSq = -0.01))), ErrorCode.MODEL_INVALID, '/long/sumSq', 'must not be negative');
    await expectCode(() => deciderFromJSON(mutate((j) => (j.long.sinceExact = 4))), ErrorCode.MODEL_INVALID, '/long/sinceExact');
    await expectCode(() => deciderFromJSON(mutate((j) => (j.seen = -1))), ErrorCode.MODEL_INVALID, '/seen');
    await expectCode(() => deciderFromJSON(mutate((j) => (j.active = 1))), ErrorCode.MODEL_INVALID, '/active');
    await expectCode(() => deciderFromJSON(mutate((j) => (j.lastAlarmTs = 'now'))), ErrorCode.MODEL_INVALID, '/lastAlarmTs');
    await expectCode(() => deciderFromJSON(mutate((j) => (j.lastLikelihood = 2))), ErrorCode.MODEL_INVALID, '/lastLikelihood');
  });
});

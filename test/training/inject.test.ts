/**
 * Synthetic anomalies for the evaluation: one per segment, inside its segment with clean records
 * around its window, sized in units of the metric's robust scale, reproducible from the seed, and
 * added to a copy (the clean held-back data stays as it was).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../../src/model/detectors/common/prng.ts';
import { AnomalyShape, injectAnomalies, robustScale } from '../../src/training/inject.ts';

function series(n: number): Record<string, Float64Array> {
  const rng = createRng(3);
  return {
    temp: Float64Array.from({ length: n }, (_, i) => 50 + Math.sin(i / 10) + rng.next() - 0.5),
    vib: Float64Array.from({ length: n }, () => 2 + (rng.next() - 0.5) * 0.1),
  };
}

const options = { every: 200, length: 30, detectionWindow: 20 };

test('one anomaly per segment, its window inside the segment, clean records before it', () => {
  const values = series(1_000);
  const scales = { temp: robustScale(values.temp!), vib: robustScale(values.vib!) };
  const { values: injected, anomalies } = injectAnomalies(values, scales, createRng(11), options);
  assert.equal(anomalies.length, 5);
  anomalies.forEach((a, k) => {
    const segment = k * options.every;
    assert.ok(a.start >= segment + options.detectionWindow, `anomaly ${k} starts ${a.start}`);
    assert.equal(a.length, a.shape === AnomalyShape.SPIKE ? 1 : options.length);
    assert.deepEqual(a.window, { start: a.start, end: a.start + a.length - 1 + options.detectionWindow });
    assert.ok(a.window.end < segment + options.every, `anomaly ${k}'s window ends inside its segment`);
    assert.ok(['temp', 'vib'].includes(a.metric));
  });
  const changed = new Set<string>();
  for (const metric of ['temp', 'vib']) {
    for (let i = 0; i < 1_000; i++) if (injected[metric]![i] !== values[metric]![i]) changed.add(`${metric}@${i}`);
  }
  const expected = new Set(anomalies.flatMap((a) => Array.from({ length: a.length }, (_, i) => `${a.metric}@${a.start + i}`)));
  assert.deepEqual(changed, expected, 'exactly the anomalies’ records change');
  assert.deepEqual(values, series(1_000), 'the clean series is not touched');
});

test('sizes are in σ of the metric: spikes 6-10σ, shifts 4-6σ, drifts ramp up to 6-10σ', () => {
  const values = series(20_000);
  const scales = { temp: robustScale(values.temp!), vib: robustScale(values.vib!) };
  const { values: injected, anomalies } = injectAnomalies(values, scales, createRng(5), options);
  const shapes = new Set(anomalies.map((a) => a.shape));
  assert.deepEqual(shapes, new Set(Object.values(AnomalyShape)), 'every shape appears');
  for (const a of anomalies) {
    const size = Math.abs(a.magnitude);
    const [lo, hi] = a.shape === AnomalyShape.SHIFT ? [4, 6] : [6, 10];
    assert.ok(size >= lo && size <= hi, `${a.shape} of ${a.magnitude}σ`);
    const delta = (i: number): number => (injected[a.metric]![a.start + i]! - values[a.metric]![a.start + i]!) / scales[a.metric as 'temp' | 'vib'];
    assert.ok(Math.abs(delta(a.length - 1) - a.magnitude) < 1e-6, 'the largest change is the magnitude');
    if (a.shape === AnomalyShape.DRIFT) assert.ok(Math.abs(delta(0)) < Math.abs(delta(a.length - 1)) / 2, 'a drift starts small');
  }
});

test('the same seed gives the same anomalies; another seed gives others', () => {
  const values = series(2_000);
  const scales = { temp: robustScale(values.temp!), vib: robustScale(values.vib!) };
  const a = injectAnomalies(values, scales, createRng(9), options);
  const b = injectAnomalies(values, scales, createRng(9), options);
  const c = injectAnomalies(values, scales, createRng(10), options);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.anomalies, c.anomalies);
});

test('robust scale: MAD-based, else the standard deviation, else 1% of the level (≥ 1); NaN ignored', () => {
  assert.ok(Math.abs(robustScale(Float64Array.from([1, 2, 3, 4, 5, Number.NaN])) - 1.4826) < 1e-3);
  assert.ok(Math.abs(robustScale(Float64Array.from([0, 0, 0, 0, 10])) - 4) < 1e-9, 'std when MAD is 0');
  assert.equal(robustScale(Float64Array.from([500, 500])), 5);
  assert.equal(robustScale(Float64Array.from([0, 0])), 1);
  assert.ok(Number.isNaN(robustScale(Float64Array.from([Number.NaN]))));
});

test('a series shorter than one segment still gets one anomaly when there is room, none when there is not', () => {
  const scales = { temp: 1, vib: 1 };
  const short = injectAnomalies(series(100), scales, createRng(1), options);
  assert.equal(short.anomalies.length, 1);
  assert.ok(short.anomalies[0]!.window.end < 100 && short.anomalies[0]!.start >= options.detectionWindow);
  const tooShort = injectAnomalies(series(2 * options.detectionWindow + options.length), scales, createRng(1), options);
  assert.deepEqual(tooShort.anomalies, []);
});

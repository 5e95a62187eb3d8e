/** The latency histogram: exact count, sum, min, max; quantiles within one bucket (≤ 9 % above). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram } from '../../src/serving/index.ts';
import { createRng } from '../../src/model/detectors/common/prng.ts';

test('quantiles are within one bucket above the true value; count, mean, min and max are exact', () => {
  const h = new LatencyHistogram();
  assert.deepEqual(h.summary(), { count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, sumMs: 0 });
  const rng = createRng(7);
  const values = Array.from({ length: 20_000 }, () => 0.001 + rng.next() * rng.next() * 50);
  for (const v of values) h.record(v);
  const sorted = [...values].sort((a, b) => a - b);
  const s = h.summary();
  assert.equal(s.count, values.length);
  assert.equal(s.minMs, sorted[0]);
  assert.equal(s.maxMs, sorted.at(-1));
  assert.ok(Math.abs(s.meanMs - values.reduce((a, b) => a + b, 0) / values.length) < 1e-9);
  for (const [q, got] of [[0.5, s.p50Ms], [0.99, s.p99Ms]] as const) {
    const truth = sorted[Math.ceil(q * values.length) - 1]!;
    assert.ok(got >= truth && got <= truth * 2 ** (1 / 8) + 1e-12, `q${q}: ${got} vs ${truth}`);
  }
});

test('one value, sub-microsecond and huge values stay within [min, max]', () => {
  const h = new LatencyHistogram();
  h.record(0.0002);
  assert.equal(h.quantile(0.99), 0.0002);
  h.record(100_000);
  h.record(Number.NaN);
  assert.equal(h.count, 3);
  assert.equal(h.quantile(1), 100_000);
  assert.equal(h.summary().minMs, 0);
});

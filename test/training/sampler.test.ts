/**
 * The bounded history of a training run: each device keeps its newest records in read order, all
 * devices together stay under the record cap (trimmed fairly, newest kept), devices beyond the
 * device cap are skipped and counted, and metrics a record lacks read as NaN.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeriesSampler } from '../../src/training/sampler.ts';

const rec = (deviceId: string, ts: number, metrics: Record<string, number>, cls?: string) => ({ deviceId, ts, metrics, ...(cls === undefined ? {} : { tags: { class: cls } }) });

test('a device keeps its newest records, in read order, through growth and wrap-around', () => {
  const sampler = new SeriesSampler({ maxRecords: 1_000_000, maxRecordsPerSeries: 150, maxSeries: 10 });
  for (let i = 0; i < 1_000; i++) sampler.add(rec('d1', i, { x: i * 2 }), 'class');
  const [s] = sampler.series();
  assert.deepEqual([...s!.ts], Array.from({ length: 150 }, (_, k) => 850 + k));
  assert.deepEqual([...s!.values.x!], Array.from({ length: 150 }, (_, k) => (850 + k) * 2));
  assert.deepEqual(sampler.stats(), { kept: 150, dropped: 850, skippedOverSeriesLimit: 0, seriesOverLimit: 0, capPerSeries: 150 });
});

test('metrics that appear later or go missing read as NaN; the class is the latest tag seen', () => {
  const sampler = new SeriesSampler({ maxRecords: 100, maxRecordsPerSeries: 100, maxSeries: 10 });
  sampler.add(rec('d1', 1, { a: 1 }), 'class');
  sampler.add(rec('d1', 2, { a: 2, b: 20 }, 'pump'), 'class');
  sampler.add(rec('d1', 3, { b: 30 }, 'fan'), 'class');
  const [s] = sampler.series();
  assert.equal(s!.className, 'fan');
  assert.deepEqual([...s!.values.a!], [1, 2, Number.NaN]);
  assert.deepEqual([...s!.values.b!], [Number.NaN, 20, 30]);
});

test('over the record cap every device is trimmed to an equal share of its newest records', () => {
  const limits = { maxRecords: 300, maxRecordsPerSeries: 1_000, maxSeries: 10 };
  const sampler = new SeriesSampler(limits);
  for (let i = 0; i < 400; i++) sampler.add(rec('a', i, { x: i }), 'class');
  assert.equal(sampler.size, 300, 'one device alone is held to the record cap');
  for (let i = 0; i < 400; i++) sampler.add(rec('b', 1_000 + i, { x: i }), 'class');
  for (let i = 0; i < 400; i++) sampler.add(rec('c', 2_000 + i, { x: i }), 'class');
  const series = sampler.series();
  assert.ok(sampler.size <= limits.maxRecords);
  assert.equal(sampler.stats().capPerSeries, 100);
  for (const s of series) {
    assert.equal(s.ts.length, 100, s.deviceId);
    const last = s.ts[s.ts.length - 1]!;
    assert.deepEqual([...s.ts], Array.from({ length: 100 }, (_, k) => last - 99 + k), `${s.deviceId} keeps its newest records`);
  }
  assert.equal(sampler.stats().dropped, 1_200 - 300);
});

test('devices beyond the device cap are skipped and counted', () => {
  const sampler = new SeriesSampler({ maxRecords: 1_000, maxRecordsPerSeries: 100, maxSeries: 2 });
  for (const d of ['a', 'b', 'c', 'd']) for (let i = 0; i < 5; i++) sampler.add(rec(d, i, { x: i }), 'class');
  assert.deepEqual(sampler.series().map((s) => s.deviceId), ['a', 'b']);
  assert.equal(sampler.stats().skippedOverSeriesLimit, 10);
  assert.equal(sampler.stats().seriesOverLimit, 2);
});

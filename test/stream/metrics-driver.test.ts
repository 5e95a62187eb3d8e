/**
 * Throughput and lag metrics: the decayed rate on its own, and through the test driver with its
 * virtual wall clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import { topology, TopologyTestDriver } from '../../src/stream/index.ts';
import { DecayingRate } from '../../src/stream/task/rate.ts';
import { bytes } from '../helpers.ts';

const codecs = { key: stringCodec, value: jsonCodec<number>() } as const;

test('a decayed rate reads a steady rate at once, follows a change, and fades when events stop', () => {
  const rate = new DecayingRate(10_000);
  assert.equal(rate.perSecond(0), 0);
  // 50 events every 100 ms: 500/s.
  let now = 0;
  for (; now < 3_000; now += 100) rate.add(50, now);
  assert.ok(Math.abs(rate.perSecond(now - 100) - 500) < 30, `steady: ${rate.perSecond(now - 100)}`);
  // Then 10 events every 100 ms (100/s) for 60 s: the old rate has decayed away.
  for (const end = now + 60_000; now < end; now += 100) rate.add(10, now);
  assert.ok(Math.abs(rate.perSecond(now - 100) - 100) < 5, `after the change: ${rate.perSecond(now - 100)}`);
  // Nothing for 60 s (6 time constants): below 1 % of what it was.
  assert.ok(rate.perSecond(now + 60_000) < 1, `faded: ${rate.perSecond(now + 60_000)}`);
});

test('the driver reports per-task throughput on its virtual clock, and lag 0 once records are processed', async () => {
  const b = topology();
  b.stream('in', codecs)
    .filter((r) => {
      if (r.value < 0) throw new Error('negative');
      return true;
    })
    .to('out', codecs);
  const driver = new TopologyTestDriver(b.build(), { partitions: { in: 2 } });
  const input = driver.input('in');
  for (let tick = 0; tick < 50; tick++) {
    await input.pipeAll(Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: tick, partition: i % 2 })));
    await driver.advanceWallClock(100);
  }
  const metrics = driver.metrics();
  assert.equal(metrics.length, 2);
  for (const m of metrics) {
    // 10 records per 100 ms per partition.
    assert.ok(Math.abs(m.recordsPerSecond - 100) < 10, `${m.taskId}: ${m.recordsPerSecond} records/s`);
    assert.equal(m.lag, 0);
  }
  // A record that fails under the 'fail' policy stays unprocessed: the lag shows it.
  await assert.rejects(driver.pipeRaw({ topic: 'in', key: bytes('k'), value: bytes('-1'), partition: 0 }));
  assert.deepEqual(driver.metrics().map((m) => m.lag), [1, 0]);
  await driver.advanceWallClock(120_000);
  for (const m of driver.metrics()) assert.ok(m.recordsPerSecond < 1, `idle for 2 minutes: ${m.recordsPerSecond}`);
});

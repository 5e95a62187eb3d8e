/** The test driver suite: every stateless operator, run in-process with virtual time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec, partitionForKey } from '../../src/log/index.ts';
import { topology, TopologyTestDriver, type Stream } from '../../src/stream/index.ts';

const key = stringCodec;
const num = jsonCodec<number>();
const codecs = { key, value: num } as const;

/** A topology reading `in` (string keys, JSON numbers), built by `body`, and its driver. */
function drive(body: (s: Stream<string, number>) => void, partitions?: Record<string, number>) {
  const b = topology();
  body(b.stream('in', codecs));
  const driver = new TopologyTestDriver(b.build(), partitions === undefined ? {} : { partitions });
  return { driver, input: driver.input<string, number>('in'), out: (topic = 'out') => driver.output(topic, codecs) };
}

test('map, mapValues, filter and peek transform records in order', async () => {
  const seen: number[] = [];
  const { input, out } = drive((s) =>
    s
      .filter((r) => r.value % 2 === 0)
      .peek((r) => seen.push(r.value))
      .mapValues((v) => v * 10)
      .map((r) => ({ key: `${r.key}!`, value: r.value + 1 }))
      .to('out', codecs),
  );
  for (const n of [1, 2, 3, 4]) await input.pipe('k', n, { timestamp: 100 + n });
  assert.deepEqual(seen, [2, 4]);
  const records = out().readRecords();
  assert.deepEqual(records.map((r) => [r.key, r.value, r.timestamp]), [['k!', 21, 102], ['k!', 41, 104]]);
});

test('flatMap emits zero or more records per input; forEach sees each record', async () => {
  const calls: string[] = [];
  const b = topology();
  const s = b.stream('in', codecs).flatMap((r) => Array.from({ length: r.value }, (_, i) => ({ key: `${r.key}${i}`, value: i })));
  s.to('out', codecs);
  s.forEach((r) => {
    calls.push(r.key);
  });
  const driver = new TopologyTestDriver(b.build());
  await driver.input('in').pipe('a', 0);
  await driver.input('in').pipe('b', 3);
  assert.deepEqual(driver.output('out', codecs).readKeyValues(), [
    { key: 'b0', value: 0 },
    { key: 'b1', value: 1 },
    { key: 'b2', value: 2 },
  ]);
  assert.deepEqual(calls, ['b0', 'b1', 'b2']);
});

test('branch routes to the first matching branch, then default; unmatched records drop without a default', async () => {
  const b = topology();
  const s = b.stream('in', codecs);
  const withDefault = s.branch({ neg: (r) => r.value < 0, small: (r) => r.value < 10 }, { default: 'rest' });
  withDefault.neg.to('neg');
  withDefault.small.to('small');
  withDefault.rest.to('rest');
  s.branch({ even: (r) => r.value % 2 === 0 }).even.to('even');
  const driver = new TopologyTestDriver(b.build());
  for (const n of [-5, 3, 50, 4, -2]) await driver.input('in').pipe('k', n);
  assert.deepEqual(driver.output('neg', codecs).readValues(), [-5, -2]);
  assert.deepEqual(driver.output('small', codecs).readValues(), [3, 4]);
  assert.deepEqual(driver.output('rest', codecs).readValues(), [50]);
  assert.deepEqual(driver.output('even', codecs).readValues(), [50, 4, -2]);
});

test('merge joins streams from two topics and from two branches of one', async () => {
  const b = topology();
  const a = b.stream('a', codecs);
  const c = b.stream('c', codecs);
  const parts = a.branch({ low: (r) => r.value < 5, high: (r) => r.value >= 5 });
  parts.low.merge([parts.high.mapValues((v) => v * 100), c]).to('out', codecs);
  const driver = new TopologyTestDriver(b.build());
  await driver.input('a').pipe('x', 1);
  await driver.input('c').pipe('y', 2);
  await driver.input('a').pipe('z', 7);
  assert.deepEqual(driver.output('out', codecs).readKeyValues(), [
    { key: 'x', value: 1 },
    { key: 'y', value: 2 },
    { key: 'z', value: 700 },
  ]);
});

test('mapAsync keeps input order, never exceeds its concurrency, and drains at the end of a batch', async () => {
  let inFlight = 0;
  let most = 0;
  const b = topology();
  b.stream('in', codecs)
    .mapAsync(
      async (r) => {
        inFlight++;
        most = Math.max(most, inFlight);
        // Later records finish first: order must still be kept.
        await new Promise((resolve) => setImmediate(resolve));
        for (let i = 0; i < 10 - r.value; i++) await Promise.resolve();
        inFlight--;
        return r.value * 2;
      },
      { concurrency: 3 },
    )
    .to('out', { key, value: num });
  const driver = new TopologyTestDriver(b.build());
  const input = driver.input('in');
  await input.pipeAll(Array.from({ length: 10 }, (_, n) => ({ key: 'k', value: n })));
  assert.deepEqual(driver.output('out', codecs).readValues(), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  assert.equal(most, 3, 'a batch keeps 3 calls in flight, never more');
  assert.equal(inFlight, 0);
});

test('selectKey + repartition writes through <app>-<name>-repartition, partitioned by the new key', async () => {
  const b = topology();
  b.stream('in', codecs)
    .selectKey((r) => `dev-${r.value % 3}`)
    .repartition({ name: 'by-device', key })
    .peek(() => undefined)
    .to('out');
  const t = b.build();
  assert.match(t.describe(), /\[<app>-by-device-repartition\]/);
  assert.equal(t.subtopologies().length, 2);
  const driver = new TopologyTestDriver(t, { applicationId: 'app1', partitions: { 'app1-by-device-repartition': 4, out: 4 } });
  for (let n = 0; n < 6; n++) await driver.input('in').pipe('orig', n);
  const internal = driver.records('app1-by-device-repartition');
  assert.equal(internal.length, 6);
  for (const r of internal) assert.equal(r.partition, partitionForKey(r.key!, 4));
  const outs = driver.output('out', codecs).readRecords();
  assert.deepEqual(outs.map((r) => r.key), ['dev-0', 'dev-1', 'dev-2', 'dev-0', 'dev-1', 'dev-2']);
  const taskIds = driver.metrics().map((m) => m.taskId).sort();
  assert.ok(taskIds.includes('in-0') && taskIds.some((id) => id.startsWith('app1-by-device-repartition-')));
});

test('records carry origin, headers and event time from a timestamp extractor; stream time is the max seen', async () => {
  const origins: string[] = [];
  const b = topology();
  b.stream('in', { key, value: num, timestamp: (_raw, decoded) => decoded.value * 1000 })
    .peek((r) => origins.push(`${r.origin.topic}/${r.origin.partition}@${r.origin.offset}:${r.timestamp}:${new TextDecoder().decode(r.headers.h)}`))
    .to('out');
  const driver = new TopologyTestDriver(b.build());
  const h = { h: new TextEncoder().encode('v') };
  await driver.input('in').pipe('k', 5, { headers: h });
  await driver.input('in').pipe('k', 2, { headers: h });
  assert.deepEqual(origins, ['in/0@0:5000:v', 'in/0@1:2000:v']);
  assert.equal(driver.streamTime('in'), 5000);
  assert.deepEqual(driver.output('out', codecs).readRecords().map((r) => [r.timestamp, new TextDecoder().decode(r.headers.h)]), [[5000, 'v'], [2000, 'v']]);
});

test('process() runs a Processor per task with stream-time and wall-clock punctuation', async () => {
  const b = topology();
  b.stream('in', codecs)
    .process<string, number>(() => {
      let sum = 0;
      return {
        init(ctx) {
          ctx.schedule({ intervalMs: 1000, type: 'stream-time', punctuator: (ts) => ctx.forward({ key: 'stream', value: sum, timestamp: ts }) });
          ctx.schedule({ intervalMs: 60_000, type: 'wall-clock', punctuator: (ts) => ctx.forward({ key: 'wall', value: ts, timestamp: ts }) });
        },
        process(r) {
          sum += r.value;
        },
      };
    })
    .to('out', codecs);
  const driver = new TopologyTestDriver(b.build());
  const input = driver.input('in');
  await input.pipe('k', 1, { timestamp: 500 }); // first record: stream time known, next due 1000
  await input.pipe('k', 2, { timestamp: 900 });
  await input.pipe('k', 3, { timestamp: 1000 }); // due: fires with sum 6
  await input.pipe('k', 4, { timestamp: 3500 }); // jumps two intervals: fires once
  await input.pipe('k', 5, { timestamp: 3600 });
  const out = driver.output('out', codecs);
  assert.deepEqual(out.readRecords().map((r) => [r.key, r.value, r.timestamp]), [['stream', 6, 1000], ['stream', 10, 3500]]);
  await driver.advanceWallClock(59_999);
  assert.equal(out.size, 0);
  await driver.advanceWallClock(1);
  assert.deepEqual(out.readKeyValues(), [{ key: 'wall', value: 60_000 }]);
  assert.equal(driver.metrics()[0]!.punctuations, 3);
  await driver.close();
});

test('metrics count records in and out per task', async () => {
  const { driver, input } = drive((s) => s.filter((r) => r.value > 1).to('out', codecs));
  for (const n of [1, 2, 3]) await input.pipe('k', n);
  const [m] = driver.metrics();
  assert.equal(m!.taskId, 'in-0');
  assert.equal(m!.recordsIn, 3);
  assert.equal(m!.recordsOut, 2);
  assert.ok(m!.processingLatencyMs.avg >= 0);
});

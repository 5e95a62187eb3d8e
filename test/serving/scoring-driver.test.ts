/**
 * The serving topology in the test driver: routing, bad telemetry to the dead-letter topic with
 * reasons, device state across model swaps (carry-over), rollbacks, shadows and their promotion,
 * models failing on a record, and device state through the changelog when tasks restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { telemetryCodec } from '../../src/log/index.ts';
import { DlqHeader } from '../../src/serving/index.ts';
import { text } from '../helpers.ts';
import { NOW, readings, servingDriver } from './driver-harness.ts';
import { counterDescriptor, FRAGILE_KIND, seen } from './helpers.ts';

test('routing: the device model, else the class model, else default; with none the record is counted and passed over', async (t) => {
  const h = await servingDriver(t);
  await h.send(readings('d1', 1, { tags: { class: 'pump' } }));
  assert.equal(h.counters.unrouted, 1);
  assert.equal(h.scores.readValues().length, 0);

  await h.publish(counterDescriptor('default', 1));
  await h.publish(counterDescriptor('class.pump', 4));
  await h.publish(counterDescriptor('device.d3', 7));
  await h.send([...readings('d1', 1, { tags: { class: 'pump' } }), ...readings('d2', 1, { tags: { class: 'fan' } }), ...readings('d3', 1, { tags: { class: 'pump' } }), ...readings('d4', 1)]);
  const by = Object.fromEntries(h.scores.readValues().map((s) => [s.deviceId, `${s.model.name}@${s.model.version}`]));
  assert.deepEqual(by, { d1: 'class.pump@4', d2: 'default@1', d3: 'device.d3@7', d4: 'default@1' });
  assert.equal(h.counters.unrouted, 1);
});

test('bad telemetry goes to telemetry.dlq with its reason, its source and the original bytes; every valid record is scored', async (t) => {
  const h = await servingDriver(t, { maxRecordBytes: 300, maxSkewMs: 60_000, maxDevicesPerTask: 4 });
  await h.publish(counterDescriptor('default', 1));
  const ok = (deviceId: string, i: number) => ({ deviceId, ts: NOW + i, seq: i, metrics: { x: i } });
  const bad: [string, Uint8Array | null, Uint8Array][] = [
    ['decode', null, new Uint8Array([1, 2, 3])],
    ['oversize', null, telemetryCodec.encode({ deviceId: 'd1', ts: NOW, metrics: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`metric${i}`, i])) })],
    ['device-id', null, telemetryCodec.encode({ deviceId: '', ts: NOW, metrics: { x: 1 } })],
    ['metric', null, telemetryCodec.encode({ deviceId: 'd1', ts: NOW, metrics: { x: Number.NaN } })],
    ['metric', null, telemetryCodec.encode({ deviceId: 'd1', ts: NOW, metrics: { x: Number.POSITIVE_INFINITY } })],
    ['timestamp', null, telemetryCodec.encode({ deviceId: 'd1', ts: NOW + 0.5, metrics: { x: 1 } })],
    ['invalid', null, telemetryCodec.encode({ deviceId: 'd1', ts: NOW, metrics: { x: 1 }, tags: { '': 'nameless' } })],
    ['skew', null, telemetryCodec.encode({ deviceId: 'd1', ts: NOW + 2 * 86_400_000, metrics: { x: 1 } })],
    ['skew', null, telemetryCodec.encode({ deviceId: 'd1', ts: NOW - 61_000, metrics: { x: 1 } })],
    ['key-mismatch', new TextEncoder().encode('d2'), telemetryCodec.encode(ok('d1', 0))],
  ];
  let valid = 0;
  for (const [i, [, key, value]] of bad.entries()) {
    await h.send([ok('d1', i), ok('d2', i)]);
    valid += 2;
    await h.sendBytes(key, value);
  }
  // Two more devices fill the task (maxDevicesPerTask 4); a fifth one is refused.
  await h.send([ok('d3', 0), ok('d4', 0), ok('d5', 0)]);
  valid += 2;
  const letters = h.deadLetters();
  assert.deepEqual(
    letters.map((r) => text(r.headers[DlqHeader.reason]!)),
    [...bad.map(([reason]) => reason), 'capacity'],
  );
  for (const [i, r] of letters.entries()) {
    const expected = i < bad.length ? bad[i]![2] : telemetryCodec.encode(ok('d5', 0));
    assert.deepEqual(r.value, expected, 'the original bytes');
    assert.match(text(r.headers[DlqHeader.source]!), /^telemetry\/0\/\d+$/);
    assert.ok(text(r.headers[DlqHeader.message]!).length > 0);
  }
  assert.match(text(letters[3]!.headers[DlqHeader.message]!), /metrics\.x must be a finite number/);
  assert.match(text(letters[7]!.headers[DlqHeader.message]!), /ahead of now \(max skew 60000 ms\)/);
  const scored = h.scores.readValues();
  assert.equal(scored.length, valid, 'every valid record is scored, none lost');
  assert.equal(h.counters.records, valid);
  assert.equal(h.counters.dlq.metric, 2);
  assert.equal(h.counters.dlq.capacity, 1);
});

test('a new version of the same kind and features carries the device state over; other features start fresh', async (t) => {
  const h = await servingDriver(t);
  await h.publish(counterDescriptor('default', 1));
  await h.send(readings('d1', 5));
  await h.publish(counterDescriptor('default', 2));
  await h.send(readings('d1', 3, { from: 5 }));
  await h.publish(counterDescriptor('default', 3, { features: ['x', 'y'] }));
  await h.send(readings('d1', 2, { from: 8 }));
  const out = h.scores.readValues().map((s) => [s.model.version, seen(s.score)]);
  assert.deepEqual(out, [
    [1, 0], [1, 1], [1, 2], [1, 3], [1, 4],
    [2, 5], [2, 6], [2, 7],
    [3, 0], [3, 1],
  ]);
  assert.equal(h.counters.carryOver.kept, 1);
  assert.equal(h.counters.carryOver.fresh, 2);
});

test('a rollback through the models topic takes over at once, and the device keeps its state', async (t) => {
  const h = await servingDriver(t);
  await h.publish(counterDescriptor('default', 1));
  await h.publish(counterDescriptor('default', 2));
  await h.send(readings('d1', 2));
  await h.publish(counterDescriptor('default', 1), { rollback: true });
  await h.send(readings('d1', 2, { from: 2 }));
  await h.publish(counterDescriptor('default', 1));
  assert.deepEqual(
    h.scores.readValues().map((s) => [s.model.version, seen(s.score)]),
    [[2, 0], [2, 1], [1, 2], [1, 3]],
  );
  assert.equal(h.manager.table.live.get('default')?.rollback, true);
});

test('a shadow scores beside the live model without emitting; its agreement is measured; promotion adopts its state', async (t) => {
  const h = await servingDriver(t, { decider: { calibration: 'none', high: 0.5, low: 0.5, warmup: 0, report: 'active' } });
  await h.publish(counterDescriptor('default', 1));
  await h.send(readings('d1', 4));
  await h.publish(counterDescriptor('default', 2, { scale: 1 }), { shadow: true });
  await h.send(readings('d1', 6, { from: 4 }));
  const shadow = h.manager.table.shadows.get('default')!;
  assert.equal(shadow.version, 2);
  assert.equal(shadow.stats.scored, 6);
  assert.equal(shadow.stats.anomalies, 6, 'the shadow flags everything (score 1)…');
  assert.equal(h.anomalies.readValues().length, 0, '…but emits nothing');
  assert.ok(h.scores.readValues().every((s) => s.model.version === 1));
  assert.equal(shadow.stats.shadow.compared, 6);
  assert.equal(shadow.stats.shadow.agreed, 0);
  const meanLive = [4, 5, 6, 7, 8, 9].reduce((a, n) => a + (n + 1) / 1e6, 0) / 6;
  assert.ok(Math.abs(shadow.stats.shadow.sumAbsDelta / 6 - (1 - meanLive)) < 1e-12);
  assert.deepEqual(shadow.stats.shadow.against, { name: 'default', version: 1 });

  // A new shadow (same kind and features) carries the device's shadow state over (6 records, then 2
  // more); promoting it makes that state the live one.
  await h.publish(counterDescriptor('default', 3), { shadow: true });
  await h.send(readings('d1', 2, { from: 10 }));
  await h.publish(counterDescriptor('default', 3));
  assert.equal(h.manager.table.shadows.size, 0);
  await h.send(readings('d1', 1, { from: 12 }));
  const last = h.scores.readValues().at(-1)!;
  assert.deepEqual([last.model.version, seen(last.score)], [3, 8], 'v3 continues from its shadow state (8 records), not the live state (12) or nothing');
  assert.equal(h.counters.carryOver.adopted, 1);
});

test('a model that fails on one record sends it to the dead-letter topic (reason scoring) and keeps scoring the others', async (t) => {
  const h = await servingDriver(t);
  await h.publish(counterDescriptor('default', 1, { kind: FRAGILE_KIND }));
  await h.send(readings('d1', 5, { value: (i) => (i === 2 ? 5_000 : i) }));
  assert.deepEqual(h.scores.readValues().map((s) => s.seq), [0, 1, 3, 4]);
  const letters = h.deadLetters();
  assert.equal(letters.length, 1);
  assert.equal(text(letters[0]!.headers[DlqHeader.reason]!), 'scoring');
  assert.equal(h.manager.table.live.get('default')!.stats.errors, 1);
  assert.equal(h.logger.lines.filter((l) => l.msg === 'model failed on a record').length, 1);
});

test('device state goes to the changelog at most every stateCheckpointMs and a restarted task restores it', async (t) => {
  const h = await servingDriver(t, { stateCheckpointMs: 60_000 });
  await h.publish(counterDescriptor('default', 1));
  await h.send(readings('d1', 3));
  await h.send(readings('d1', 3, { from: 3 }));
  await h.driver.restartTasks();
  await h.send(readings('d1', 1, { from: 6 }));
  assert.equal(seen(h.scores.readValues().at(-1)!.score), 3, 'restored from the checkpoint after the first batch');
  assert.equal(h.counters.carryOver.restored, 1);
  await h.driver.advanceWallClock(60_000);
  await h.send(readings('d1', 1, { from: 7 }));
  await h.driver.restartTasks();
  await h.send(readings('d1', 1, { from: 8 }));
  assert.equal(seen(h.scores.readValues().at(-1)!.score), 5, 'restored from the checkpoint a minute later');
});

test('checkpoints are spread: each batch writes its share of the changed devices, longest-waiting first', async (t) => {
  const h = await servingDriver(t, { stateCheckpointMs: 60_000 });
  await h.publish(counterDescriptor('default', 1));
  const devices = ['d1', 'd2', 'd3', 'd4'];
  const round = (from: number) => devices.flatMap((d) => readings(d, 1, { from }));
  await h.send(devices.flatMap((d) => readings(d, 3)));
  await h.send(round(3));
  await h.driver.advanceWallClock(15_000);
  await h.send(round(4));
  await h.driver.restartTasks();
  await h.send(round(5));
  const last = new Map(h.scores.readValues().slice(-4).map((s) => [s.deviceId, seen(s.score)]));
  // The first batch wrote every device (3 readings each). A quarter of the interval later a quarter
  // of them was due: d1, changed first, with 5 readings; the others restart from 3.
  assert.deepEqual(Object.fromEntries(last), { d1: 5, d2: 3, d3: 3, d4: 3 });
});

test('scoring latency is measured on one record in latencySampleEvery, the first included; every record is counted', async (t) => {
  let now = 0;
  const h = await servingDriver(t, { latencySampleEvery: 4, timer: () => (now += 0.25) });
  await h.publish(counterDescriptor('default', 1));
  await h.send(readings('d1', 10));
  const stats = h.manager.table.live.get('default')!.stats;
  assert.equal(stats.scored, 10);
  const latency = stats.latency.summary();
  assert.equal(latency.count, 3, 'records 1, 5 and 9');
  assert.equal(latency.minMs, 0.25, 'score + decide: between two consecutive timer reads');
  assert.equal(latency.maxMs, 0.25);
  await h.send(readings('d1', 3, { from: 10 }));
  assert.equal(stats.latency.count, 4, 'the count goes on across batches (record 13)');
});

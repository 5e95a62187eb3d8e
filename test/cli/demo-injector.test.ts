/**
 * The injected anomalies of `sluice start`: the fleet changes exactly the readings an injection
 * names, the same seed injects the same anomalies, and the tracker credits an anomaly to the
 * injection it reveals (same device, a changed reading or one shortly after), once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScoredRecord } from '../../src/serving/index.ts';
import { DemoFleet } from '../../src/cli/demo-fleet.ts';
import { AnomalyInjector, describeInjection, type Injection } from '../../src/cli/demo-injector.ts';
import { DETECTION_GRACE_READINGS, InjectionTracker } from '../../src/cli/start-anomalies.ts';

test('an injected change moves exactly the readings it names', () => {
  const plain = new DemoFleet({ devices: 2, seed: 5 });
  const changed = new DemoFleet({ devices: 2, seed: 5 });
  for (let i = 0; i < 20; i++) {
    plain.next(i);
    changed.next(i);
  }
  const { firstSeq, lastSeq } = changed.inject({ deviceId: 'fan-02', metrics: { rpm: 0.5 }, readings: 3 });
  assert.deepEqual([firstSeq, lastSeq], [10, 12]);
  for (let i = 20; i < 40; i++) {
    const a = plain.next(i);
    const b = changed.next(i);
    const inside = b.deviceId === 'fan-02' && b.seq! >= firstSeq && b.seq! <= lastSeq;
    assert.equal(b.seq, a.seq);
    if (inside) assert.ok(Math.abs(b.metrics.rpm! / a.metrics.rpm! - 1.5) < 0.01, `reading #${b.seq}: ${b.metrics.rpm} vs ${a.metrics.rpm}`);
    else assert.deepEqual(b.metrics, a.metrics);
  }
  assert.throws(() => changed.inject({ deviceId: 'nope', metrics: {}, readings: 1 }), { code: 'SLUICE_INVALID_ARGUMENT' });
});

test('the same seed injects the same anomalies, only once armed, about every everyMs', () => {
  const run = (seed: number): string[] => {
    const injector = new AnomalyInjector({ fleet: new DemoFleet({ devices: 8, seed }), everyMs: 1_000, seed });
    const out: string[] = [];
    for (let t = 0; t < 5_000; t += 50) assert.equal(injector.due(t), null, 'nothing before arm()');
    injector.arm(5_000);
    for (let t = 5_000; t < 25_000; t += 50) {
      const i = injector.due(t);
      if (i !== null) out.push(`${t} ${describeInjection(i)}`);
    }
    return out;
  };
  const a = run(11);
  assert.deepEqual(run(11), a);
  assert.notDeepEqual(run(12), a);
  assert.ok(a.length >= 15 && a.length <= 27, `${a.length} injections in 20 s at one per second on average`);
});

test('the tracker credits an anomaly to the injection it reveals, once per injection', () => {
  const tracker = new InjectionTracker();
  const injection: Injection = { id: 1, deviceId: 'pump-01', shape: 'spike', metrics: { rpm: 0.4 }, firstSeq: 100, lastSeq: 103 };
  tracker.add(injection);
  const anomaly = (deviceId: string, seq: number): ScoredRecord => ({
    deviceId,
    ts: 0,
    seq,
    score: 0.9,
    decision: { likelihood: 0.9, anomaly: true },
    model: { name: 'class.pump', version: 1 },
    contributors: [],
    scoredAt: 0,
    processingMs: 0,
  });
  assert.equal(tracker.match(anomaly('pump-01', 99)), null, 'before the injection');
  assert.equal(tracker.match(anomaly('fan-02', 101)), null, 'another device');
  assert.equal(tracker.match(anomaly('pump-01', 103 + DETECTION_GRACE_READINGS + 1)), null, 'too late');
  assert.equal(tracker.detected, 0);
  assert.equal(tracker.match(anomaly('pump-01', 101)), injection);
  assert.equal(tracker.match(anomaly('pump-01', 103 + DETECTION_GRACE_READINGS)), injection);
  assert.deepEqual([tracker.detected, tracker.total], [1, 1]);
});

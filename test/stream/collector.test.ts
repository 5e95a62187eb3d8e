/**
 * BufferCollector's early hand-offs (`maxOutputDelayMs`), on a clock the test moves: a rare output
 * leaves at once even while an earlier hand-off is unacknowledged (a batch that does not yield never
 * sees the acknowledgement), frequent outputs collect to at most one hand-off per delay.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import type { ProducerRecord } from '../../src/log/types.ts';
import { BufferCollector } from '../../src/stream/task/collector.ts';

const record = (n: number): ProducerRecord => ({ topic: 'out', key: null, value: new Uint8Array([n]) });

/** A collector with a 5 ms delay whose hand-offs are never acknowledged (as within one batch that does not yield). */
function unacknowledged() {
  const clock = { ms: 0 };
  const collector = new BufferCollector(() => clock.ms);
  const handed: number[][] = [];
  collector.handOffAfter(5, (records) => {
    handed.push(records.map((r) => r.value![0]!));
    return new Promise(() => {});
  });
  return { clock, collector, handed };
}

test('a rare output leaves at the next check although the earlier hand-off is unacknowledged', () => {
  const { clock, collector, handed } = unacknowledged();
  collector.send(record(1));
  collector.checkDelay();
  assert.deepEqual(handed, [[1]], 'the first output leaves at once');
  clock.ms = 6;
  collector.send(record(2));
  collector.checkDelay();
  assert.deepEqual(handed, [[1], [2]], 'the last hand-off left 6 ms ago: no reason to wait');
  assert.equal(collector.size, 0);
});

test('frequent outputs collect while a hand-off is unacknowledged: at most one hand-off per delay', () => {
  const { clock, collector, handed } = unacknowledged();
  collector.send(record(1));
  collector.checkDelay();
  for (const [ms, n] of [[1, 2], [2, 3], [4, 4]] as const) {
    clock.ms = ms;
    collector.send(record(n));
    collector.checkDelay();
  }
  assert.deepEqual(handed, [[1]], 'within 5 ms of the last hand-off the others wait');
  assert.equal(collector.size, 3);
  clock.ms = 5;
  collector.checkDelay();
  assert.deepEqual(handed, [[1], [2, 3, 4]], 'together, once the delay has passed');
  clock.ms = 7;
  collector.send(record(5));
  collector.checkDelay();
  assert.deepEqual(handed.length, 2, 'the next one waits for the delay again');
});

test('once the earlier hand-offs are acknowledged, an output leaves at once', async () => {
  const clock = { ms: 0 };
  const collector = new BufferCollector(() => clock.ms);
  const handed: number[][] = [];
  collector.handOffAfter(60_000, async (records) => {
    handed.push(records.map((r) => r.value![0]!));
  });
  collector.send(record(1));
  collector.checkDelay();
  await new Promise((resolve) => setImmediate(resolve));
  clock.ms = 1;
  collector.send(record(2));
  collector.checkDelay();
  assert.deepEqual(handed, [[1], [2]]);
});

test('without a delay set, checks hand nothing on: the batch takes its records', () => {
  const collector = new BufferCollector(() => 0);
  collector.send(record(1));
  collector.checkDelay();
  assert.deepEqual(
    collector.take().map((r) => r.value![0]),
    [1],
  );
});

/**
 * Commit points on the log (embedded): a store's changelog gets the latest value of each key
 * written since the last commit — one record per key per commit, not one per update — in both
 * delivery modes, and a restart restores exactly the committed state from it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import type { Log, LogRecord } from '../../src/log/types.ts';
import { run, topology, type DeliveryMode } from '../../src/stream/index.ts';
import { bytes, text } from '../helpers.ts';
import { createTopics, freshLog, produce, readTopic } from './runtime-helpers.ts';
import { countsByKey } from './state-scenarios.ts';

const codecs = { key: stringCodec, value: jsonCodec<number>() } as const;
const KEYS = ['a', 'b', 'c', 'd', 'e'];
/** `rounds` records per key, keys round-robin. */
const inputs = (rounds: number) => Array.from({ length: rounds * KEYS.length }, (_, i) => ({ topic: 'in', key: bytes(KEYS[i % KEYS.length]!), value: bytes('1') }));

function counting() {
  const b = topology();
  b.stream('in', codecs).groupByKey().count({ name: 'counts' }).toStream().to('out', codecs);
  return b.build();
}

/** Every record of the application's changelog (read committed). */
async function changelog(log: Log, applicationId: string, atLeast: number): Promise<LogRecord[]> {
  return readTopic(log, `${applicationId}-counts-changelog`, atLeast);
}

for (const delivery of ['at-least-once', 'exactly-once'] as const satisfies readonly DeliveryMode[]) {
  test(`${delivery}: one changelog record per key per commit; a restart restores the committed counts`, async (t) => {
    const log = await freshLog(t);
    await createTopics(log, { in: 1, out: 1 });
    await produce(log, inputs(40));
    const applicationId = `ci-${delivery}`;
    // A long interval: the only commit points are when the input runs out (idle) and on close.
    const options = { log, applicationId, delivery, maxBatchRecords: 20, pollTimeoutMs: 20, commitIntervalMs: 600_000 } as const;
    const first = await run(counting(), options);
    t.after(() => first.close());
    const out = await readTopic(log, 'out', 200);
    await first.close();
    assert.ok(first.metrics().batches >= 10, `${first.metrics().batches} batches`);
    for (const k of KEYS) assert.equal(Math.max(...countsByKey(out).get(k)!), 40, `every update of ${k} was emitted`);
    const records = await changelog(log, applicationId, KEYS.length);
    assert.deepEqual(
      records.map((r) => `${text(r.key!)}=${text(r.value)}`).sort(),
      KEYS.map((k) => `${k}=40`),
      '200 updates, one commit: the changelog holds the final count of each key once',
    );

    const second = await run(counting(), options);
    t.after(() => second.close());
    await produce(log, inputs(1));
    const all = await readTopic(log, 'out', 205);
    await second.close();
    for (const k of KEYS) assert.equal(countsByKey(all).get(k)!.at(-1), 41, `${k} continues from its restored count`);
  });
}

test('commitIntervalMs 0: every batch commits its keys\' latest values', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 1, out: 1 });
  await produce(log, inputs(40));
  const a = await run(counting(), { log, applicationId: 'ci0', maxBatchRecords: 20, pollTimeoutMs: 20, commitIntervalMs: 0 });
  t.after(() => a.close());
  await readTopic(log, 'out', 200);
  await a.close();
  const { batches } = a.metrics();
  // Each batch of 20 holds every key 4 times (keys round-robin): one record per key per batch.
  const records = await changelog(log, 'ci0', 5 * batches);
  assert.equal(records.length, 5 * batches, `${records.length} changelog records for ${batches} batches`);
  assert.deepEqual(
    records.filter((r) => text(r.key!) === 'a').map((r) => Number(text(r.value))),
    Array.from({ length: batches }, (_, i) => 4 * (i + 1)),
  );
});

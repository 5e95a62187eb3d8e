/**
 * The three-instance rebalance scenario, parameterised by backend (rebalance-3.test.ts runs it on
 * the embedded log, rebalance-3-kafka.test.ts on the Kafka test broker): three in-process
 * instances of a counting application (count per key in a store with a changelog), exactly-once;
 * tasks spread 2/2/2; the third closes; its tasks move to the other two (3/3), whose metrics show
 * the moved counts restored from the changelog before any new record reaches them; one more record
 * per key then gives, read committed, exactly the counts 1, 2, 3 for every key (nothing lost,
 * nothing counted twice).
 */
import { countsByKey } from './state-scenarios.ts';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import type { IsolationLevel, Log, LogRecord } from '../../src/log/types.ts';
import { run, topology, type StreamApp } from '../../src/stream/index.ts';
import { bytes, eventually, pollUntil, text } from '../helpers.ts';
import type { StreamBackend } from './backends.ts';
import { createTopics, produce } from './runtime-helpers.ts';

export const PARTITIONS = 6;
export const KEYS = Array.from({ length: 30 }, (_, i) => `k-${i}`);
const codecs = { key: stringCodec, value: jsonCodec<number>() } as const;

/** One record per key. */
export const round = (topic: string) => KEYS.map((k) => ({ topic, key: bytes(k), value: bytes('1') }));
/** The partition of a task id `<topic>-<partition>`. */
export const partitionOf = (taskId: string): number => Number(taskId.slice(taskId.lastIndexOf('-') + 1));
/** The ids of every task of `topic`. */
export const allTasks = (topic: string): string[] => Array.from({ length: PARTITIONS }, (_, p) => `${topic}-${p}`).sort();

/** Reads `topic` from the start until `count` records arrived. */
export async function readOut(log: Log, topic: string, count: number, isolationLevel: IsolationLevel, timeoutMs = 20_000): Promise<LogRecord[]> {
  const consumer = log.consumer({ isolationLevel });
  try {
    await consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));
    return await pollUntil(consumer, (all) => all.length >= count, timeoutMs);
  } finally {
    await consumer.close();
  }
}


/** The keys whose records are in the given partitions (outputs keep the input key and partition count). */
export function keysIn(records: readonly LogRecord[], partitions: ReadonlySet<number>): Set<string> {
  return new Set(records.filter((r) => partitions.has(r.partition)).map((r) => text(r.key!)));
}

/** Registers the in-process three-instance exactly-once scenario for `backend`. */
export function threeInstancesExactlyOnce(backend: StreamBackend, options: { readonly skip?: string | false; readonly gate?: () => void } = {}): void {
  const { waitMs, fast } = backend;
  test(`[${backend.name}] exactly-once, in one process: 3 instances, one closes, its tasks move to the other two with their counts`, { skip: options.skip ?? false, timeout: 4 * waitMs }, async (t) => {
    options.gate?.();
    const log = await backend.open(t);
    const input = backend.unique('in');
    const output = backend.unique('out');
    await createTopics(log, { [input]: PARTITIONS, [output]: PARTITIONS });
    const applicationId = backend.unique('count3');
    const b = topology();
    b.stream(input, codecs).groupByKey().count({ name: 'counts' }).toStream().to(output, codecs);
    const topo = b.build();
    const start = async (instanceId: string): Promise<StreamApp> => {
      const app = await run(topo, { log, applicationId, delivery: 'exactly-once', instanceId, ...fast });
      t.after(() => app.close());
      return app;
    };
    const apps = [await start('a'), await start('b'), await start('c')] as const;
    const [a, bb, c] = apps;
    const ALL = allTasks(input);
    await eventually(
      () => {
        for (const app of apps) assert.equal(app.taskIds().length, 2, `${app.taskIds().join(',')}: 2 tasks each`);
        assert.deepEqual(apps.flatMap((app) => app.taskIds()).sort(), ALL);
        return true;
      },
      { message: 'all three instances own 2 tasks each', timeoutMs: waitMs },
    );

    await produce(log, [...round(input), ...round(input)]);
    const before = await readOut(log, output, 2 * KEYS.length, 'read_committed', waitMs);
    const moved = c.taskIds();
    const movedKeys = keysIn(before, new Set(moved.map(partitionOf)));
    assert.ok(movedKeys.size > 0, 'the instance that stops owns some keys');
    await eventually(() => c.metrics().tasks.reduce((n, m) => n + (m.stateEntries.counts ?? 0), 0) === movedKeys.size, {
      message: 'the instance that stops holds the counts of its keys',
      timeoutMs: waitMs,
    });

    await c.close();
    const survivors = [a, bb];
    await eventually(
      () => {
        assert.equal(a.taskIds().length, 3);
        assert.equal(bb.taskIds().length, 3);
        assert.deepEqual([...a.taskIds(), ...bb.taskIds()].sort(), ALL);
        return true;
      },
      { message: 'the stopped instance’s tasks move to the other two (3/3)', timeoutMs: waitMs },
    );
    // The new owners restored the moved tasks' counts from the changelog (no new input yet).
    for (const id of moved) {
      const expected = keysIn(before, new Set([partitionOf(id)])).size;
      await eventually(
        () => {
          const m = survivors.flatMap((app) => app.metrics().tasks).find((task) => task.taskId === id);
          assert.ok(m !== undefined, `task ${id} is owned`);
          assert.equal(m.stateEntries.counts ?? 0, expected, `task ${id} restored ${expected} counts`);
          return true;
        },
        { message: `task ${id} restored its state on its new owner`, timeoutMs: waitMs },
      );
    }

    await produce(log, round(input));
    const out = await readOut(log, output, 3 * KEYS.length, 'read_committed', waitMs);
    const counts = countsByKey(out);
    for (const k of KEYS) assert.deepEqual(counts.get(k), [1, 2, 3], `counts of ${k}${movedKeys.has(k) ? ' (moved)' : ''}`);
    assert.equal(out.length, 3 * KEYS.length, 'no output twice');
    for (const app of survivors) {
      assert.ok(
        app.metrics().tasks.some((m) => moved.includes(m.taskId) && m.recordsIn > 0),
        'each survivor took over a moved task and processed records in it',
      );
    }
    for (const app of survivors) await app.close();
  });
}


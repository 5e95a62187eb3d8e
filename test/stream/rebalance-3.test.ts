/**
 * Three instances of a counting application (count per key, a store with a compacted changelog)
 * on the embedded log: tasks spread 2/2/2; one instance stops and its tasks move to the other two
 * WITH their state, so the counts of its keys continue from where they were.
 *
 * - In one process, exactly-once, the third instance closes: the counts per key, read committed,
 *   are exactly 1, 2, 3 (nothing lost, nothing counted twice), and the new owners hold the moved
 *   tasks' state (restored from the changelog) before any new record reaches them
 *   (rebalance-scenarios.ts; rebalance-3-kafka.test.ts runs it on Kafka).
 * - As three child processes, at-least-once, the third one is SIGKILLed: its tasks move to the
 *   other two once its group session expires. At-least-once may replay the records after its last
 *   commit (a replayed record is counted again), so the check is: every key's counts after the
 *   kill continue from its count before it (never lower, never decreasing) and end at least at the
 *   number of its records (had the moved state been lost, the moved keys' counts would restart
 *   from 1). The kill comes once the child has committed what it read, so the state it leaves is
 *   complete and the check does not depend on where a kill lands mid-batch (that is the
 *   exactly-once crash test's subject).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openLog } from '../../src/log/index.ts';
import { type Child, spawnFixture } from '../log/embedded/child.ts';
import { eventually, pollUntil, tempDir } from '../helpers.ts';
import { embeddedBackend } from './backends.ts';
import { allTasks, KEYS, keysIn, partitionOf, PARTITIONS, readOut, round, threeInstancesExactlyOnce } from './rebalance-scenarios.ts';
import { countsByKey } from './state-scenarios.ts';
import { createTopics, produce } from './runtime-helpers.ts';

const ALL_TASKS = allTasks('in');

threeInstancesExactlyOnce(embeddedBackend);

test('at-least-once, three child processes: one is SIGKILLed, its tasks move with their counts, nothing lost', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir('sluice-rebalance3-');
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(() => log.close());
  t.after(() => dir.remove());
  await createTopics(log, { in: PARTITIONS, out: PARTITIONS });

  const children: Child[] = [];
  for (const id of ['a', 'b', 'c']) {
    const child = spawnFixture('../../stream/count-app.ts', [`embedded:${dir.path}`, 'in', 'out', 'count3k', 'at-least-once', id]);
    t.after(() => child.kill());
    children.push(child);
  }
  const tasksOf = (child: Child): string[] => {
    const line = child.lines.findLast((l) => l.startsWith('tasks '));
    return line === undefined || line === 'tasks ' ? [] : line.slice('tasks '.length).split(',');
  };
  for (const child of children) await child.waitForLine((l) => l === 'ready', { timeoutMs: 20_000, what: 'ready' });
  await eventually(
    () => {
      for (const child of children) {
        assert.ok(!child.hasExited(), `a child exited:\n${child.stderr()}`);
        assert.equal(tasksOf(child).length, 2);
      }
      assert.deepEqual(children.flatMap(tasksOf).sort(), ALL_TASKS);
      return true;
    },
    { message: 'all three children own 2 tasks each', timeoutMs: 20_000 },
  );
  const [a, b, c] = children as [Child, Child, Child];

  await produce(log, [...round('in'), ...round('in')]);
  const before = await readOut(log, 'out', 2 * KEYS.length, 'read_uncommitted');
  const moved = tasksOf(c);
  const movedKeys = keysIn(before, new Set(moved.map(partitionOf)));
  assert.ok(movedKeys.size > 0, 'the child that is killed owns some keys');
  // Kill it once it has committed everything it read: its outputs and changelog writes are all
  // acknowledged then, so the state its tasks take along is complete (a kill mid-batch is the
  // exactly-once crash test's business).
  const inputsOf = (p: number): number => before.filter((r) => r.partition === p).length;
  await eventually(
    () => {
      const line = c.lines.findLast((l) => l.startsWith('committed ')) ?? 'committed ';
      const committed = new Map(line.slice('committed '.length).split(',').map((e) => e.split('=') as [string, string]));
      for (const id of moved) assert.equal(Number(committed.get(id)), inputsOf(partitionOf(id)), `${id} committed`);
      return true;
    },
    { message: 'the child to kill has committed its input offsets', timeoutMs: 10_000 },
  );
  const exit = await c.kill('SIGKILL');
  assert.equal(exit.signal, 'SIGKILL');
  await eventually(
    () => {
      for (const child of [a, b]) assert.ok(!child.hasExited(), `a surviving child exited:\n${child.stderr()}`);
      assert.equal(tasksOf(a).length, 3);
      assert.equal(tasksOf(b).length, 3);
      assert.deepEqual([...tasksOf(a), ...tasksOf(b)].sort(), ALL_TASKS);
      return true;
    },
    { message: 'the killed child’s tasks move to the other two (3/3)', timeoutMs: 20_000 },
  );

  await produce(log, [...round('in'), ...round('in')]);
  // Every key reaches a count of 4 (at least): read until it has.
  const consumer = log.consumer();
  t.after(() => consumer.close());
  await consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 'out', partition })));
  const out = await pollUntil(
    consumer,
    (all) => {
      const counts = countsByKey(all);
      return KEYS.every((k) => Math.max(...(counts.get(k) ?? [0])) >= 4);
    },
    20_000,
  ).catch((error: unknown) => {
    throw new Error(`not every key reached a count of 4 (a moved task lost its state?): ${String(error)}`);
  });
  const counts = countsByKey(out);
  let duplicates = 0;
  for (const k of KEYS) {
    const seq = counts.get(k)!;
    const what = `${k}${movedKeys.has(k) ? ' (moved)' : ''}: counts ${seq.join(',')}`;
    assert.deepEqual(seq.slice(0, 2), [1, 2], `${what}: before the kill`);
    const afterKill = seq.slice(2);
    // At-least-once: a replay may count a record again (a count repeats or overshoots), but
    // never restarts below the count before the kill, and every record is counted.
    for (const [i, n] of afterKill.entries()) assert.ok(n >= 2 && n >= (afterKill[i - 1] ?? 0), `${what}: continues from 2, never lower`);
    assert.ok(afterKill.at(-1)! >= 4, `${what}: ends at 4 or more`);
    duplicates += seq.length - 4;
  }
  t.diagnostic(`${movedKeys.size} keys moved with tasks ${moved.join(',')}; ${duplicates} replayed outputs (at-least-once)`);
  for (const child of [a, b]) child.send('stop');
  for (const child of [a, b]) await child.waitForLine((l) => l === 'closed', { timeoutMs: 20_000, what: 'closed' });
});

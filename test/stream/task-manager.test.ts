/**
 * The revocation contract of the task manager: `beforeRevoke` (the runtime's commit of the work in
 * flight) runs first with the revoked tasks still live, and its `detach` takes them out of the
 * live set at once, before they are closed — so no batch can reach a revoked task after that
 * commit (on Kafka a late batch would be committed under the group's next generation: a zombie).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringCodec } from '../../src/log/index.ts';
import { ManualClock, topology } from '../../src/stream/index.ts';
import { TaskManager } from '../../src/stream/runtime/task-manager.ts';
import { BufferCollector } from '../../src/stream/task/collector.ts';

function manager(): TaskManager {
  const b = topology();
  b.stream('in', { key: stringCodec, value: stringCodec }).to('out');
  return new TaskManager({ topology: b.build(), applicationId: 'tm', clock: new ManualClock(0), collector: new BufferCollector() });
}

const p0 = { topic: 'in', partition: 0 };
const p1 = { topic: 'in', partition: 1 };

test('revoked tasks stay live during beforeRevoke, leave the live set at detach, and are closed after', async () => {
  const tasks = manager();
  await tasks.onAssigned([p0, p1]);
  const steps: string[] = [];
  tasks.beforeRevoke = async (detach) => {
    steps.push(`commit with ${tasks.tasks().length} tasks`);
    detach();
    steps.push(`detached: p0 ${tasks.get(p0) === undefined ? 'gone' : 'live'}, p1 ${tasks.get(p1) === undefined ? 'gone' : 'live'}, closed ${tasks.closed}`);
  };
  await tasks.onRevoked([p0]);
  assert.deepEqual(steps, ['commit with 2 tasks', 'detached: p0 gone, p1 live, closed 0']);
  assert.equal(tasks.closed, 1, 'the detached task is closed after beforeRevoke');
  assert.deepEqual(tasks.tasks().map((t) => t.partition), [1]);
});

test('without a detach call (or without beforeRevoke) the revoked tasks are still taken out and closed', async () => {
  const tasks = manager();
  await tasks.onAssigned([p0, p1]);
  tasks.beforeRevoke = async () => {};
  await tasks.onRevoked([p0, p1]);
  assert.equal(tasks.tasks().length, 0);
  assert.equal(tasks.closed, 2);
  tasks.beforeRevoke = null;
  await tasks.onAssigned([p1]);
  await tasks.onRevoked([p1]);
  assert.equal(tasks.closed, 3);
});

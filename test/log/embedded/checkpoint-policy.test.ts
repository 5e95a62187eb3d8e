/**
 * Who checkpoints the shared WAL: a process that writes a lot, at once; one that writes little,
 * about once a second; one that wrote nothing, never.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointPolicy } from '../../../src/log/embedded/checkpoint-policy.ts';

test('a process that wrote enough checkpoints at once, one that wrote a little only after the wait, one that wrote nothing never', () => {
  const policy = new CheckpointPolicy(0, 1_000, 1_000);
  assert.equal(policy.due(0, 5_000), false, 'nothing written: no checkpoint, however long');
  assert.equal(policy.due(400, 5_025), true, 'something written and the wait long over');
  policy.done(5_025);
  assert.equal(policy.due(400, 5_050), false);
  assert.equal(policy.due(400, 5_075), false, '800 bytes, 50 ms after the last checkpoint');
  assert.equal(policy.due(400, 5_100), true, '1,200 bytes: enough');
  policy.done(5_100);
  assert.equal(policy.due(10, 6_000), false, 'a little, 900 ms after');
  assert.equal(policy.due(0, 6_100), true, 'a little, 1,000 ms after');
});

test('a checkpoint that could not run leaves the written bytes pending for the next tick', () => {
  const policy = new CheckpointPolicy(0, 1_000, 1_000);
  assert.equal(policy.due(2_000, 10), true);
  // (the checkpoint failed: done() not called)
  assert.equal(policy.due(0, 35), true, 'still due');
  policy.done(35);
  assert.equal(policy.due(0, 60), false);
});

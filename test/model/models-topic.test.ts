/** The models-topic contract shared by serving and training: keys, header flags, the acceptance rule. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerFlag, ModelHeader, modelNameOfKey, modelRecordHeaders, MODELS_TOPIC_CONFIG, shadowKey, supersedes } from '../../src/model/index.ts';
import { bytes } from '../helpers.ts';

test('keys: a shadow candidate is keyed <name>@shadow, and both keys name the model', () => {
  assert.equal(shadowKey('class.pump'), 'class.pump@shadow');
  assert.equal(modelNameOfKey(shadowKey('class.pump')), 'class.pump');
  assert.equal(modelNameOfKey('class.pump'), 'class.pump');
  assert.deepEqual(MODELS_TOPIC_CONFIG, { partitions: 1, cleanupPolicy: 'compact' });
});

test('headers: a flag is set only by the exact value 1; publishing sets exactly the asked flags', () => {
  assert.equal(headerFlag({ [ModelHeader.rollback]: bytes('1') }, ModelHeader.rollback), true);
  for (const v of ['0', '11', '', 'true']) assert.equal(headerFlag({ [ModelHeader.rollback]: bytes(v) }, ModelHeader.rollback), false, `value '${v}'`);
  assert.equal(headerFlag({}, ModelHeader.shadow), false);
  const both = modelRecordHeaders({ rollback: true, shadow: true });
  assert.deepEqual(Object.keys(both).sort(), [ModelHeader.rollback, ModelHeader.shadow]);
  assert.ok(headerFlag(both, ModelHeader.rollback) && headerFlag(both, ModelHeader.shadow));
  assert.deepEqual(modelRecordHeaders({ rollback: false }), {});
});

test('acceptance: a descriptor takes over when none serves, when it is newer, or when it is a rollback', () => {
  assert.equal(supersedes(undefined, 1, false), true);
  assert.equal(supersedes(3, 4, false), true);
  assert.equal(supersedes(3, 3, false), false);
  assert.equal(supersedes(3, 2, false), false);
  assert.equal(supersedes(3, 2, true), true, 'a rollback to an earlier version');
});

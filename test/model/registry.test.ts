import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { DEFAULT_DETECTOR, createRegistry, detectorFactories, detectorNames, getDetectorFactory } from '../../src/model/index.ts';
import { expectCode } from '../helpers.ts';
import { fakeFactory } from './descriptor-fake-factory.ts';

test('every registered factory is keyed by its own kind and describes itself', () => {
  assert.ok(detectorFactories.size >= 3);
  for (const [kind, factory] of detectorFactories) {
    assert.equal(factory.kind, kind);
    assert.ok(factory.description.length > 0, `${kind} has a description`);
  }
  for (const kind of ['robust-zscore', 'isolation-forest', 'half-space-trees']) assert.ok(detectorFactories.has(kind), kind);
});

test('DEFAULT_DETECTOR is registered; getDetectorFactory finds it', () => {
  assert.ok(detectorFactories.has(DEFAULT_DETECTOR));
  assert.equal(getDetectorFactory(DEFAULT_DETECTOR).kind, DEFAULT_DETECTOR);
  assert.deepEqual(detectorNames(), [...detectorFactories.keys()].sort());
});

test('an unknown name → MODEL_UNKNOWN_KIND listing the known names', async () => {
  const err = await expectCode(() => getDetectorFactory('lstm'), ErrorCode.MODEL_UNKNOWN_KIND, "'lstm'", ...detectorNames());
  assert.deepEqual((err as unknown as { details: { known: string[] } }).details.known, detectorNames());
  await expectCode(() => getDetectorFactory('x', createRegistry([])), ErrorCode.MODEL_UNKNOWN_KIND, '(none)');
});

test('createRegistry refuses duplicate or empty kinds', async () => {
  assert.equal(createRegistry([fakeFactory]).get('fake-mean'), fakeFactory);
  await expectCode(() => createRegistry([fakeFactory, fakeFactory]), ErrorCode.INVALID_ARGUMENT, 'registered twice');
  await expectCode(() => createRegistry([{ ...fakeFactory, kind: '' }]), ErrorCode.INVALID_ARGUMENT, 'factories[0].kind');
});

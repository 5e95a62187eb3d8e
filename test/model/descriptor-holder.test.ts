import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { createDescriptor, createModelHolder, createRegistry, type ModelDescriptor } from '../../src/model/index.ts';
import { fakeFactory } from './descriptor-fake-factory.ts';

const registry = createRegistry([fakeFactory]);

function descriptor(version: number, scale = 0.5, name = 'pump'): ModelDescriptor {
  return createDescriptor({ name, version, model: fakeFactory.fromParams({ scale }, ['x']), createdAt: version });
}

test('an invalid, older or foreign model never replaces the valid one held', async () => {
  const holder = createModelHolder({ registry, expectFeatures: ['x'] });
  assert.equal(holder.current === null, true);
  const first = await holder.offer(JSON.stringify(descriptor(2)));
  assert.ok(first.accepted);
  const held = holder.current;

  const tampered = { ...descriptor(3), payload: { type: 'json', params: { scale: 9 } } };
  const rejected: [unknown, string][] = [
    ['{"broken', ErrorCode.MODEL_INVALID],
    [tampered, ErrorCode.MODEL_CHECKSUM_MISMATCH],
    [{ ...descriptor(3), kind: 'nope' }, ErrorCode.MODEL_UNKNOWN_KIND],
    [createDescriptor({ name: 'pump', version: 3, kind: fakeFactory.kind, params: { scale: -1 }, features: ['x'], createdAt: 0 }), ErrorCode.MODEL_INVALID],
    [createDescriptor({ name: 'pump', version: 3, model: fakeFactory.fromParams({ scale: 1 }, ['y']), createdAt: 0 }), ErrorCode.MODEL_FEATURE_MISMATCH],
    [descriptor(2, 0.7), ErrorCode.MODEL_VERSION_CONFLICT],
    [descriptor(1), ErrorCode.MODEL_VERSION_CONFLICT],
    [descriptor(9, 0.5, 'fan'), ErrorCode.INVALID_ARGUMENT],
  ];
  for (const [offer, code] of rejected) {
    const result = await holder.offer(offer);
    assert.equal(result.accepted, false);
    if (!result.accepted) assert.equal(result.error.code, code, result.error.message);
    assert.equal(holder.current, held, 'the held model stays');
  }
  const next = await holder.offer(descriptor(3, 0.9));
  assert.ok(next.accepted);
  assert.equal(holder.current?.descriptor.version, 3);
});

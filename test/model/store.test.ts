import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { canonicalJson } from '../../src/util/canonical-json.ts';
import { ModelStore, createDescriptor, createRegistry, type DetectorModel, type ModelDescriptor, type Observation } from '../../src/model/index.ts';
import { expectCode, tempDir } from '../helpers.ts';
import { fakeFactory, fakeOnnxFactory, series } from './descriptor-fake-factory.ts';

const registry = createRegistry([fakeFactory, fakeOnnxFactory()]);

function descriptor(version: number, scale = 0.5, name = 'pump'): ModelDescriptor {
  return createDescriptor({
    name,
    version,
    model: fakeFactory.fromParams({ scale }, ['x']),
    createdAt: 1_700_000_000_000 + version,
    trainedOn: { from: 0, to: 10, records: 11, parentVersion: version > 1 ? version - 1 : null },
  });
}

async function newStore(t: TestContext, options: { inlineLimitBytes?: number } = {}): Promise<ModelStore> {
  const dir = await tempDir('sluice-models-');
  t.after(dir.remove);
  return new ModelStore({ dir: dir.path, registry, ...options });
}

function scoresOf(model: DetectorModel, data: readonly Observation[]): number[] {
  const state = model.newState();
  return data.map((o) => model.score(state, o));
}

describe('model store', () => {
  test('keeps every version: save, get, latest, versions, list, load', async (t) => {
    const store = await newStore(t);
    assert.equal(await store.latest('pump'), null);
    assert.deepEqual(await store.versions('pump'), []);
    assert.deepEqual(await store.list(), []);
    for (const v of [1, 2, 5]) await store.save(descriptor(v, v / 10));
    await store.save(descriptor(1, 0.3, 'fan'));
    assert.deepEqual(await store.versions('pump'), [1, 2, 5]);
    assert.deepEqual(await store.list(), [
      { name: 'fan', versions: [1] },
      { name: 'pump', versions: [1, 2, 5] },
    ]);
    assert.deepEqual(await store.get('pump', 2), descriptor(2, 0.2));
    assert.deepEqual(await store.latest('pump'), descriptor(5, 0.5));
    const { descriptor: d, model } = await store.load('pump');
    assert.equal(d.version, 5);
    const data = series(100);
    assert.deepEqual(scoresOf(model, data), scoresOf(fakeFactory.fromParams({ scale: 0.5 }, ['x']), data));
    assert.equal((await store.load('pump', 1)).descriptor.version, 1);
    await expectCode(store.get('pump', 3), ErrorCode.MODEL_NOT_FOUND, "'pump' v3");
    await expectCode(store.load('nothing'), ErrorCode.MODEL_NOT_FOUND, 'nothing');
    await expectCode(store.get('../etc', 1), ErrorCode.INVALID_ARGUMENT);
  });

  test('versions only grow; re-saving an identical descriptor is a no-op', async (t) => {
    const store = await newStore(t);
    await store.save(descriptor(3));
    await expectCode(store.save(descriptor(2)), ErrorCode.MODEL_VERSION_CONFLICT, '/version', 'latest stored version 3');
    await expectCode(store.save(descriptor(3, 0.9)), ErrorCode.MODEL_VERSION_CONFLICT, 'already stored as v3');
    assert.deepEqual(await store.save(descriptor(3)), descriptor(3));
    await store.save(descriptor(4));
    assert.deepEqual(await store.save(descriptor(3)), descriptor(3), 'an identical older version is still a no-op');
    assert.deepEqual(await store.versions('pump'), [3, 4]);
  });

  test('concurrent saves of one version with different content: exactly one wins', async (t) => {
    const store = await newStore(t);
    const results = await Promise.allSettled([0.1, 0.2, 0.3, 0.4].map((s) => store.save(descriptor(1, s))));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, ErrorCode.MODEL_VERSION_CONFLICT);
    assert.deepEqual(await store.get('pump', 1), (won[0] as PromiseFulfilledResult<ModelDescriptor>).value);
  });

  test('writes are atomic: no temporary files remain, and a leftover one is ignored', async (t) => {
    const store = await newStore(t);
    await store.save(descriptor(1));
    assert.deepEqual(await readdir(join(store.dir, 'pump')), ['v1.json']);
    const text = await readFile(join(store.dir, 'pump', 'v1.json'), 'utf8');
    assert.equal(text, canonicalJson(descriptor(1)), 'stored as canonical JSON');
    // What a crash between write and link leaves behind:
    await writeFile(join(store.dir, 'pump', '.tmp-deadbeef'), '{"half":');
    assert.deepEqual(await store.versions('pump'), [1]);
    await store.save(descriptor(2));
    assert.deepEqual(await store.versions('pump'), [1, 2]);
  });

  test('invalid descriptors are refused and nothing is written', async (t) => {
    const store = await newStore(t);
    const d = descriptor(1);
    await expectCode(store.save({ ...d, payload: { type: 'json', params: { scale: 2 } } }), ErrorCode.MODEL_CHECKSUM_MISMATCH);
    await expectCode(store.save({ ...d, kind: 'unknown-kind' }), ErrorCode.MODEL_UNKNOWN_KIND);
    const bad = createDescriptor({ name: 'pump', version: 1, kind: fakeFactory.kind, params: { scale: 0 }, features: ['x'], createdAt: 0 });
    await expectCode(store.save(bad), ErrorCode.MODEL_INVALID, 'scale');
    assert.deepEqual(await store.list(), []);
  });

  test('large payloads live in their own file, referenced by a file: URI; both are verified on load', async (t) => {
    const store = await newStore(t, { inlineLimitBytes: 16 });
    const big = createDescriptor({ name: 'big', version: 1, kind: fakeFactory.kind, params: { scale: 0.125, note: 'x'.repeat(100) }, features: ['x'], createdAt: 0 });
    const stored = await store.save(big);
    assert.equal(stored.payload.type, 'ref');
    assert.deepEqual(stored.payload, { type: 'ref', uri: `file:big/${big.sha256}.payload`, size: canonicalJson(big.payload.type === 'json' ? big.payload.params : null).length });
    assert.equal(stored.sha256, big.sha256, 'the checksum does not depend on where the payload lives');
    assert.deepEqual(await store.get('big', 1), stored);
    const data = series(60);
    assert.deepEqual(scoresOf((await store.load('big')).model, data), scoresOf(fakeFactory.fromParams({ scale: 0.125 }, ['x']), data));

    const onnxBytes = new Uint8Array(64).map((_, i) => i);
    const onnx = createDescriptor({ name: 'sk', version: 1, kind: 'isolation-forest', bytes: onnxBytes, features: ['x'], createdAt: 0 });
    const storedOnnx = await store.save(onnx);
    assert.equal(storedOnnx.payload.type, 'ref');
    assert.equal((await store.load('sk')).model.kind, 'onnx');

    // A payload file changed behind the store's back is caught when the model is loaded.
    await writeFile(join(store.dir, 'big', `${big.sha256}.payload`), canonicalJson({ scale: 0.5, note: 'x'.repeat(100) }));
    await expectCode(store.load('big'), ErrorCode.MODEL_CHECKSUM_MISMATCH);
  });

  test('a descriptor saved from a reference outside the store is copied in', async (t) => {
    const store = await newStore(t);
    const outside = await tempDir();
    t.after(outside.remove);
    const d = descriptor(1);
    const params = canonicalJson({ scale: 0.5 });
    await writeFile(join(outside.path, 'params.json'), params);
    const stored = await store.save({ ...d, payload: { type: 'ref', uri: 'file:params.json', size: params.length } }, { baseDir: outside.path });
    assert.deepEqual(stored, d, 'small payloads are stored inline');
    await expectCode(
      store.save({ ...descriptor(2), payload: { type: 'ref', uri: 'file:nope.json', size: 3 } }, { baseDir: outside.path }),
      ErrorCode.MODEL_NOT_FOUND,
    );
  });

  test('an invalid stored file throws on read; it never stands in for, or is replaced by, another version', async (t) => {
    const store = await newStore(t);
    await store.save(descriptor(1));
    await store.save(descriptor(2));
    const path = join(store.dir, 'pump', 'v2.json');
    const tampered = JSON.parse(await readFile(path, 'utf8')) as Record<string, any>;
    tampered.payload.params.scale = 7;
    await writeFile(path, JSON.stringify(tampered));
    await expectCode(store.latest('pump'), ErrorCode.MODEL_CHECKSUM_MISMATCH);
    await expectCode(store.load('pump'), ErrorCode.MODEL_CHECKSUM_MISMATCH);
    assert.equal((await store.get('pump', 1)).version, 1);
    await writeFile(join(store.dir, 'pump', 'v3.json'), '{not json');
    await expectCode(store.get('pump', 3), ErrorCode.MODEL_INVALID, 'not valid JSON');
    await writeFile(join(store.dir, 'pump', 'v4.json'), canonicalJson(descriptor(5)));
    await expectCode(store.get('pump', 4), ErrorCode.MODEL_INVALID, "belongs to 'pump' v4");
  });

  test('options are validated; the default directory is ./data/models', async () => {
    assert.ok(new ModelStore().dir.endsWith(join('data', 'models')));
    await expectCode(() => new ModelStore({ inlineLimitBytes: -1 }), ErrorCode.INVALID_ARGUMENT, 'inlineLimitBytes');
    await expectCode(() => new ModelStore({ maxPayloadBytes: 0 }), ErrorCode.INVALID_ARGUMENT, 'maxPayloadBytes');
    await expectCode(() => new ModelStore({ dir: '' }), ErrorCode.INVALID_ARGUMENT, 'dir');
  });
});

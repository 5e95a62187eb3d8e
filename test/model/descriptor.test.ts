import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { canonicalJson, canonicalJsonBytes } from '../../src/util/canonical-json.ts';
import { sha256Hex } from '../../src/util/sha256.ts';
import {
  createDescriptor,
  createRegistry,
  detectorFactories,
  loadModel,
  loadModelAsync,
  onnxFactory,
  parseDescriptor,
  signedBytes,
  type DetectorModel,
  type ModelDescriptor,
  type Observation,
} from '../../src/model/index.ts';
import { expectCode, tempDir } from '../helpers.ts';
import { FAKE_KIND, fakeFactory, fakeOnnxFactory, series } from './descriptor-fake-factory.ts';

const registry = createRegistry([fakeFactory]);

function fakeDescriptor(overrides: Partial<Parameters<typeof createDescriptor>[0]> = {}): ModelDescriptor {
  return createDescriptor({
    name: 'pump-a',
    version: 3,
    model: fakeFactory.fromParams({ scale: 0.25 }, ['x']),
    createdAt: 1_700_000_000_000,
    trainedOn: { from: 1_600_000_000_000, to: 1_600_000_600_000, records: 11, parentVersion: 2 },
    metrics: { nabStandard: 61.5 },
    ...overrides,
  });
}

/** `d` as JSON with `edit` applied to the parsed copy. */
function edited(d: ModelDescriptor, edit: (j: Record<string, any>) => void): string {
  const j = JSON.parse(JSON.stringify(d)) as Record<string, any>;
  edit(j);
  return JSON.stringify(j);
}

function scoresOf(model: DetectorModel, data: readonly Observation[]): number[] {
  const state = model.newState();
  return data.map((o) => model.score(state, o));
}

describe('canonical JSON (the checksum rule)', () => {
  test('sorts keys at every level, writes no whitespace, formats numbers as ECMAScript does', () => {
    const a = { b: 1, a: [1, 'x', null, true], c: { z: -0, y: 1e21, x: 0.1 } };
    const b = { c: { x: 0.1, y: 1e21, z: 0 }, a: [1, 'x', null, true], b: 1 };
    assert.equal(canonicalJson(a), '{"a":[1,"x",null,true],"b":1,"c":{"x":0.1,"y":1e+21,"z":0}}');
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.deepEqual(canonicalJsonBytes('é'), new TextEncoder().encode('"é"'));
  });

  test('rejects what JSON cannot carry, naming the path', async () => {
    await expectCode(() => canonicalJson({ a: [1, Number.NaN] }), ErrorCode.INVALID_ARGUMENT, '$.a[1]');
    await expectCode(() => canonicalJson({ a: undefined }), ErrorCode.INVALID_ARGUMENT, '$.a');
    await expectCode(() => canonicalJson({ m: new Map() }), ErrorCode.INVALID_ARGUMENT, '$.m', 'Map');
  });

  test('a native descriptor\'s sha256 is the SHA-256 of the canonical JSON of its params', () => {
    const d = fakeDescriptor();
    assert.equal(d.sha256, sha256Hex(canonicalJson({ scale: 0.25 })));
    assert.deepEqual(d.payload, { type: 'json', params: { scale: 0.25 } });
  });
});

describe('descriptor round trip', () => {
  test('descriptor → JSON → parse → model gives identical scores (fake detector)', () => {
    const data = series(200);
    const original = fakeFactory.fromParams({ scale: 0.25 }, ['x']);
    const d = fakeDescriptor({ model: original });
    const parsed = parseDescriptor(JSON.stringify(d), { registry });
    assert.deepEqual(parsed, d);
    const loaded = loadModel(parsed, registry);
    assert.deepEqual(scoresOf(loaded, data), scoresOf(original, data));
  });

  for (const [kind, factory] of detectorFactories) {
    if (kind === 'onnx') continue;
    test(`${kind}: fit → descriptor → JSON → parse → load scores identically`, () => {
      const data = series(400);
      const model = factory.fit(data.slice(0, 250), { features: ['x', 'y'], seed: 7 });
      const d = createDescriptor({ name: `rt-${kind}`, version: 1, model, createdAt: 0, trainedOn: { from: data[0]!.ts, to: data[249]!.ts, records: 250 } });
      const parsed = parseDescriptor(JSON.stringify(d), { registry: detectorFactories, expectFeatures: ['x', 'y'] });
      const loaded = loadModel(parsed, detectorFactories);
      assert.equal(loaded.kind, kind);
      assert.deepEqual(scoresOf(loaded, data.slice(250)), scoresOf(model, data.slice(250)));
    });
  }
});

test('onnx: the committed scikit-learn fixture through a descriptor scores as the onnx factory does directly', (t) => {
  const fixture = new URL('../fixtures/onnx/', import.meta.url);
  const bytes = new Uint8Array(readFileSync(new URL('iforest.onnx', fixture)));
  const { features, inputs } = JSON.parse(readFileSync(new URL('iforest-expected.json', fixture), 'utf8')) as { features: string[]; inputs: number[][] };
  let direct: DetectorModel;
  try {
    direct = onnxFactory.fromParams(bytes, features);
  } catch (error) {
    t.skip(`onnxruntime-node cannot run here: ${(error as Error).message}`);
    return;
  }
  const d = createDescriptor({ name: 'sk-iforest', version: 1, kind: 'isolation-forest', bytes, features, createdAt: 0 });
  const loaded = loadModel(parseDescriptor(JSON.stringify(d), { registry: detectorFactories, expectFeatures: features }), detectorFactories);
  const data = inputs.map((row, i) => ({ ts: i, values: Object.fromEntries(features.map((f, j) => [f, row[j]!])) }));
  try {
    assert.deepEqual(scoresOf(loaded, data), scoresOf(direct, data));
  } finally {
    for (const m of [direct, loaded]) (m as { close?: () => void }).close?.();
  }
});

describe('parseDescriptor: typed errors naming the path', () => {
  const d = fakeDescriptor();

  test('not JSON → MODEL_INVALID', async () => {
    await expectCode(() => parseDescriptor('{"name":', { registry }), ErrorCode.MODEL_INVALID, 'not valid JSON');
  });

  test('unknown kind → MODEL_UNKNOWN_KIND listing the known kinds', async () => {
    const text = edited(d, (j) => (j.kind = 'no-such-detector'));
    await expectCode(() => parseDescriptor(text, { registry }), ErrorCode.MODEL_UNKNOWN_KIND, '/kind', 'no-such-detector', FAKE_KIND);
  });

  test('unknown format → MODEL_UNKNOWN_FORMAT', async () => {
    await expectCode(() => parseDescriptor(edited(d, (j) => (j.format = 'pickle')), { registry }), ErrorCode.MODEL_UNKNOWN_FORMAT, '/format', 'pickle');
  });

  test('onnx format without an onnx factory → MODEL_UNKNOWN_FORMAT', async () => {
    const onnx = createDescriptor({ name: 'o', version: 1, kind: 'isolation-forest', bytes: new Uint8Array([1, 2, 3]), features: ['x'], createdAt: 0 });
    await expectCode(() => parseDescriptor(JSON.stringify(onnx), { registry }), ErrorCode.MODEL_UNKNOWN_FORMAT, "'onnx'");
  });

  test('payload changed after hashing → MODEL_CHECKSUM_MISMATCH', async () => {
    const text = edited(d, (j) => (j.payload.params.scale = 0.5));
    await expectCode(() => parseDescriptor(text, { registry }), ErrorCode.MODEL_CHECKSUM_MISMATCH, '/sha256');
  });

  test('payload over the size limit → MODEL_TOO_LARGE (inline and by reference)', async () => {
    await expectCode(() => parseDescriptor(JSON.stringify(d), { registry, maxPayloadBytes: 5 }), ErrorCode.MODEL_TOO_LARGE, '/payload');
    const ref = edited(d, (j) => (j.payload = { type: 'ref', uri: 'file:x.json', size: 1e9 }));
    await expectCode(() => parseDescriptor(ref, { registry }), ErrorCode.MODEL_TOO_LARGE, '/payload/size');
  });

  test('features the caller does not expect → MODEL_FEATURE_MISMATCH', async () => {
    const two = fakeDescriptor({ model: fakeFactory.fromParams({ scale: 1 }, ['x', 'y']), window: { size: 8 } });
    const json = JSON.stringify(two);
    await expectCode(() => parseDescriptor(json, { registry, expectFeatures: ['y', 'x'] }), ErrorCode.MODEL_FEATURE_MISMATCH, '/features/metrics');
    await expectCode(() => parseDescriptor(json, { registry, expectFeatures: ['x'], featureMatch: 'subset' }), ErrorCode.MODEL_FEATURE_MISMATCH, 'y');
    parseDescriptor(json, { registry, expectFeatures: ['y', 'z', 'x'], featureMatch: 'subset' });
    parseDescriptor(json, { registry, expectFeatures: ['x', 'y'], expectWindow: { size: 8 } });
    await expectCode(() => parseDescriptor(json, { registry, expectWindow: { size: 16 } }), ErrorCode.MODEL_FEATURE_MISMATCH, '/features/window');
    await expectCode(() => parseDescriptor(JSON.stringify(d), { registry, expectWindow: { size: 8 } }), ErrorCode.MODEL_FEATURE_MISMATCH, '/features/window');
  });

  test('parameters that fail the factory\'s schema → MODEL_INVALID with its reason', async () => {
    const params = { scale: -1 };
    const bad = edited(d, (j) => {
      j.payload.params = params;
      j.sha256 = sha256Hex(canonicalJson(params));
    });
    await expectCode(() => parseDescriptor(bad, { registry }), ErrorCode.MODEL_INVALID, '/payload', '/params/scale must be a number > 0');
    parseDescriptor(bad, { registry, validateParams: false });
  });

  test('structural checks', async () => {
    const cases: [string, (j: Record<string, any>) => void, string][] = [
      ['version 0', (j) => (j.version = 0), '/version'],
      ['fractional version', (j) => (j.version = 1.5), '/version'],
      ['version as a string', (j) => (j.version = '3'), '/version'],
      ['name with a slash', (j) => (j.name = 'a/b'), '/name'],
      ['name starting with a dot', (j) => (j.name = '.hidden'), '/name'],
      ['empty name', (j) => (j.name = ''), '/name'],
      ['unknown field', (j) => (j.extra = 1), '/extra'],
      ['missing sha256', (j) => delete j.sha256, '/sha256'],
      ['uppercase sha256', (j) => (j.sha256 = j.sha256.toUpperCase()), '/sha256'],
      ['json payload on onnx', (j) => (j.format = 'onnx'), '/payload/type'],
      ['unknown payload type', (j) => (j.payload.type = 'zip'), '/payload/type'],
      ['payload without params', (j) => delete j.payload.params, '/payload/params'],
      ['non-file uri', (j) => (j.payload = { type: 'ref', uri: 'http://x/y', size: 3 }), '/payload/uri'],
      ['negative ref size', (j) => (j.payload = { type: 'ref', uri: 'file:y', size: -1 }), '/payload/size'],
      ['features not an object', (j) => (j.features = ['x']), '/features'],
      ['no metrics', (j) => (j.features.metrics = []), '/features/metrics'],
      ['duplicate metrics', (j) => (j.features.metrics = ['x', 'x']), '/features/metrics/1'],
      ['non-string metric', (j) => (j.features.metrics = [3]), '/features/metrics/0'],
      ['negative createdAt', (j) => (j.createdAt = -1), '/createdAt'],
      ['ISO createdAt', (j) => (j.createdAt = '2024-01-01'), '/createdAt'],
      ['from after to', (j) => (j.trainedOn.from = j.trainedOn.to + 1), '/trainedOn/from'],
      ['only from', (j) => (j.trainedOn.to = null), '/trainedOn'],
      ['negative records', (j) => (j.trainedOn.records = -1), '/trainedOn/records'],
      ['parent not older', (j) => (j.trainedOn.parentVersion = 3), '/trainedOn/parentVersion'],
      ['metric not a number', (j) => (j.metrics.f1 = 'high'), '/metrics/f1'],
      ['settings an array', (j) => (j.settings = []), '/settings'],
      ['signature without value', (j) => (j.signature = { algorithm: 'ed25519', keyId: 'k' }), '/signature/value'],
    ];
    for (const [what, edit, path] of cases) {
      const err = await expectCode(() => parseDescriptor(edited(d, edit), { registry }), ErrorCode.MODEL_INVALID, path);
      assert.ok(err.message.includes("'"), `${what}: names the descriptor: ${err.message}`);
    }
    await expectCode(() => parseDescriptor('[1]', { registry }), ErrorCode.MODEL_INVALID, 'must be an object');
    await expectCode(() => parseDescriptor({ ...d, metrics: { f1: Number.NaN } }, { registry }), ErrorCode.MODEL_INVALID, '/metrics/f1');
  });

  test('signatures: verified over signedBytes when a verifier is given', async () => {
    const signed = fakeDescriptor({ signature: { algorithm: 'test', keyId: 'k1', value: 'c2ln' } });
    const seen: Uint8Array[] = [];
    parseDescriptor(JSON.stringify(signed), {
      registry,
      verifySignature: (desc, bytes) => {
        seen.push(bytes);
        return desc.signature?.value === 'c2ln';
      },
    });
    assert.deepEqual(seen[0], signedBytes(signed));
    assert.ok(!new TextDecoder().decode(seen[0]).includes('signature'));
    await expectCode(() => parseDescriptor(JSON.stringify(signed), { registry, verifySignature: () => false }), ErrorCode.MODEL_INVALID, '/signature', 'does not verify');
    await expectCode(() => parseDescriptor(JSON.stringify(d), { registry, verifySignature: () => true }), ErrorCode.MODEL_INVALID, '/signature', 'required');
  });
});

describe('loadModel', () => {
  test('accepts the registry or options; checks again what it loads', async () => {
    const d = fakeDescriptor();
    assert.equal(loadModel(d, { registry }).kind, FAKE_KIND);
    const tampered = { ...d, payload: { type: 'json' as const, params: { scale: 9 } } };
    await expectCode(() => loadModel(tampered, registry), ErrorCode.MODEL_CHECKSUM_MISMATCH);
    await expectCode(() => loadModel(d, { registry, expectFeatures: ['z'] }), ErrorCode.MODEL_FEATURE_MISMATCH);
    await expectCode(() => loadModel(d, createRegistry([])), ErrorCode.MODEL_UNKNOWN_KIND, '(none)');
  });

  test('a factory whose model disagrees with the descriptor\'s features → MODEL_FEATURE_MISMATCH', async () => {
    const liar = { ...fakeFactory, fromParams: (p: unknown) => fakeFactory.fromParams(p, ['other']) };
    await expectCode(() => loadModel(fakeDescriptor(), createRegistry([liar])), ErrorCode.MODEL_FEATURE_MISMATCH, '/features/metrics');
  });

  test('payload by reference: resolved against baseDir, size and hash verified', async (t) => {
    const dir = await tempDir();
    t.after(dir.remove);
    const d = fakeDescriptor();
    const bytes = canonicalJsonBytes({ scale: 0.25 });
    await writeFile(join(dir.path, 'p.json'), bytes);
    const ref = { ...d, payload: { type: 'ref' as const, uri: 'file:p.json', size: bytes.byteLength } };
    const data = series(50);
    assert.deepEqual(scoresOf(loadModel(ref, { registry, baseDir: dir.path }), data), scoresOf(loadModel(d, registry), data));
    assert.deepEqual(scoresOf(await loadModelAsync(ref, { registry, baseDir: dir.path }), data), scoresOf(loadModel(d, registry), data));
    const absolute = { ...ref, payload: { ...ref.payload, uri: pathToFileURL(join(dir.path, 'p.json')).href } };
    assert.equal(loadModel(absolute, registry).kind, FAKE_KIND);

    await expectCode(() => loadModel({ ...ref, payload: { ...ref.payload, size: 3 } }, { registry, baseDir: dir.path }), ErrorCode.MODEL_CHECKSUM_MISMATCH, '/payload/size');
    await expectCode(() => loadModel(ref, { registry, baseDir: dir.path, maxPayloadBytes: 4 }), ErrorCode.MODEL_TOO_LARGE);
    await expectCode(() => loadModel({ ...ref, payload: { ...ref.payload, uri: 'file:missing.json' } }, { registry, baseDir: dir.path }), ErrorCode.MODEL_NOT_FOUND, 'missing.json');
    await expectCode(loadModelAsync({ ...ref, payload: { ...ref.payload, uri: 'file:missing.json' } }, { registry, baseDir: dir.path }), ErrorCode.MODEL_NOT_FOUND);
    await expectCode(() => loadModel({ ...ref, payload: { ...ref.payload, uri: 'file:../p.json' } }, { registry, baseDir: dir.path }), ErrorCode.MODEL_INVALID, 'leaves the base directory');

    const other = canonicalJsonBytes({ scale: 0.75 });
    await writeFile(join(dir.path, 'q.json'), other);
    const swapped = { ...ref, payload: { ...ref.payload, uri: 'file:q.json', size: other.byteLength } };
    await expectCode(() => loadModel(swapped, { registry, baseDir: dir.path }), ErrorCode.MODEL_CHECKSUM_MISMATCH, '/sha256');
  });

  test('onnx format: handed to the factory registered as kind onnx, with the verified bytes and settings', async () => {
    const onnx = fakeOnnxFactory();
    const reg = createRegistry([fakeFactory, onnx]);
    const bytes = new Uint8Array([8, 1, 18, 4, 116, 101, 115, 116]);
    const d = createDescriptor({ name: 'sk-iforest', version: 1, kind: 'isolation-forest', bytes, features: ['x', 'y'], settings: { output: 'scores' }, createdAt: 0 });
    assert.equal(d.format, 'onnx');
    assert.equal(d.sha256, sha256Hex(bytes));
    const parsed = parseDescriptor(JSON.stringify(d), { registry: reg });
    const model = loadModel(parsed, reg);
    assert.deepEqual(model.features, ['x', 'y']);
    assert.deepEqual(onnx.received[0], { output: 'scores', model: bytes });

    const bad = edited(d, (j) => (j.payload.data = Buffer.from([9, 9]).toString('base64')));
    await expectCode(() => parseDescriptor(bad, { registry: reg }), ErrorCode.MODEL_CHECKSUM_MISMATCH);
    await expectCode(() => parseDescriptor(edited(d, (j) => (j.payload.data = 'not base64!')), { registry: reg }), ErrorCode.MODEL_INVALID, '/payload/data');
    await expectCode(() => loadModel(d, registry), ErrorCode.MODEL_UNKNOWN_FORMAT, "'onnx'");
  });

  test('an asynchronous onnx factory: loadModelAsync awaits it, loadModel says to use it', async () => {
    const reg = createRegistry([fakeOnnxFactory({ async: true })]);
    const d = createDescriptor({ name: 'o', version: 1, kind: 'onnx', bytes: new Uint8Array([1]), features: ['x'], createdAt: 0 });
    assert.equal((await loadModelAsync(d, reg)).kind, 'onnx');
    await expectCode(() => loadModel(d, reg), ErrorCode.MODEL_ONNX, 'loadModelAsync');
    const failing = createRegistry([{ ...fakeOnnxFactory(), fromParams: () => Promise.reject(new Error('bad graph')) as never }]);
    await expectCode(loadModelAsync(d, failing), ErrorCode.MODEL_ONNX, 'bad graph');
  });

  test('createDescriptor checks what it builds', async () => {
    await expectCode(() => fakeDescriptor({ version: 0 }), ErrorCode.MODEL_INVALID, '/version');
    await expectCode(() => createDescriptor({ name: 'n', version: 1, kind: FAKE_KIND, features: ['x'] }), ErrorCode.MODEL_INVALID, 'needs `model` or `params`');
    await expectCode(() => createDescriptor({ name: 'n', version: 1, kind: FAKE_KIND, params: { a: 1 } }), ErrorCode.MODEL_INVALID, '/features');
    const d = createDescriptor({ name: 'n', version: 1, kind: FAKE_KIND, params: { scale: 1 }, features: ['x'], createdAt: 5 });
    assert.deepEqual(d.trainedOn, { from: null, to: null, records: 0, parentVersion: null });
  });
});

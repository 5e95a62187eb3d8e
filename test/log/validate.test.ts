/** Unit tests of the log layer's boundary checks (src/log/validate.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import type { CreateTopicOptions, ProducerRecord } from '../../src/log/types.ts';
import {
  assertOffset,
  assertOpen,
  assertPartition,
  assertProducerRecord,
  assertTopicName,
  definedOnly,
  recordSize,
  resolveTopicConfig,
  TOPIC_DEFAULTS,
} from '../../src/log/validate.ts';
import { bytes, expectCode } from '../helpers.ts';

describe('assertTopicName', () => {
  it('accepts legal names up to 249 characters', () => {
    for (const name of ['a', 'telemetry', 'telemetry.dlq', 'A_b-C.9', '...', '.a', 'x'.repeat(249)]) {
      assert.doesNotThrow(() => assertTopicName(name), name);
    }
  });

  it('rejects illegal names with LOG_INVALID_TOPIC_NAME naming them', async () => {
    for (const name of ['', '.', '..', 'a b', 'a/b', 'a:b', 'ü', 'x'.repeat(250), 'tab\there']) {
      await expectCode(() => assertTopicName(name), ErrorCode.LOG_INVALID_TOPIC_NAME, JSON.stringify(name));
    }
  });

  it('rejects names that are not strings', async () => {
    for (const name of [undefined, null, 42, {}, ['a']]) {
      await expectCode(() => assertTopicName(name), ErrorCode.LOG_INVALID_TOPIC_NAME);
    }
  });
});

describe('assertPartition', () => {
  it('accepts integers in [0, partitions)', () => {
    for (const p of [0, 1, 4]) assert.doesNotThrow(() => assertPartition('t', p, 5));
  });

  it('rejects everything else with LOG_INVALID_PARTITION naming topic and partition', async () => {
    for (const p of [-1, 5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1', null, undefined]) {
      await expectCode(() => assertPartition('orders', p, 5), ErrorCode.LOG_INVALID_PARTITION, "'orders'", String(p), '0..4');
    }
  });
});

describe('assertOffset', () => {
  it('accepts non-negative safe integers', () => {
    for (const o of [0, 1, Number.MAX_SAFE_INTEGER]) assert.doesNotThrow(() => assertOffset('offset', o));
  });

  it('rejects the rest with SLUICE_INVALID_ARGUMENT naming what', async () => {
    for (const o of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, '3', null]) {
      await expectCode(() => assertOffset('seek offset', o), ErrorCode.INVALID_ARGUMENT, 'seek offset', String(o));
    }
  });
});

describe('resolveTopicConfig', () => {
  it('fills in the defaults', () => {
    assert.deepEqual(resolveTopicConfig('t'), { partitions: 1, retentionMs: null, retentionBytes: null, cleanupPolicy: 'delete', segmentMs: null });
    assert.deepEqual(resolveTopicConfig('t', {}), { ...TOPIC_DEFAULTS });
  });

  it('keeps given values and ignores undefined ones', () => {
    const options = { partitions: 6, retentionMs: 1_000, retentionBytes: 2_048, cleanupPolicy: 'compact', segmentMs: 100 } as const;
    assert.deepEqual(resolveTopicConfig('t', options), options);
    const withUndefined = { partitions: undefined, cleanupPolicy: 'compact' } as unknown as CreateTopicOptions;
    assert.deepEqual(resolveTopicConfig('t', withUndefined), { ...TOPIC_DEFAULTS, cleanupPolicy: 'compact' });
    assert.deepEqual(resolveTopicConfig('t', { retentionMs: null, retentionBytes: null, segmentMs: null }), { ...TOPIC_DEFAULTS });
  });

  it('accepts up to 10 000 partitions', () => {
    assert.equal(resolveTopicConfig('t', { partitions: 10_000 }).partitions, 10_000);
  });

  it('checks the topic name', async () => {
    await expectCode(() => resolveTopicConfig('a b'), ErrorCode.LOG_INVALID_TOPIC_NAME);
  });

  it('rejects bad options with SLUICE_INVALID_ARGUMENT naming the topic and the option', async () => {
    const cases: readonly (readonly [unknown, string])[] = [
      [{ partitions: 0 }, 'partitions'],
      [{ partitions: -1 }, 'partitions'],
      [{ partitions: 2.5 }, 'partitions'],
      [{ partitions: 10_001 }, 'partitions'],
      [{ partitions: '3' }, 'partitions'],
      [{ partitions: null }, 'partitions'],
      [{ retentionMs: 0 }, 'retentionMs'],
      [{ retentionMs: -5 }, 'retentionMs'],
      [{ retentionMs: 1.5 }, 'retentionMs'],
      [{ retentionBytes: 0 }, 'retentionBytes'],
      [{ retentionBytes: Number.POSITIVE_INFINITY }, 'retentionBytes'],
      [{ segmentMs: 0 }, 'segmentMs'],
      [{ segmentMs: 'soon' }, 'segmentMs'],
      [{ cleanupPolicy: 'keep' }, 'cleanupPolicy'],
      [{ cleanupPolicy: null }, 'cleanupPolicy'],
    ];
    for (const [options, path] of cases) {
      await expectCode(() => resolveTopicConfig('orders', options as CreateTopicOptions), ErrorCode.INVALID_ARGUMENT, "'orders'", path);
    }
  });
});

describe('definedOnly', () => {
  it('drops undefined fields and keeps null ones', () => {
    assert.deepEqual(definedOnly({ a: 1, b: undefined, c: null }), { a: 1, c: null });
  });
});

describe('recordSize', () => {
  it('counts key, value, header names and header values in bytes', () => {
    assert.equal(recordSize({ topic: 't', value: new Uint8Array(10) }), 10);
    assert.equal(recordSize({ topic: 't', key: new Uint8Array(3), value: new Uint8Array(10) }), 13);
    assert.equal(recordSize({ topic: 't', key: null, value: new Uint8Array(0) }), 0);
    assert.equal(recordSize({ topic: 't', value: new Uint8Array(1), headers: { ab: new Uint8Array(4), c: new Uint8Array(0) } }), 1 + 2 + 4 + 1);
  });

  it('counts header names as UTF-8 bytes', () => {
    // 'ü' is one UTF-16 unit but two bytes on the wire
    assert.equal(recordSize({ topic: 't', value: new Uint8Array(0), headers: { 'ü': new Uint8Array(0) } }), 2);
  });
});

describe('assertProducerRecord', () => {
  const ok: ProducerRecord = { topic: 't', key: bytes('k'), value: bytes('v'), headers: { h: bytes('x') }, timestamp: 0, partition: 0 };

  it('accepts well-formed records', () => {
    assert.doesNotThrow(() => assertProducerRecord(ok, 0, 100));
    assert.doesNotThrow(() => assertProducerRecord({ topic: 't', value: new Uint8Array(0) }, 0, 0));
    assert.doesNotThrow(() => assertProducerRecord({ topic: 't', key: null, value: Buffer.from('v') }, 0, 100));
  });

  it('rejects a record that is not an object with LOG_INVALID_RECORD naming its index', async () => {
    for (const r of [null, undefined, 'text', 7]) {
      await expectCode(() => assertProducerRecord(r as unknown as ProducerRecord, 3, 100), ErrorCode.LOG_INVALID_RECORD, 'record 3');
    }
  });

  it('rejects a bad topic name with LOG_INVALID_TOPIC_NAME', async () => {
    await expectCode(() => assertProducerRecord({ ...ok, topic: 'a b' }, 0, 100), ErrorCode.LOG_INVALID_TOPIC_NAME, 'a b');
  });

  it('rejects values, keys and headers that are not bytes, naming the field', async () => {
    const bad: readonly (readonly [unknown, string])[] = [
      [{ topic: 't', value: 'text' }, 'value'],
      [{ topic: 't', value: 42 }, 'value'],
      [{ topic: 't' }, 'value'],
      [{ topic: 't', value: [1, 2] }, 'value'],
      [{ topic: 't', value: new ArrayBuffer(2) }, 'value'],
      [{ topic: 't', key: 'k', value: bytes('v') }, 'key'],
      [{ topic: 't', key: 5, value: bytes('v') }, 'key'],
      [{ topic: 't', value: bytes('v'), headers: null }, 'headers'],
      [{ topic: 't', value: bytes('v'), headers: 'h' }, 'headers'],
      [{ topic: 't', value: bytes('v'), headers: { trace: 'abc' } }, "header 'trace'"],
      [{ topic: 't', value: bytes('v'), timestamp: -1 }, 'timestamp'],
      [{ topic: 't', value: bytes('v'), timestamp: 1.5 }, 'timestamp'],
      [{ topic: 't', value: bytes('v'), timestamp: Number.NaN }, 'timestamp'],
    ];
    for (const [r, field] of bad) {
      await expectCode(() => assertProducerRecord(r as ProducerRecord, 2, 100), ErrorCode.LOG_INVALID_RECORD, 'record 2', "'t'", field);
    }
  });

  it('accepts a record of exactly maxRecordBytes and rejects one byte more with LOG_RECORD_TOO_LARGE', async () => {
    assert.doesNotThrow(() => assertProducerRecord({ topic: 't', key: new Uint8Array(4), value: new Uint8Array(6) }, 0, 10));
    await expectCode(
      () => assertProducerRecord({ topic: 'big', key: new Uint8Array(4), value: new Uint8Array(7) }, 1, 10),
      ErrorCode.LOG_RECORD_TOO_LARGE,
      'record 1',
      "'big'",
      '11 bytes',
      '10',
    );
    await expectCode(
      () => assertProducerRecord({ topic: 'big', value: new Uint8Array(5), headers: { abc: new Uint8Array(3) } }, 0, 10),
      ErrorCode.LOG_RECORD_TOO_LARGE,
    );
  });
});

describe('assertOpen', () => {
  it('passes while open and throws LOG_CLOSED naming the client once closed', async () => {
    assert.doesNotThrow(() => assertOpen(false, 'producer'));
    await expectCode(() => assertOpen(true, 'consumer of group g'), ErrorCode.LOG_CLOSED, 'consumer of group g');
  });
});
